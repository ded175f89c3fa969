package imap

// Cross-checks against an independent implementation: emersion/go-imap
// v2's client writes commands that this parser must read right, and reads
// responses that this writer produced.

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
)

const crossCaps = "IMAP4rev1 UTF8=ACCEPT LITERAL+ SASL-IR ENABLE CONDSTORE ESEARCH SEARCHRES MOVE UIDPLUS ID NAMESPACE QUOTA " +
	"LIST-EXTENDED LIST-STATUS SPECIAL-USE CREATE-SPECIAL-USE BINARY UNSELECT IDLE STATUS=SIZE APPENDLIMIT AUTH=PLAIN"

// crossServer serves one client connection with the package's parser and
// writer; respond writes the untagged data a command needs.
type crossServer struct {
	t       *testing.T
	conn    net.Conn
	respond func(w *Writer, cmd *Command)

	mu       sync.Mutex
	commands []*Command
	errs     []error
	appended [][]byte
	done     chan struct{}
}

func startCrossServer(t *testing.T, respond func(w *Writer, cmd *Command)) (*crossServer, *imapclient.Client) {
	srvConn, cliConn := net.Pipe()
	s := &crossServer{t: t, conn: srvConn, respond: respond, done: make(chan struct{})}
	go s.serve()
	c := imapclient.New(cliConn, nil)
	t.Cleanup(func() {
		c.Close()
		srvConn.Close()
		<-s.done
	})
	if err := c.WaitGreeting(); err != nil {
		t.Fatal(err)
	}
	return s, c
}

func (s *crossServer) serve() {
	defer close(s.done)
	bw := bufio.NewWriter(s.conn)
	w := NewWriter(bw)
	p := NewParser(Options{})
	_ = w.OK("", CodeCapability(strings.Fields(crossCaps)...), "ready")
	_ = bw.Flush()
	buf := make([]byte, 4096)
	var msg *bytes.Buffer
	for {
		n, err := s.conn.Read(buf)
		if err != nil {
			return
		}
		p.Feed(buf[:n])
		for {
			ev, err := p.Next()
			if err != nil {
				s.mu.Lock()
				s.errs = append(s.errs, err)
				s.mu.Unlock()
				var pe *ParseError
				if errors.As(err, &pe) {
					_ = w.RejectCommand(pe)
				}
				continue
			}
			if ev.Kind == EventNeedMore {
				break
			}
			switch ev.Kind {
			case EventLiteral:
				p.Accept()
				_ = w.Continue("Ready")
			case EventAppendMessage:
				msg = new(bytes.Buffer)
				if ev.Literal.Sync {
					p.Accept()
					_ = w.Continue("Ready")
				}
			case EventAppendData:
				msg.Write(ev.Data)
			case EventAppendMessageEnd:
				s.mu.Lock()
				s.appended = append(s.appended, msg.Bytes())
				s.mu.Unlock()
			case EventDone:
				_ = w.OK(ev.Tag, "", "IDLE terminated")
			case EventAuthResponse:
				_ = w.OK(ev.Tag, "", "authenticated")
			case EventCommand:
				// The client asks for capabilities on its own after
				// authenticating; keep them out of the record.
				if ev.Name != "CAPABILITY" {
					s.mu.Lock()
					s.commands = append(s.commands, ev.Command)
					s.mu.Unlock()
				}
				s.handle(p, w, ev.Command)
			}
		}
		if err := bw.Flush(); err != nil {
			return
		}
	}
}

func (s *crossServer) handle(p *Parser, w *Writer, cmd *Command) {
	switch args := cmd.Args.(type) {
	case *IdleCommand:
		_ = w.Continue("idling")
		p.ExpectDone()
		return
	case *AuthenticateCommand:
		if !args.HasInitialResponse {
			_ = w.ContinueBase64(nil)
			p.ExpectAuthResponse()
			return
		}
	case *CapabilityCommand:
		_ = w.Capability(strings.Fields(crossCaps)...)
	case *EnableCommand:
		for _, c := range args.Capabilities {
			if c == "UTF8=ACCEPT" {
				p.SetUTF8(true)
				w.SetUTF8(true)
				_ = w.Enabled(c)
			}
		}
	case *LogoutCommand:
		_ = w.Bye("", "bye")
	}
	if s.respond != nil {
		s.respond(w, cmd)
	}
	_ = w.OK(cmd.Tag, "", cmd.Name+" completed")
}

