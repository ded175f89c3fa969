package imap

import "encoding/base64"

// tag reads a command tag: 1*<any ASTRING-CHAR except "+">.
func (r *reader) tag() (string, error) {
	start := r.i
	for r.i < len(r.b) && isTagChar(r.b[r.i]) {
		r.i++
	}
	if r.i == start {
		if r.atEnd() {
			return "", failf(ErrSyntax, "empty command line")
		}
		return "", r.unexpected("tag")
	}
	return string(r.b[start:r.i]), nil
}

// lookupCommand maps an upper-cased command keyword to its canonical name.
func lookupCommand(kw []byte) string {
	switch string(kw) {
	case "CAPABILITY":
		return "CAPABILITY"
	case "NOOP":
		return "NOOP"
	case "LOGOUT":
		return "LOGOUT"
	case "STARTTLS":
		return "STARTTLS"
	case "AUTHENTICATE":
		return "AUTHENTICATE"
	case "LOGIN":
		return "LOGIN"
	case "ENABLE":
		return "ENABLE"
	case "ID":
		return "ID"
	case "SELECT":
		return "SELECT"
	case "EXAMINE":
		return "EXAMINE"
	case "CREATE":
		return "CREATE"
	case "DELETE":
		return "DELETE"
	case "RENAME":
		return "RENAME"
	case "SUBSCRIBE":
		return "SUBSCRIBE"
	case "UNSUBSCRIBE":
		return "UNSUBSCRIBE"
	case "LIST":
		return "LIST"
	case "LSUB":
		return "LSUB"
	case "NAMESPACE":
		return "NAMESPACE"
	case "STATUS":
		return "STATUS"
	case "APPEND":
		return "APPEND"
	case "IDLE":
		return "IDLE"
	case "CHECK":
		return "CHECK"
	case "CLOSE":
		return "CLOSE"
	case "UNSELECT":
		return "UNSELECT"
	case "EXPUNGE":
		return "EXPUNGE"
	case "SEARCH":
		return "SEARCH"
	case "FETCH":
		return "FETCH"
	case "STORE":
		return "STORE"
	case "COPY":
		return "COPY"
	case "MOVE":
		return "MOVE"
	case "UID":
		return "UID"
	case "GETQUOTA":
		return "GETQUOTA"
	case "GETQUOTAROOT":
		return "GETQUOTAROOT"
	case "SETQUOTA":
		return "SETQUOTA"
	case "COMPRESS":
		return "COMPRESS"
	}
	return ""
}

// uidCommand maps the command after "UID" to the canonical UID name.
func uidCommand(name string) string {
	switch name {
	case "FETCH":
		return "UID FETCH"
	case "SEARCH":
		return "UID SEARCH"
	case "STORE":
		return "UID STORE"
	case "COPY":
		return "UID COPY"
	case "MOVE":
		return "UID MOVE"
	case "EXPUNGE":
		return "UID EXPUNGE"
	}
	return ""
}

// commandName reads the command keyword, and the one after UID.
func (r *reader) commandName() (string, error) {
	kw, err := r.keyword()
	if err != nil {
		return "", err
	}
	name := lookupCommand(kw)
	if name == "" {
		return "", failf(ErrUnknownCommand, "unknown command %q", safeText(string(kw)))
	}
	if name != "UID" {
		return name, nil
	}
	if err := r.sp(); err != nil {
		return "", err
	}
	if kw, err = r.keyword(); err != nil {
		return "", err
	}
	if name = uidCommand(lookupCommand(kw)); name == "" {
		return "", failf(ErrUnknownCommand, "unknown command UID %q", safeText(string(kw)))
	}
	return name, nil
}

