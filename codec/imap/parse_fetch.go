package imap

import "bytes"

// fetch parses the arguments of FETCH and UID FETCH.
func (r *reader) fetch(uid bool) (*FetchCommand, error) {
	if err := r.sp(); err != nil {
		return nil, err
	}
	set, err := r.seqSet()
	if err != nil {
		return nil, err
	}
	cmd := &FetchCommand{UID: uid, SeqSet: set}
	if err := r.sp(); err != nil {
		return nil, err
	}
	if r.peekIs('(') {
		r.i++
		cmd.Items = make([]FetchItem, 0, 4)
		for {
			it, err := r.fetchAtt()
			if err != nil {
				return nil, err
			}
			cmd.Items = append(cmd.Items, it)
			if r.peekIs(')') {
				r.i++
				break
			}
			if err := r.sp(); err != nil {
				return nil, err
			}
		}
	} else {
		save := r.i
		name := r.fetchAttName()
		if items := fetchMacro(string(name)); items != nil {
			cmd.Items = items
		} else {
			r.i = save
			it, err := r.fetchAtt()
			if err != nil {
				return nil, err
			}
			cmd.Items = []FetchItem{it}
		}
	}
	if !r.atEnd() {
		if err := r.sp(); err != nil {
			return nil, err
		}
		if err := r.fetchModifiers(cmd); err != nil {
			return nil, err
		}
	}
	if err := r.end(); err != nil {
		return nil, err
	}
	// RFC 7162 section 3.2.6: VANISHED only with UID FETCH and CHANGEDSINCE.
	if cmd.Vanished && (!uid || cmd.ChangedSince == 0) {
		return nil, failf(ErrSyntax, "VANISHED requires UID FETCH and CHANGEDSINCE")
	}
	if uid {
		// A UID FETCH response always carries the UID (RFC 3501 6.4.8).
		has := false
		for _, it := range cmd.Items {
			has = has || it.Kind == FetchUID
		}
		if !has {
			cmd.Items = append(cmd.Items, FetchItem{Kind: FetchUID})
		}
	}
	return cmd, nil
}

// fetchAttName reads the letters, digits and dots of a fetch item name,
// upper-cased in scratch space.
func (r *reader) fetchAttName() []byte {
	start := r.i
	for r.i < len(r.b) {
		c := r.b[r.i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.') {
			break
		}
		r.i++
	}
	return r.upper(r.b[start:r.i])
}

func (r *reader) fetchAtt() (FetchItem, error) {
	name := r.fetchAttName()
	if len(name) == 0 {
		return FetchItem{}, r.unexpected("fetch item")
	}
	var it FetchItem
	switch string(name) {
	case "ENVELOPE":
		it.Kind = FetchEnvelope
	case "FLAGS":
		it.Kind = FetchFlags
	case "INTERNALDATE":
		it.Kind = FetchInternalDate
	case "RFC822":
		it.Kind = FetchRFC822
	case "RFC822.HEADER":
		it.Kind = FetchRFC822Header
	case "RFC822.SIZE":
		it.Kind = FetchRFC822Size
	case "RFC822.TEXT":
		it.Kind = FetchRFC822Text
	case "UID":
		it.Kind = FetchUID
	case "MODSEQ":
		it.Kind = FetchModSeq
	case "BODYSTRUCTURE":
		it.Kind = FetchBodyStructure
	case "EMAILID":
		it.Kind = FetchEmailID
	case "THREADID":
		it.Kind = FetchThreadID
	case "SAVEDATE":
		it.Kind = FetchSaveDate
	case "BODY":
		if !r.peekIs('[') {
			it.Kind = FetchBody
			return it, nil
		}
		it.Kind = FetchBodySection
		return it, r.sectionAndPartial(&it)
	case "BODY.PEEK":
		it.Kind, it.Peek = FetchBodySection, true
		return it, r.sectionAndPartial(&it)
	case "BINARY":
		it.Kind = FetchBinary
		return it, r.sectionAndPartial(&it)
	case "BINARY.PEEK":
		it.Kind, it.Peek = FetchBinary, true
		return it, r.sectionAndPartial(&it)
	case "BINARY.SIZE":
		it.Kind = FetchBinarySize
		var err error
		it.Section, err = r.section(true)
		return it, err
	default:
		return FetchItem{}, failf(ErrSyntax, "unknown fetch item %q", safeText(string(name)))
	}
	if r.peekIs('[') || r.peekIs('<') {
		return FetchItem{}, failf(ErrSyntax, "%s takes no section", it.Kind)
	}
	return it, nil
}

func (r *reader) sectionAndPartial(it *FetchItem) error {
	var err error
	if it.Section, err = r.section(it.Kind == FetchBinary); err != nil {
		return err
	}
	if !r.peekIs('<') {
		return nil
	}
	r.i++
	if it.Partial.Offset, err = r.number64(); err != nil {
		return err
	}
	if err := r.expect('.'); err != nil {
		return err
	}
	if it.Partial.Count, err = r.number64(); err != nil {
		return err
	}
	if it.Partial.Count == 0 {
		return failf(ErrSyntax, "partial length must be positive")
	}
	return r.expect('>')
}