func (s *crossServer) last(t *testing.T) *Command {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.errs) > 0 {
		t.Fatalf("server refused commands: %v", s.errs)
	}
	if len(s.commands) == 0 {
		t.Fatal("no command received")
	}
	return s.commands[len(s.commands)-1]
}

func TestCrossCheckCommands(t *testing.T) {
	srv, c := startCrossServer(t, func(w *Writer, cmd *Command) {
		switch cmd.Name {
		case "SEARCH", "UID SEARCH":
			_ = w.ESearch(&ESearchData{Tag: cmd.Tag, UID: cmd.Name == "UID SEARCH", Min: 2, Max: 9, Count: 3, HasCount: true})
		}
	})
	check := func(what string, err error, want Args) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got := srv.last(t).Args; !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
		}
	}
	uids := func(s string) goimap.UIDSet {
		var set goimap.UIDSet
		for _, r := range seq(s).Ranges {
			set.AddRange(goimap.UID(r.Start), goimap.UID(r.Stop))
		}
		return set
	}

	check("AUTHENTICATE", c.Authenticate(sasl.NewPlainClient("", "bob", "s3 cret")),
		&AuthenticateCommand{Mechanism: "PLAIN", InitialResponse: []byte("\x00bob\x00s3 cret"), HasInitialResponse: true})
	check("LOGIN", c.Login("bob@example.org", `pa"ss\word`).Wait(), &LoginCommand{Username: "bob@example.org", Password: `pa"ss\word`})
	check("CREATE", c.Create("Entwürfe/台北", &goimap.CreateOptions{SpecialUse: []goimap.MailboxAttr{goimap.MailboxAttrDrafts}}).Wait(),
		&CreateCommand{Mailbox: "Entwürfe/台北", SpecialUse: []string{`\Drafts`}})
	check("RENAME", c.Rename("a & b", "c", nil).Wait(), &RenameCommand{Mailbox: "a & b", NewName: "c"})
	check("DELETE", c.Delete("c").Wait(), &DeleteCommand{Mailbox: "c"})
	check("SUBSCRIBE", c.Subscribe("Sent Items").Wait(), &SubscribeCommand{Mailbox: "Sent Items"})
	check("UNSUBSCRIBE", c.Unsubscribe("inbox").Wait(), &UnsubscribeCommand{Mailbox: "INBOX"})
	_, err := c.Select("INBOX", &goimap.SelectOptions{CondStore: true}).Wait()
	check("SELECT", err, &SelectCommand{Mailbox: "INBOX", CondStore: true})

	_, err = c.Fetch(uids("1:*"), &goimap.FetchOptions{
		Flags: true, Envelope: true, InternalDate: true, RFC822Size: true, UID: true, ModSeq: true,
		BodyStructure: &goimap.FetchItemBodyStructure{Extended: true},
		BodySection: []*goimap.FetchItemBodySection{
			{Specifier: goimap.PartSpecifierHeader, HeaderFields: []string{"From", "Subject"}, Peek: true},
			{Part: []int{1, 2}, Specifier: goimap.PartSpecifierMIME},
			{Part: []int{3}, Partial: &goimap.SectionPartial{Offset: 10, Size: 20}},
			{Specifier: goimap.PartSpecifierHeader, HeaderFieldsNot: []string{"Received"}},
		},
		BinarySection:     []*goimap.FetchItemBinarySection{{Part: []int{2}, Peek: true}},
		BinarySectionSize: []*goimap.FetchItemBinarySectionSize{{Part: []int{2}}},
		ChangedSince:      42,
	}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	fc := srv.last(t).Args.(*FetchCommand)
	if !fc.UID || fc.SeqSet.String() != "1:*" || fc.ChangedSince != 42 {
		t.Errorf("FETCH: %+v", fc)
	}
	var items []string
	for _, it := range fc.Items {
		items = append(items, it.String())
	}
	for _, want := range []string{"UID", "FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODYSTRUCTURE", "MODSEQ",
		"BODY.PEEK[HEADER.FIELDS (From Subject)]", "BODY[1.2.MIME]", "BODY[3]<10.20>", "BODY[HEADER.FIELDS.NOT (Received)]",
		"BINARY.PEEK[2]", "BINARY.SIZE[2]"} {
		if !strings.Contains(" "+strings.Join(items, " ")+" ", " "+want+" ") {
			t.Errorf("FETCH items %q lack %s", items, want)
		}
	}

	check("STORE", c.Store(uids("4:7,9"), &goimap.StoreFlags{Op: goimap.StoreFlagsAdd, Silent: true, Flags: []goimap.Flag{goimap.FlagSeen, "$Label1"}},
		&goimap.StoreOptions{UnchangedSince: 12}).Close(),
		&StoreCommand{UID: true, SeqSet: seq("4:7,9"), Mode: StoreAdd, Silent: true, Flags: []string{FlagSeen, "$Label1"}, UnchangedSince: 12, HasUnchangedSince: true})
	check("STORE -FLAGS", c.Store(goimap.SeqSetNum(1), &goimap.StoreFlags{Op: goimap.StoreFlagsDel, Flags: []goimap.Flag{goimap.FlagDeleted}}, nil).Close(),
		&StoreCommand{SeqSet: seq("1"), Mode: StoreRemove, Flags: []string{FlagDeleted}})

	since := time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)
	data, err := c.UIDSearch(&goimap.SearchCriteria{
		Since:   since,
		Header:  []goimap.SearchCriteriaHeaderField{{Key: "From", Value: "alice"}, {Key: "X-Spam", Value: "yes no"}},
		Body:    []string{"naïve café"},
		Flag:    []goimap.Flag{goimap.FlagFlagged},
		NotFlag: []goimap.Flag{goimap.FlagSeen},
		Larger:  1000,
		Not:     []goimap.SearchCriteria{{Text: []string{"spam"}}},
		Or:      [][2]goimap.SearchCriteria{{{Smaller: 10}, {UID: []goimap.UIDSet{uids("5:*")}}}},
		ModSeq:  &goimap.SearchCriteriaModSeq{ModSeq: 99},
	}, &goimap.SearchOptions{ReturnMin: true, ReturnMax: true, ReturnCount: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if data.Min != 2 || data.Max != 9 || data.Count != 3 {
		t.Errorf("ESEARCH read back as %+v", data)
	}
	sc := srv.last(t).Args.(*SearchCommand)
	if !sc.UID || !sc.Return.Set || !sc.Return.Min || !sc.Return.Max || !sc.Return.Count || sc.Return.All {
		t.Errorf("SEARCH return: %+v", sc.Return)
	}
	crit := sc.Criteria.String()
	for _, want := range []string{"SINCE 29-Feb-2024", "FROM alice", `HEADER X-Spam "yes no"`, "BODY", "FLAGGED", "UNSEEN",
		"LARGER 1000", "NOT TEXT spam", "OR SMALLER 10 UID 5:*", "MODSEQ 99"} {
		if !strings.Contains(crit, want) {
			t.Errorf("criteria %s lack %s", crit, want)
		}
	}
	var body string
	var walk func(k *SearchKey)
	walk = func(k *SearchKey) {
		if k.Op == SearchBody {
			body = k.Value
		}
		for _, ch := range k.Children {
			walk(ch)
		}
	}
	walk(sc.Criteria)
	if body != "naïve café" {
		t.Errorf("BODY value %q", body)
	}

	_, err = c.Copy(goimap.SeqSetNum(1, 2, 3), "Archive").Wait()
	check("COPY", err, &CopyCommand{SeqSet: seq("1:3"), Mailbox: "Archive"})
	_, err = c.Move(uids("7"), "Trash").Wait()
	check("MOVE", err, &MoveCommand{UID: true, SeqSet: seq("7"), Mailbox: "Trash"})
	check("UID EXPUNGE", c.UIDExpunge(uids("3:4")).Close(), &ExpungeCommand{UID: true, UIDs: seq("3:4")})
	check("EXPUNGE", c.Expunge().Close(), &ExpungeCommand{})
	check("UNSELECT", c.Unselect().Wait(), &UnselectCommand{})
	check("NOOP", c.Noop().Wait(), &NoopCommand{})

	idle, err := c.Idle()
	if err != nil {
		t.Fatal(err)
	}
	if err := idle.Close(); err != nil {
		t.Fatal(err)
	}
	if err := idle.Wait(); err != nil {
		t.Fatal(err)
	}

	check("SETQUOTA", c.SetQuota("", map[goimap.QuotaResourceType]int64{goimap.QuotaResourceStorage: 512}).Wait(),
		&SetQuotaCommand{Root: "", Limits: []QuotaLimit{{Resource: "STORAGE", Limit: 512}}})
	check("LOGOUT", c.Logout().Wait(), &LogoutCommand{})
}

func TestCrossCheckAppend(t *testing.T) {
	srv, c := startCrossServer(t, nil)
	if err := c.Login("u", "p").Wait(); err != nil {
		t.Fatal(err)
	}
	date := time.Date(2024, 5, 6, 7, 8, 9, 0, time.FixedZone("", 2*3600))
	for _, size := range []int{0, 1, 4096, 300_000} {
		unit := []byte("Subject: x\r\n\r\nline of text\r\n")
		msg := bytes.Repeat(unit, size/len(unit)+1)[:size]
		cmd := c.Append("Drafts", int64(len(msg)), &goimap.AppendOptions{Flags: []goimap.Flag{goimap.FlagDraft}, Time: date})
		if _, err := cmd.Write(msg); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := cmd.Wait(); err != nil {
			t.Fatal(err)
		}
		ac := srv.last(t).Args.(*AppendCommand)
		if ac.Mailbox != "Drafts" || len(ac.Messages) != 1 || ac.Messages[0].Size != int64(size) ||
			!ac.Messages[0].Date.Equal(date) || !reflect.DeepEqual(ac.Messages[0].Flags, []string{FlagDraft}) {
			t.Errorf("APPEND %d: %+v", size, ac)
		}
		srv.mu.Lock()
		got := srv.appended[len(srv.appended)-1]
		srv.mu.Unlock()
		if !bytes.Equal(got, msg) {
			t.Errorf("APPEND %d: received %d bytes that differ", size, len(got))
		}
	}
}

func TestCrossCheckResponses(t *testing.T) {
	env := rfc3501Envelope()
	env.Subject = "=?utf-8?q?Gr=C3=BC=C3=9Fe?="
	env.To = append(env.To, GroupStart("friends"), Address{Name: "Ann", Mailbox: "ann", Host: "x.org"}, GroupEnd())
	bs := &BodyStructure{Type: "MULTIPART", Subtype: "MIXED", Params: []BodyParam{{"BOUNDARY", "b1"}},
		Parts: []*BodyStructure{
			{Type: "TEXT", Subtype: "PLAIN", Params: []BodyParam{{"CHARSET", "UTF-8"}}, Encoding: "QUOTED-PRINTABLE", Size: 120, Lines: 4},
			{Type: "MESSAGE", Subtype: "RFC822", Size: 900, Lines: 20, Envelope: env,
				Message: &BodyStructure{Type: "TEXT", Subtype: "HTML", Size: 700, Lines: 15}},
			{Type: "APPLICATION", Subtype: "PDF", Params: []BodyParam{{"NAME", "a b.pdf"}}, Encoding: "BASE64", Size: 4000,
				Disposition: "attachment", DispositionParams: []BodyParam{{"FILENAME", "a b.pdf"}}, Language: []string{"en"}},
		}}
	internal := time.Date(2023, 11, 2, 14, 5, 6, 0, time.FixedZone("", -5*3600))
	header := "From: Terry Gray <gray@cac.washington.edu>\r\nSubject: hi\r\n\r\n"
	_, c := startCrossServer(t, func(w *Writer, cmd *Command) {
		switch args := cmd.Args.(type) {
		case *SelectCommand:
			_ = w.Flags([]string{FlagAnswered, FlagFlagged, FlagDeleted, FlagSeen, FlagDraft})
			_ = w.Exists(172)
			_ = w.OK("", CodeUIDValidity(3857529045), "UIDs valid")
			_ = w.OK("", CodeUIDNext(4392), "Predicted next UID")
			_ = w.OK("", CodePermanentFlags([]string{FlagDeleted, FlagSeen, `\*`}), "Limited")
			_ = w.OK("", CodeHighestModSeq(715194045007), "Highest")
		case *ListCommand:
			_ = w.List(&ListData{Attrs: []string{`\HasNoChildren`}, Delim: '/', Mailbox: "INBOX"})
			_ = w.List(&ListData{Attrs: []string{`\HasChildren`, `\Drafts`}, Delim: '/', Mailbox: "Entwürfe", ChildInfo: []string{"SUBSCRIBED"}})
			_ = w.List(&ListData{Attrs: []string{`\Noselect`}, Delim: '/', Mailbox: "a \"quoted\" name"})
		case *StatusCommand:
			_ = w.Status(args.Mailbox, []StatusValue{{Item: StatusMessages, Value: 231}, {Item: StatusUIDNext, Value: 44292},
				{Item: StatusUIDValidity, Value: 7}, {Item: StatusUnseen, Value: 3}, {Item: StatusSize, Value: 123456789}})
		case *NamespaceCommand:
			_ = w.Namespace([]Namespace{{Prefix: "", Delim: '/'}}, nil, []Namespace{{Prefix: "Shared/", Delim: '/'}})
		case *GetQuotaRootCommand:
			_ = w.QuotaRoot(args.Mailbox, "")
			_ = w.Quota("", []QuotaResource{{Name: "STORAGE", Usage: 10, Limit: 512}})
		case *IDCommand:
			_ = w.ID([]IDField{{Name: "name", Value: "Eider"}, {Name: "version", Value: "1.0"}})
		case *FetchCommand:
			f := w.Fetch(1)
			f.UID(4827313)
			f.Flags([]string{FlagSeen, "$Forwarded"})
			f.InternalDate(internal)
			f.RFC822Size(44827)
			f.ModSeq(12121231000)
			f.Envelope(env)
			f.BodyStructure(bs)
			lw, _ := f.Section(args.Items[len(args.Items)-2], int64(len(header)), false)
			_, _ = io.WriteString(lw, header)
			f.SectionBytes(args.Items[len(args.Items)-1], []byte("bin\x00ary"))
			_ = f.Close()
		case *SearchCommand:
			_ = w.Search([]uint32{2, 3, 6}, 0)
		}
	})
	if err := c.Login("u", "p").Wait(); err != nil {
		t.Fatal(err)
	}
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if sel.NumMessages != 172 || sel.UIDValidity != 3857529045 || sel.UIDNext != 4392 || sel.HighestModSeq != 715194045007 ||
		len(sel.Flags) != 5 || len(sel.PermanentFlags) != 3 {
		t.Errorf("SELECT read back as %+v", sel)
	}
	lists, err := c.List("", "*", nil).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if len(lists) != 3 || lists[0].Mailbox != "INBOX" || lists[1].Mailbox != "Entwürfe" || lists[1].Delim != '/' ||
		lists[2].Mailbox != `a "quoted" name` || lists[1].ChildInfo == nil || !lists[1].ChildInfo.Subscribed {
		t.Errorf("LIST read back as %+v %+v %+v", lists[0], lists[1], lists[2])
	}
	st, err := c.Status("Entwürfe", &goimap.StatusOptions{NumMessages: true, UIDNext: true, UIDValidity: true, NumUnseen: true, Size: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if st.Mailbox != "Entwürfe" || *st.NumMessages != 231 || st.UIDNext != 44292 || st.UIDValidity != 7 || *st.NumUnseen != 3 || *st.Size != 123456789 {
		t.Errorf("STATUS read back as %+v", st)
	}
	ns, err := c.Namespace().Wait()
	if err != nil || len(ns.Personal) != 1 || ns.Personal[0].Delim != '/' || len(ns.Shared) != 1 || ns.Shared[0].Prefix != "Shared/" {
		t.Errorf("NAMESPACE read back as %+v %v", ns, err)
	}
	roots, err := c.GetQuotaRoot("INBOX").Wait()
	if err != nil || len(roots) != 1 || roots[0].Resources[goimap.QuotaResourceStorage].Limit != 512 {
		t.Errorf("QUOTAROOT read back as %+v %v", roots, err)
	}
	id, err := c.ID(&goimap.IDData{Name: "test", Version: "0"}).Wait()
	if err != nil || id.Name != "Eider" || id.Version != "1.0" {
		t.Errorf("ID read back as %+v %v", id, err)
	}
	nums, err := c.Search(&goimap.SearchCriteria{}, nil).Wait()
	if err != nil || !reflect.DeepEqual(nums.AllSeqNums(), []uint32{2, 3, 6}) {
		t.Errorf("SEARCH read back as %+v %v", nums, err)
	}

	hdrSection := &goimap.FetchItemBodySection{Specifier: goimap.PartSpecifierHeader, HeaderFields: []string{"From", "Subject"}, Peek: true}
	binSection := &goimap.FetchItemBinarySection{Part: []int{2}}
	msgs, err := c.Fetch(goimap.SeqSetNum(1), &goimap.FetchOptions{
		UID: true, Flags: true, InternalDate: true, RFC822Size: true, ModSeq: true, Envelope: true,
		BodyStructure: &goimap.FetchItemBodyStructure{Extended: true},
		BodySection:   []*goimap.FetchItemBodySection{hdrSection},
		BinarySection: []*goimap.FetchItemBinarySection{binSection},
	}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 {
		t.Fatalf("got %d messages", len(msgs))
	}
	m := msgs[0]
	if m.UID != 4827313 || m.RFC822Size != 44827 || m.ModSeq != 12121231000 || !m.InternalDate.Equal(internal) ||
		!reflect.DeepEqual(m.Flags, []goimap.Flag{goimap.FlagSeen, "$Forwarded"}) {
		t.Errorf("FETCH read back as %+v", m)
	}
	if e := m.Envelope; e == nil || e.Subject != "Grüße" || len(e.From) != 1 || e.From[0].Addr() != "gray@cac.washington.edu" ||
		e.From[0].Name != "Terry Gray" || len(e.Cc) != 2 || e.MessageID != "B27397-0100000@cac.washington.edu" ||
		len(e.To) != 4 || !e.To[1].IsGroupStart() || e.To[2].Addr() != "ann@x.org" || !e.To[3].IsGroupEnd() {
		t.Errorf("ENVELOPE read back as %+v", m.Envelope)
	}
	mp, ok := m.BodyStructure.(*goimap.BodyStructureMultiPart)
	if !ok || mp.Subtype != "mixed" && mp.Subtype != "MIXED" || len(mp.Children) != 3 {
		t.Fatalf("BODYSTRUCTURE read back as %+v", m.BodyStructure)
	}
	if p0 := mp.Children[0].(*goimap.BodyStructureSinglePart); p0.Size != 120 || p0.Text == nil || p0.Text.NumLines != 4 {
		t.Errorf("part 1 %+v", p0)
	}
	if p1 := mp.Children[1].(*goimap.BodyStructureSinglePart); p1.MessageRFC822 == nil || p1.MessageRFC822.NumLines != 20 ||
		p1.MessageRFC822.Envelope.Subject != "Grüße" {
		t.Errorf("part 2 %+v", p1)
	}
	if p2 := mp.Children[2].(*goimap.BodyStructureSinglePart); p2.Extended == nil || p2.Extended.Disposition == nil ||
		p2.Extended.Disposition.Value != "attachment" || p2.Filename() != "a b.pdf" {
		t.Errorf("part 3 %+v", p2)
	}
	if got := string(m.FindBodySection(hdrSection)); got != header {
		t.Errorf("BODY section %q", got)
	}
	if got := string(m.FindBinarySection(binSection)); got != "bin\x00ary" {
		t.Errorf("BINARY section %q", got)
	}
}

func TestCrossCheckUTF8Accept(t *testing.T) {
	srv, c := startCrossServer(t, func(w *Writer, cmd *Command) {
		if _, ok := cmd.Args.(*ListCommand); ok {
			_ = w.List(&ListData{Delim: '/', Mailbox: "Entwürfe/台北"})
		}
	})
	if err := c.Login("u", "p").Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Enable(goimap.CapUTF8Accept).Wait(); err != nil {
		t.Fatal(err)
	}
	if got := srv.last(t).Args; !reflect.DeepEqual(got, &EnableCommand{Capabilities: []string{"UTF8=ACCEPT"}}) {
		t.Fatalf("ENABLE parsed as %+v", got)
	}
	if err := c.Create("Entwürfe & Co", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if got := srv.last(t).Args.(*CreateCommand).Mailbox; got != "Entwürfe & Co" {
		t.Errorf("CREATE mailbox %q", got)
	}
	lists, err := c.List("", "*", nil).Collect()
	if err != nil || len(lists) != 1 || lists[0].Mailbox != "Entwürfe/台北" {
		t.Errorf("LIST read back as %+v %v", lists, err)
	}
}