// parseCommand parses the framed bytes of one command other than APPEND.
func (r *reader) parseCommand() (*Command, error) {
	tag, err := r.tag()
	if err != nil {
		return nil, err
	}
	cmd := &Command{Tag: tag}
	fail := func(err error) (*Command, error) {
		if pe, ok := err.(*ParseError); ok {
			pe.Tag, pe.Command = tag, cmd.Name
		}
		return nil, err
	}
	if !r.peekIs(' ') && !r.atEnd() {
		// Not a tag the client meant: answer untagged.
		return nil, r.unexpected("space after tag")
	}
	if err := r.sp(); err != nil {
		return fail(err)
	}
	if cmd.Name, err = r.commandName(); err != nil {
		return fail(err)
	}
	if cmd.Args, err = r.args(cmd.Name); err != nil {
		return fail(err)
	}
	return cmd, nil
}

func (r *reader) args(name string) (Args, error) {
	switch name {
	case "CAPABILITY":
		return &CapabilityCommand{}, r.end()
	case "NOOP":
		return &NoopCommand{}, r.end()
	case "LOGOUT":
		return &LogoutCommand{}, r.end()
	case "STARTTLS":
		return &StartTLSCommand{}, r.end()
	case "NAMESPACE":
		return &NamespaceCommand{}, r.end()
	case "IDLE":
		return &IdleCommand{}, r.end()
	case "CHECK":
		return &CheckCommand{}, r.end()
	case "CLOSE":
		return &CloseCommand{}, r.end()
	case "UNSELECT":
		return &UnselectCommand{}, r.end()
	case "EXPUNGE":
		return &ExpungeCommand{}, r.end()
	case "UID EXPUNGE":
		return r.uidExpunge()
	case "AUTHENTICATE":
		return r.authenticate()
	case "LOGIN":
		return r.login()
	case "ENABLE":
		return r.enable()
	case "ID":
		return r.id()
	case "SELECT", "EXAMINE":
		return r.selectCmd(name == "EXAMINE")
	case "CREATE":
		return r.create()
	case "DELETE":
		mbox, err := r.mailboxArg()
		return &DeleteCommand{Mailbox: mbox}, err
	case "SUBSCRIBE":
		mbox, err := r.mailboxArg()
		return &SubscribeCommand{Mailbox: mbox}, err
	case "UNSUBSCRIBE":
		mbox, err := r.mailboxArg()
		return &UnsubscribeCommand{Mailbox: mbox}, err
	case "GETQUOTAROOT":
		mbox, err := r.mailboxArg()
		return &GetQuotaRootCommand{Mailbox: mbox}, err
	case "RENAME":
		return r.rename()
	case "LIST":
		return r.list(false)
	case "LSUB":
		return r.list(true)
	case "STATUS":
		return r.status()
	case "APPEND":
		return nil, failf(ErrSyntax, "APPEND without message literal")
	case "SEARCH", "UID SEARCH":
		return r.search(name == "UID SEARCH")
	case "FETCH", "UID FETCH":
		return r.fetch(name == "UID FETCH")
	case "STORE", "UID STORE":
		return r.store(name == "UID STORE")
	case "COPY", "UID COPY":
		set, mbox, err := r.seqSetMailbox()
		return &CopyCommand{UID: name == "UID COPY", SeqSet: set, Mailbox: mbox}, err
	case "MOVE", "UID MOVE":
		set, mbox, err := r.seqSetMailbox()
		return &MoveCommand{UID: name == "UID MOVE", SeqSet: set, Mailbox: mbox}, err
	case "GETQUOTA":
		return r.getQuota()
	case "SETQUOTA":
		return r.setQuota()
	case "COMPRESS":
		return r.compress()
	}
	return nil, failf(ErrUnknownCommand, "unknown command %q", name)
}

// mailboxArg reads SP mailbox and the end of the command.
func (r *reader) mailboxArg() (string, error) {
	if err := r.sp(); err != nil {
		return "", err
	}
	mbox, err := r.mailbox()
	if err != nil {
		return "", err
	}
	return mbox, r.end()
}