// section reads "[" section-spec "]"; binary sections hold only a part path.
func (r *reader) section(binary bool) (Section, error) {
	var s Section
	if err := r.expect('['); err != nil {
		return s, err
	}
	if r.peekIs(']') {
		r.i++
		return s, nil
	}
	if c, ok := r.peek(); ok && c >= '0' && c <= '9' {
		for {
			n, err := r.nzNumber()
			if err != nil {
				return s, err
			}
			s.Part = append(s.Part, n)
			if !r.peekIs('.') {
				break
			}
			if r.i+1 < len(r.b) && r.b[r.i+1] >= '0' && r.b[r.i+1] <= '9' {
				r.i++
				continue
			}
			if binary {
				return s, failf(ErrSyntax, "BINARY section takes only a part number")
			}
			r.i++
			if err := r.sectionText(&s); err != nil {
				return s, err
			}
			break
		}
	} else {
		if binary {
			return s, failf(ErrSyntax, "BINARY section takes only a part number")
		}
		if err := r.sectionText(&s); err != nil {
			return s, err
		}
	}
	return s, r.expect(']')
}

func (r *reader) sectionText(s *Section) error {
	start := r.i
	for r.i < len(r.b) {
		c := r.b[r.i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '.') {
			break
		}
		r.i++
	}
	switch string(r.upper(r.b[start:r.i])) {
	case "HEADER":
		s.Spec = SpecHeader
	case "HEADER.FIELDS":
		s.Spec = SpecHeaderFields
	case "HEADER.FIELDS.NOT":
		s.Spec = SpecHeaderFieldsNot
	case "TEXT":
		s.Spec = SpecText
	case "MIME":
		if len(s.Part) == 0 {
			return failf(ErrSyntax, "MIME section needs a part number")
		}
		s.Spec = SpecMIME
	default:
		if r.i == start {
			return r.unexpected("section text")
		}
		return failf(ErrSyntax, "unknown section %q", safeText(string(r.b[start:r.i])))
	}
	if s.Spec != SpecHeaderFields && s.Spec != SpecHeaderFieldsNot {
		return nil
	}
	if err := r.sp(); err != nil {
		return err
	}
	if err := r.expect('('); err != nil {
		return err
	}
	s.Fields = make([]string, 0, 1+bytes.Count(r.b[r.i:r.i+indexByte(r.b[r.i:], ')')+1], []byte{' '}))
	for {
		b, err := r.astringBytes()
		if err != nil {
			return err
		}
		s.Fields = append(s.Fields, headerFieldName(b))
		if r.peekIs(')') {
			r.i++
			return nil
		}
		if err := r.sp(); err != nil {
			return err
		}
	}
}

// fetchModifiers reads "(" fetch-modifier *(SP fetch-modifier) ")".
func (r *reader) fetchModifiers(cmd *FetchCommand) error {
	if err := r.expect('('); err != nil {
		return err
	}
	for {
		kw, err := r.keyword()
		if err != nil {
			return err
		}
		switch string(kw) {
		case "CHANGEDSINCE":
			if cmd.ChangedSince != 0 {
				return failf(ErrSyntax, "CHANGEDSINCE given twice")
			}
			if err := r.sp(); err != nil {
				return err
			}
			if cmd.ChangedSince, err = r.number64(); err != nil {
				return err
			}
			if cmd.ChangedSince == 0 {
				return failf(ErrSyntax, "CHANGEDSINCE must be positive")
			}
		case "VANISHED":
			cmd.Vanished = true
		default:
			return failf(ErrSyntax, "unknown FETCH modifier %q", safeText(string(kw)))
		}
		if r.peekIs(')') {
			r.i++
			return nil
		}
		if err := r.sp(); err != nil {
			return err
		}
	}
}

// headerFieldName returns the field name as a string, sharing the spelling
// of the names clients list in every message-list FETCH instead of
// allocating them again. The client's spelling is kept: it is echoed in
// the response.
func headerFieldName(b []byte) string {
	switch string(b) {
	case "From":
		return "From"
	case "To":
		return "To"
	case "Cc":
		return "Cc"
	case "Bcc":
		return "Bcc"
	case "Subject":
		return "Subject"
	case "Date":
		return "Date"
	case "Message-ID":
		return "Message-ID"
	case "Message-Id":
		return "Message-Id"
	case "References":
		return "References"
	case "In-Reply-To":
		return "In-Reply-To"
	case "Reply-To":
		return "Reply-To"
	case "Sender":
		return "Sender"
	case "Content-Type":
		return "Content-Type"
	case "Priority":
		return "Priority"
	case "X-Priority":
		return "X-Priority"
	case "Importance":
		return "Importance"
	case "Newsgroups":
		return "Newsgroups"
	case "List-Id":
		return "List-Id"
	case "List-Unsubscribe":
		return "List-Unsubscribe"
	case "FROM":
		return "FROM"
	case "TO":
		return "TO"
	case "CC":
		return "CC"
	case "BCC":
		return "BCC"
	case "SUBJECT":
		return "SUBJECT"
	case "DATE":
		return "DATE"
	case "MESSAGE-ID":
		return "MESSAGE-ID"
	case "REFERENCES":
		return "REFERENCES"
	case "IN-REPLY-TO":
		return "IN-REPLY-TO"
	case "REPLY-TO":
		return "REPLY-TO"
	case "CONTENT-TYPE":
		return "CONTENT-TYPE"
	case "X-PRIORITY":
		return "X-PRIORITY"
	}
	return string(b)
}