func (r *reader) seqSetMailbox() (SeqSet, string, error) {
	if err := r.sp(); err != nil {
		return SeqSet{}, "", err
	}
	set, err := r.seqSet()
	if err != nil {
		return SeqSet{}, "", err
	}
	mbox, err := r.mailboxArg()
	return set, mbox, err
}

func (r *reader) uidExpunge() (*ExpungeCommand, error) {
	if err := r.sp(); err != nil {
		return nil, err
	}
	set, err := r.seqSet()
	if err != nil {
		return nil, err
	}
	return &ExpungeCommand{UID: true, UIDs: set}, r.end()
}

func (r *reader) authenticate() (*AuthenticateCommand, error) {
	if err := r.sp(); err != nil {
		return nil, err
	}
	mech, err := r.atom()
	if err != nil {
		return nil, err
	}
	cmd := &AuthenticateCommand{Mechanism: upperString(mech)}
	if r.atEnd() {
		return cmd, r.end()
	}
	if err := r.sp(); err != nil {
		return nil, err
	}
	start := r.i
	for r.i < len(r.b) && isBase64Char(r.b[r.i]) {
		r.i++
	}
	ir := r.b[start:r.i]
	if len(ir) == 0 {
		return nil, r.unexpected("initial response")
	}
	cmd.HasInitialResponse = true
	if len(ir) == 1 && ir[0] == '=' {
		cmd.InitialResponse = []byte{}
		return cmd, r.end()
	}
	if cmd.InitialResponse, err = decodeBase64(ir); err != nil {
		return nil, err
	}
	return cmd, r.end()
}

func isBase64Char(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '='
}

func decodeBase64(b []byte) ([]byte, error) {
	out := make([]byte, base64.StdEncoding.DecodedLen(len(b)))
	n, err := base64.StdEncoding.Decode(out, b)
	if err != nil {
		return nil, &ParseError{Err: ErrBase64, Msg: "invalid base64"}
	}
	return out[:n], nil
}

func (r *reader) login() (*LoginCommand, error) {
	if err := r.sp(); err != nil {
		return nil, err
	}
	user, err := r.astring()
	if err != nil {
		return nil, err
	}
	if err := r.sp(); err != nil {
		return nil, err
	}
	pass, err := r.astring()
	if err != nil {
		return nil, err
	}
	return &LoginCommand{Username: user, Password: pass}, r.end()
}

func (r *reader) enable() (*EnableCommand, error) {
	cmd := &EnableCommand{}
	for {
		if err := r.sp(); err != nil {
			return nil, err
		}
		a, err := r.atom()
		if err != nil {
			return nil, err
		}
		cmd.Capabilities = append(cmd.Capabilities, upperString(a))
		if r.atEnd() {
			return cmd, r.end()
		}
	}
}

func (r *reader) id() (*IDCommand, error) {
	if err := r.sp(); err != nil {
		return nil, err
	}
	if !r.peekIs('(') {
		_, isNil, err := r.nstring()
		if err != nil {
			return nil, err
		}
		if !isNil {
			return nil, failf(ErrSyntax, "ID expects a list or NIL")
		}
		return &IDCommand{}, r.end()
	}
	r.i++
	cmd := &IDCommand{Fields: []IDField{}}
	for !r.peekIs(')') {
		if len(cmd.Fields) > 0 {
			if err := r.sp(); err != nil {
				return nil, err
			}
		}
		name, err := r.str()
		if err != nil {
			return nil, err
		}
		if err := r.sp(); err != nil {
			return nil, err
		}
		val, isNil, err := r.nstring()
		if err != nil {
			return nil, err
		}
		cmd.Fields = append(cmd.Fields, IDField{Name: string(name), Value: string(val), ValueNil: isNil})
	}
	r.i++
	return cmd, r.end()
}

func (r *reader) selectCmd(readOnly bool) (*SelectCommand, error) {
	if err := r.sp(); err != nil {
		return nil, err
	}
	mbox, err := r.mailbox()
	if err != nil {
		return nil, err
	}
	cmd := &SelectCommand{Mailbox: mbox, ReadOnly: readOnly}
	if r.atEnd() {
		return cmd, r.end()
	}
	if err := r.sp(); err != nil {
		return nil, err
	}
	if err := r.expect('('); err != nil {
		return nil, err
	}
	for {
		kw, err := r.keyword()
		if err != nil {
			return nil, err
		}
		switch string(kw) {
		case "CONDSTORE":
			cmd.CondStore = true
		case "QRESYNC":
			if cmd.QResync != nil {
				return nil, failf(ErrSyntax, "QRESYNC given twice")
			}
			if cmd.QResync, err = r.qresync(); err != nil {
				return nil, err
			}
		default:
			return nil, failf(ErrSyntax, "unknown select parameter %q", safeText(string(kw)))
		}
		if r.peekIs(')') {
			r.i++
			return cmd, r.end()
		}
		if err := r.sp(); err != nil {
			return nil, err
		}
	}
}

// qresync reads SP "(" uidvalidity SP modseq [SP known-uids]
// [SP seq-match-data] ")" of RFC 7162.
func (r *reader) qresync() (*QResyncParams, error) {
	if err := r.sp(); err != nil {
		return nil, err
	}
	if err := r.expect('('); err != nil {
		return nil, err
	}
	q := &QResyncParams{}
	var err error
	if q.UIDValidity, err = r.nzNumber(); err != nil {
		return nil, err
	}
	if err := r.sp(); err != nil {
		return nil, err
	}
	if q.ModSeq, err = r.number64(); err != nil {
		return nil, err
	}
	if q.ModSeq == 0 {
		return nil, failf(ErrSyntax, "QRESYNC mod-sequence must be positive")
	}
	if r.peekIs(' ') {
		r.i++
		if !r.peekIs('(') {
			if q.KnownUIDs, err = r.seqSet(); err != nil {
				return nil, err
			}
			if r.peekIs(' ') {
				r.i++
				if !r.peekIs('(') {
					return nil, r.unexpected("sequence match data")
				}
			}
		}
		if r.peekIs('(') {
			r.i++
			if q.SeqMatchSeqs, err = r.seqSet(); err != nil {
				return nil, err
			}
			if err := r.sp(); err != nil {
				return nil, err
			}
			if q.SeqMatchUIDs, err = r.seqSet(); err != nil {
				return nil, err
			}
			if err := r.expect(')'); err != nil {
				return nil, err
			}
		}
	}
	return q, r.expect(')')
}

func (r *reader) create() (*CreateCommand, error) {
	if err := r.sp(); err != nil {
		return nil, err
	}
	mbox, err := r.mailbox()
	if err != nil {
		return nil, err
	}
	cmd := &CreateCommand{Mailbox: mbox}
	if r.atEnd() {
		return cmd, r.end()
	}
	if err := r.sp(); err != nil {
		return nil, err
	}
	if err := r.expect('('); err != nil {
		return nil, err
	}
	for {
		kw, err := r.keyword()
		if err != nil {
			return nil, err
		}
		if string(kw) != "USE" {
			return nil, failf(ErrSyntax, "unknown create parameter %q", safeText(string(kw)))
		}
		if err := r.sp(); err != nil {
			return nil, err
		}
		if err := r.expect('('); err != nil {
			return nil, err
		}
		for n := 0; !r.peekIs(')'); n++ {
			if n > 0 {
				if err := r.sp(); err != nil {
					return nil, err
				}
			}
			if !r.peekIs('\\') {
				return nil, r.unexpected(`\ use attribute`)
			}
			f, err := r.flag()
			if err != nil {
				return nil, err
			}
			cmd.SpecialUse = append(cmd.SpecialUse, canonicalUseAttr(f))
		}
		r.i++
		if r.peekIs(')') {
			r.i++
			return cmd, r.end()
		}
		if err := r.sp(); err != nil {
			return nil, err
		}
	}
}

// canonicalUseAttr spells the special-use attributes of RFC 6154 (and
// \Important of RFC 8457) canonically.
func canonicalUseAttr(f string) string {
	for _, a := range [...]string{`\All`, `\Archive`, `\Drafts`, `\Flagged`, `\Junk`, `\Sent`, `\Trash`, `\Important`} {
		if len(a) == len(f) && equalFoldASCII(a, f) {
			return a
		}
	}
	return f
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x >= 'a' && x <= 'z' {
			x -= 'a' - 'A'
		}
		if y >= 'a' && y <= 'z' {
			y -= 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func (r *reader) rename() (*RenameCommand, error) {
	if err := r.sp(); err != nil {
		return nil, err
	}
	from, err := r.mailbox()
	if err != nil {
		return nil, err
	}
	to, err := r.mailboxArg()
	if err != nil {
		return nil, err
	}
	return &RenameCommand{Mailbox: from, NewName: to}, nil
}

func (r *reader) list(lsub bool) (*ListCommand, error) {
	cmd := &ListCommand{LSub: lsub}
	if err := r.sp(); err != nil {
		return nil, err
	}
	if !lsub && r.peekIs('(') {
		r.i++
		cmd.Extended = true
		for !r.peekIs(')') {
			kw, err := r.keyword()
			if err != nil {
				return nil, err
			}
			switch string(kw) {
			case "SUBSCRIBED":
				cmd.Select.Subscribed = true
			case "REMOTE":
				cmd.Select.Remote = true
			case "RECURSIVEMATCH":
				cmd.Select.RecursiveMatch = true
			case "SPECIAL-USE":
				cmd.Select.SpecialUse = true
			default:
				return nil, failf(ErrSyntax, "unknown LIST selection option %q", safeText(string(kw)))
			}
			if !r.peekIs(')') {
				if err := r.sp(); err != nil {
					return nil, err
				}
			}
		}
		r.i++
		if err := r.sp(); err != nil {
			return nil, err
		}
		// RFC 5258 section 3: RECURSIVEMATCH needs an option to recurse on.
		if cmd.Select.RecursiveMatch && !cmd.Select.Subscribed && !cmd.Select.SpecialUse {
			return nil, failf(ErrSyntax, "RECURSIVEMATCH without another selection option")
		}
	}
	var err error
	if cmd.Reference, err = r.mailbox(); err != nil {
		return nil, err
	}
	if err := r.sp(); err != nil {
		return nil, err
	}
	if !lsub && r.peekIs('(') {
		r.i++
		cmd.Extended = true
		for {
			pat, err := r.listMailbox()
			if err != nil {
				return nil, err
			}
			cmd.Patterns = append(cmd.Patterns, pat)
			if r.peekIs(')') {
				r.i++
				break
			}
			if err := r.sp(); err != nil {
				return nil, err
			}
		}
	} else {
		pat, err := r.listMailbox()
		if err != nil {
			return nil, err
		}
		cmd.Patterns = []string{pat}
	}
	if lsub || r.atEnd() {
		return cmd, r.end()
	}
	if err := r.sp(); err != nil {
		return nil, err
	}
	kw, err := r.keyword()
	if err != nil {
		return nil, err
	}
	if string(kw) != "RETURN" {
		return nil, failf(ErrSyntax, "expected RETURN")
	}
	cmd.Extended = true
	if err := r.sp(); err != nil {
		return nil, err
	}
	if err := r.expect('('); err != nil {
		return nil, err
	}
	for !r.peekIs(')') {
		kw, err := r.keyword()
		if err != nil {
			return nil, err
		}
		switch string(kw) {
		case "SUBSCRIBED":
			cmd.Return.Subscribed = true
		case "CHILDREN":
			cmd.Return.Children = true
		case "SPECIAL-USE":
			cmd.Return.SpecialUse = true
		case "STATUS":
			if err := r.sp(); err != nil {
				return nil, err
			}
			if cmd.Return.Status, err = r.statusItems(); err != nil {
				return nil, err
			}
		default:
			return nil, failf(ErrSyntax, "unknown LIST return option %q", safeText(string(kw)))
		}
		if !r.peekIs(')') {
			if err := r.sp(); err != nil {
				return nil, err
			}
		}
	}
	r.i++
	return cmd, r.end()
}

func (r *reader) status() (*StatusCommand, error) {
	if err := r.sp(); err != nil {
		return nil, err
	}
	mbox, err := r.mailbox()
	if err != nil {
		return nil, err
	}
	if err := r.sp(); err != nil {
		return nil, err
	}
	items, err := r.statusItems()
	if err != nil {
		return nil, err
	}
	return &StatusCommand{Mailbox: mbox, Items: items}, r.end()
}

// statusItems reads "(" status-att *(SP status-att) ")".
func (r *reader) statusItems() ([]StatusItem, error) {
	if err := r.expect('('); err != nil {
		return nil, err
	}
	var items []StatusItem
	for {
		kw, err := r.keyword()
		if err != nil {
			return nil, err
		}
		var it StatusItem
		for i, n := range statusItemNames {
			if n != "" && n == string(kw) {
				it = StatusItem(i)
			}
		}
		if it == 0 {
			return nil, failf(ErrSyntax, "unknown status item %q", safeText(string(kw)))
		}
		items = append(items, it)
		if r.peekIs(')') {
			r.i++
			return items, nil
		}
		if err := r.sp(); err != nil {
			return nil, err
		}
	}
}

func (r *reader) store(uid bool) (*StoreCommand, error) {
	if err := r.sp(); err != nil {
		return nil, err
	}
	set, err := r.seqSet()
	if err != nil {
		return nil, err
	}
	cmd := &StoreCommand{UID: uid, SeqSet: set}
	if err := r.sp(); err != nil {
		return nil, err
	}
	if r.peekIs('(') {
		r.i++
		for {
			kw, err := r.keyword()
			if err != nil {
				return nil, err
			}
			if string(kw) != "UNCHANGEDSINCE" || cmd.HasUnchangedSince {
				return nil, failf(ErrSyntax, "unknown or repeated STORE modifier %q", safeText(string(kw)))
			}
			if err := r.sp(); err != nil {
				return nil, err
			}
			if cmd.UnchangedSince, err = r.number64(); err != nil {
				return nil, err
			}
			cmd.HasUnchangedSince = true
			if r.peekIs(')') {
				r.i++
				break
			}
			if err := r.sp(); err != nil {
				return nil, err
			}
		}
		if err := r.sp(); err != nil {
			return nil, err
		}
	}
	kw, err := r.keyword()
	if err != nil {
		return nil, err
	}
	switch string(kw) {
	case "FLAGS":
		cmd.Mode = StoreReplace
	case "FLAGS.SILENT":
		cmd.Mode, cmd.Silent = StoreReplace, true
	case "+FLAGS":
		cmd.Mode = StoreAdd
	case "+FLAGS.SILENT":
		cmd.Mode, cmd.Silent = StoreAdd, true
	case "-FLAGS":
		cmd.Mode = StoreRemove
	case "-FLAGS.SILENT":
		cmd.Mode, cmd.Silent = StoreRemove, true
	default:
		return nil, failf(ErrSyntax, "unknown STORE item %q", safeText(string(kw)))
	}
	if err := r.sp(); err != nil {
		return nil, err
	}
	if r.peekIs('(') {
		if cmd.Flags, err = r.flagList(); err != nil {
			return nil, err
		}
		return cmd, r.end()
	}
	for {
		f, err := r.flag()
		if err != nil {
			return nil, err
		}
		cmd.Flags = append(cmd.Flags, f)
		if r.atEnd() {
			return cmd, r.end()
		}
		if err := r.sp(); err != nil {
			return nil, err
		}
	}
}

func (r *reader) getQuota() (*GetQuotaCommand, error) {
	if err := r.sp(); err != nil {
		return nil, err
	}
	root, err := r.astring()
	if err != nil {
		return nil, err
	}
	return &GetQuotaCommand{Root: root}, r.end()
}

func (r *reader) setQuota() (*SetQuotaCommand, error) {
	if err := r.sp(); err != nil {
		return nil, err
	}
	root, err := r.astring()
	if err != nil {
		return nil, err
	}
	if err := r.sp(); err != nil {
		return nil, err
	}
	if err := r.expect('('); err != nil {
		return nil, err
	}
	cmd := &SetQuotaCommand{Root: root, Limits: []QuotaLimit{}}
	for !r.peekIs(')') {
		if len(cmd.Limits) > 0 {
			if err := r.sp(); err != nil {
				return nil, err
			}
		}
		res, err := r.atom()
		if err != nil {
			return nil, err
		}
		if err := r.sp(); err != nil {
			return nil, err
		}
		limit, err := r.number64()
		if err != nil {
			return nil, err
		}
		cmd.Limits = append(cmd.Limits, QuotaLimit{Resource: upperString(res), Limit: limit})
	}
	r.i++
	return cmd, r.end()
}

func (r *reader) compress() (*CompressCommand, error) {
	if err := r.sp(); err != nil {
		return nil, err
	}
	mech, err := r.atom()
	if err != nil {
		return nil, err
	}
	return &CompressCommand{Mechanism: upperString(mech)}, r.end()
}

// appendStart reads "tag SP APPEND SP mailbox" at the start of an APPEND.
func (r *reader) appendStart() (tag, mailbox string, err error) {
	if tag, err = r.tag(); err != nil {
		return "", "", err
	}
	if err = r.sp(); err != nil {
		return tag, "", err
	}
	name, err := r.commandName()
	if err != nil {
		return tag, "", err
	}
	if name != "APPEND" {
		return tag, "", failf(ErrSyntax, "not APPEND")
	}
	if err = r.sp(); err != nil {
		return tag, "", err
	}
	mailbox, err = r.mailbox()
	return tag, mailbox, err
}

// appendMessage reads the options of one APPEND message up to and including
// its literal announcement: [SP flag-list] [SP date-time] SP literal, where
// the literal may be "~{n}" (BINARY) or "UTF8 (~{n}" (RFC 6855, whose
// closing parenthesis follows the data). It returns the literal size and
// whether it was non-synchronizing.
func (r *reader) appendMessage() (msg AppendMessage, size uint64, nonSync bool, err error) {
	if err = r.sp(); err != nil {
		return
	}
	if r.peekIs('(') {
		if msg.Flags, err = r.flagList(); err != nil {
			return
		}
		if err = r.sp(); err != nil {
			return
		}
	}
	if r.peekIs('"') {
		if msg.Date, err = r.dateTime(); err != nil {
			return
		}
		if err = r.sp(); err != nil {
			return
		}
	}
	if c, ok := r.peek(); ok && (c == 'U' || c == 'u') {
		var kw []byte
		if kw, err = r.keyword(); err != nil {
			return
		}
		if string(kw) != "UTF8" {
			err = failf(ErrSyntax, "unknown APPEND data %q", safeText(string(kw)))
			return
		}
		if err = r.sp(); err != nil {
			return
		}
		if err = r.expect('('); err != nil {
			return
		}
		if !r.peekIs('~') {
			err = r.unexpected("literal8")
			return
		}
		msg.UTF8 = true
	}
	if r.peekIs('~') {
		msg.Binary = true
		r.i++
	}
	if size, nonSync, err = r.literalHeader(); err != nil {
		return
	}
	if r.i != len(r.b) {
		err = failf(ErrSyntax, "data after literal announcement")
	}
	return
}
