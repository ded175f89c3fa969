package imap

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestStatusResponses(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	set := func(s string) SeqSet { return seq(s) }
	steps := []struct {
		write func() error
		want  string
	}{
		{func() error { return w.OK("a1", CodeUIDNext(4392), "Predicted next UID") }, "a1 OK [UIDNEXT 4392] Predicted next UID\r\n"},
		{func() error { return w.OK("a1", CodeUIDValidity(3857529045), "UIDs valid") }, "a1 OK [UIDVALIDITY 3857529045] UIDs valid\r\n"},
		{func() error { return w.OK("A003", CodeAppendUID(38505, set("3955")), "APPEND completed") }, "A003 OK [APPENDUID 38505 3955] APPEND completed\r\n"},
		{func() error { return w.OK("A004", CodeAppendUID(38505, set("3955:3957")), "") }, "A004 OK [APPENDUID 38505 3955:3957] completed\r\n"},
		{func() error { return w.OK("A004", CodeCopyUID(38505, set("304,319:320"), set("3956:3958")), "Done") }, "A004 OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n"},
		{func() error { return w.OK("", CodeHighestModSeq(715194045007), "Highest") }, "* OK [HIGHESTMODSEQ 715194045007] Highest\r\n"},
		{func() error { return w.OK("", CodeNoModSeq, "Sorry, this mailbox format doesn't support modsequences") }, "* OK [NOMODSEQ] Sorry, this mailbox format doesn't support modsequences\r\n"},
		{func() error { return w.OK("d105", CodeModified(set("7,9")), "Conditional STORE failed") }, "d105 OK [MODIFIED 7,9] Conditional STORE failed\r\n"},
		{func() error { return w.OK("", CodeClosed, "Previous mailbox is now closed") }, "* OK [CLOSED] Previous mailbox is now closed\r\n"},
		{func() error { return w.NO("A003", CodeTryCreate, "No such mailbox") }, "A003 NO [TRYCREATE] No such mailbox\r\n"},
		{func() error { return w.NO("A003", CodeOverQuota, "Quota exceeded") }, "A003 NO [OVERQUOTA] Quota exceeded\r\n"},
		{func() error { return w.NO("a", CodeLimit, "Too many") }, "a NO [LIMIT] Too many\r\n"},
		{func() error { return w.NO("a", CodeAlreadyExists, "Exists") }, "a NO [ALREADYEXISTS] Exists\r\n"},
		{func() error { return w.NO("a", CodeNonExistent, "No such") }, "a NO [NONEXISTENT] No such\r\n"},
		{func() error { return w.NO("a", CodeCannot, "Cannot") }, "a NO [CANNOT] Cannot\r\n"},
		{func() error { return w.NO("a", CodeTooBig, "Message too large") }, "a NO [TOOBIG] Message too large\r\n"},
		{func() error { return w.NO("a", CodeUnavailable, "Backend down") }, "a NO [UNAVAILABLE] Backend down\r\n"},
		{func() error { return w.NO("a", CodeAuthenticationFailed, "Invalid credentials") }, "a NO [AUTHENTICATIONFAILED] Invalid credentials\r\n"},
		{func() error { return w.NO("a", CodePrivacyRequired, "Use TLS") }, "a NO [PRIVACYREQUIRED] Use TLS\r\n"},
		{func() error { return w.NO("a", CodeServerBug, "Oops") }, "a NO [SERVERBUG] Oops\r\n"},
		{func() error { return w.NO("a", CodeInUse, "Locked") }, "a NO [INUSE] Locked\r\n"},
		{func() error { return w.NO("a", CodeExpungeIssued, "Gone") }, "a NO [EXPUNGEISSUED] Gone\r\n"},
		{func() error { return w.NO("a", CodeUnknownCTE, "Cannot decode") }, "a NO [UNKNOWN-CTE] Cannot decode\r\n"},
		{func() error { return w.OK("a", CodeCapability("IMAP4rev1", "IMAP4rev2", "AUTH=PLAIN"), "Logged in") }, "a OK [CAPABILITY IMAP4rev1 IMAP4rev2 AUTH=PLAIN] Logged in\r\n"},
		{func() error {
			return w.OK("", CodePermanentFlags([]string{FlagDeleted, FlagSeen, `\*`}), "Limited")
		}, "* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n"},
		{func() error { return w.OK("a", CodeReadWrite, "SELECT completed") }, "a OK [READ-WRITE] SELECT completed\r\n"},
		{func() error { return w.OK("a", CodeReadOnly, "EXAMINE completed") }, "a OK [READ-ONLY] EXAMINE completed\r\n"},
		{func() error { return w.OK("", CodeMailboxID("F2212ea87-6097-4256-9d51-71338625"), "Ok") }, "* OK [MAILBOXID (F2212ea87-6097-4256-9d51-71338625)] Ok\r\n"},
		{func() error { return w.NO("a", CodeBadCharsets("UTF-8", "US-ASCII"), "Charset") }, "a NO [BADCHARSET (UTF-8 US-ASCII)] Charset\r\n"},
		{func() error { return w.BAD("a", "", "line\r\nbreak") }, "a BAD line  break\r\n"},
		{func() error { return w.BAD("", "", "") }, "* BAD invalid command\r\n"},
		{func() error { return w.Bye(CodeAlert, "Server shutting down") }, "* BYE [ALERT] Server shutting down\r\n"},
		{func() error { return w.StatusResponse("", PREAUTH, "", "Welcome") }, "* PREAUTH Welcome\r\n"},
		{func() error {
			return w.RejectCommand(&ParseError{Tag: "x9", Err: ErrLiteralTooLarge, Code: CodeTooBig, Msg: "literal too large"})
		}, "x9 BAD [TOOBIG] literal too large\r\n"},
		{func() error { return w.Continue("idling") }, "+ idling\r\n"},
		{func() error { return w.ContinueBase64(nil) }, "+ \r\n"},
		{func() error { return w.ContinueBase64([]byte("challenge")) }, "+ Y2hhbGxlbmdl\r\n"},
	}
	for _, s := range steps {
		buf.Reset()
		if err := s.write(); err != nil {
			t.Fatal(err)
		}
		if got := buf.String(); got != s.want {
			t.Errorf("got  %q\nwant %q", got, s.want)
		}
	}
}

func TestUntaggedData(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	steps := []struct {
		write func() error
		want  string
	}{
		{func() error { return w.Exists(23) }, "* 23 EXISTS\r\n"},
		{func() error { return w.Recent(5) }, "* 5 RECENT\r\n"},
		{func() error { return w.Expunge(3) }, "* 3 EXPUNGE\r\n"},
		{func() error { return w.Vanished(seq("405,407,410:420"), true) }, "* VANISHED (EARLIER) 405,407,410:420\r\n"},
		{func() error { return w.Vanished(seq("3"), false) }, "* VANISHED 3\r\n"},
		{func() error {
			return w.Flags([]string{FlagAnswered, FlagFlagged, FlagDeleted, FlagSeen, FlagDraft, "$Forwarded"})
		},
			"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded)\r\n"},
		{func() error { return w.Capability("IMAP4rev1", "STARTTLS", "LOGINDISABLED") }, "* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\n"},
		{func() error { return w.Enabled("CONDSTORE", "QRESYNC") }, "* ENABLED CONDSTORE QRESYNC\r\n"},
		{func() error { return w.Enabled() }, "* ENABLED\r\n"},
		{func() error {
			return w.List(&ListData{Attrs: []string{`\HasNoChildren`}, Delim: '/', Mailbox: "inbox"})
		},
			"* LIST (\\HasNoChildren) \"/\" \"INBOX\"\r\n"},
		{func() error { return w.List(&ListData{Attrs: []string{`\Noselect`}, Delim: 0, Mailbox: ""}) },
			"* LIST (\\Noselect) NIL \"\"\r\n"},
		{func() error { return w.List(&ListData{Delim: '\\', Mailbox: `a"b`}) },
			"* LIST () \"\\\\\" \"a\\\"b\"\r\n"},
		{func() error {
			return w.List(&ListData{Attrs: []string{`\HasChildren`, `\Sent`}, Delim: '/', Mailbox: "Gesendete Objekte/台北"})
		},
			"* LIST (\\HasChildren \\Sent) \"/\" \"Gesendete Objekte/&U,BTFw-\"\r\n"},
		{func() error {
			return w.List(&ListData{Attrs: []string{`\NonExistent`}, Delim: '/', Mailbox: "Foo", ChildInfo: []string{"SUBSCRIBED"}})
		}, "* LIST (\\NonExistent) \"/\" \"Foo\" (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n"},
		{func() error { return w.List(&ListData{Delim: '.', Mailbox: "New", OldName: "Old"}) },
			"* LIST () \".\" \"New\" (\"OLDNAME\" (\"Old\"))\r\n"},
		{func() error { return w.LSub(&ListData{Attrs: []string{}, Delim: '.', Mailbox: "#news.comp.mail.mime"}) },
			"* LSUB () \".\" \"#news.comp.mail.mime\"\r\n"},
		{func() error {
			return w.Status("blurdybloop", []StatusValue{{Item: StatusMessages, Value: 231}, {Item: StatusUIDNext, Value: 44292},
				{Item: StatusSize, Value: 1 << 40}, {Item: StatusHighestModSeq, Value: 7011231777}, {Item: StatusAppendLimit, Nil: true},
				{Item: StatusMailboxID, ID: "F2212ea87"}, {Item: StatusDeleted, Value: 0}})
		}, "* STATUS \"blurdybloop\" (MESSAGES 231 UIDNEXT 44292 SIZE 1099511627776 HIGHESTMODSEQ 7011231777 APPENDLIMIT NIL MAILBOXID (F2212ea87) DELETED 0)\r\n"},
		{func() error { return w.Search([]uint32{2, 3, 6}, 0) }, "* SEARCH 2 3 6\r\n"},
		{func() error { return w.Search(nil, 0) }, "* SEARCH\r\n"},
		{func() error { return w.Search([]uint32{2, 5, 6, 7, 11, 12, 18, 19, 20, 23}, 917162500) }, "* SEARCH 2 5 6 7 11 12 18 19 20 23 (MODSEQ 917162500)\r\n"},
		{func() error { return w.ESearch(&ESearchData{Tag: "A282", Min: 2, Count: 3, HasCount: true}) }, "* ESEARCH (TAG \"A282\") MIN 2 COUNT 3\r\n"},
		{func() error { return w.ESearch(&ESearchData{Tag: "A283", All: seq("2,10:11")}) }, "* ESEARCH (TAG \"A283\") ALL 2,10:11\r\n"},
		{func() error {
			return w.ESearch(&ESearchData{Tag: "A284", UID: true, Min: 4, Max: 9, All: seq("4:5,9"), Count: 3, HasCount: true, ModSeq: 120})
		}, "* ESEARCH (TAG \"A284\") UID MIN 4 MAX 9 ALL 4:5,9 COUNT 3 MODSEQ 120\r\n"},
		{func() error { return w.ESearch(&ESearchData{Tag: "A285", HasCount: true}) }, "* ESEARCH (TAG \"A285\") COUNT 0\r\n"},
		{func() error {
			return w.ID([]IDField{{Name: "name", Value: "Eider"}, {Name: "support-url", ValueNil: true}})
		},
			"* ID (\"name\" \"Eider\" \"support-url\" NIL)\r\n"},
		{func() error { return w.ID(nil) }, "* ID NIL\r\n"},
		{func() error {
			return w.Namespace([]Namespace{{Prefix: "", Delim: '/'}}, nil, []Namespace{{Prefix: "Shared/", Delim: '/'}, {Prefix: "Öffentlich/", Delim: '/'}})
		},
			"* NAMESPACE ((\"\" \"/\")) NIL ((\"Shared/\" \"/\")(\"&ANY-ffentlich/\" \"/\"))\r\n"},
		{func() error {
			return w.Quota("", []QuotaResource{{Name: "STORAGE", Usage: 10, Limit: 512}, {Name: "MESSAGE", Usage: 3, Limit: 100}})
		}, "* QUOTA \"\" (STORAGE 10 512 MESSAGE 3 100)\r\n"},
		{func() error { return w.QuotaRoot("INBOX", "") }, "* QUOTAROOT \"INBOX\" \"\"\r\n"},
	}
	for _, s := range steps {
		buf.Reset()
		if err := s.write(); err != nil {
			t.Fatal(err)
		}
		if got := buf.String(); got != s.want {
			t.Errorf("got  %q\nwant %q", got, s.want)
		}
	}
}

func TestWriterUTF8Mode(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	w.SetUTF8(true)
	_ = w.List(&ListData{Delim: '/', Mailbox: "Entwürfe"})
	_ = w.Status("台北", []StatusValue{{Item: StatusMessages, Value: 1}})
	want := "* LIST () \"/\" \"Entwürfe\"\r\n* STATUS \"台北\" (MESSAGES 1)\r\n"
	if buf.String() != want {
		t.Fatalf("got %q", buf.String())
	}
}

// rfc3501Envelope is the ENVELOPE of the example in RFC 3501 section 8.
func rfc3501Envelope() *Envelope {
	gray := []Address{{Name: "Terry Gray", Mailbox: "gray", Host: "cac.washington.edu"}}
	return &Envelope{
		Date:    "Wed, 17 Jul 1996 02:23:25 -0700 (PDT)",
		Subject: "IMAP4rev1 WG mtg summary and minutes",
		From:    gray, Sender: gray, ReplyTo: gray,
		To: []Address{{Mailbox: "imap", Host: "cac.washington.edu"}},
		Cc: []Address{{Mailbox: "minutes", Host: "CNRI.Reston.VA.US"},
			{Name: "John Klensin", Mailbox: "KLENSIN", Host: "MIT.EDU"}},
		MessageID: "<B27397-0100000@cac.washington.edu>",
	}
}

func fetchString(t *testing.T, utf8 bool, fill func(f *FetchWriter)) string {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf)
	w.SetUTF8(utf8)
	f := w.Fetch(12)
	fill(f)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestEnvelopeGolden(t *testing.T) {
	got := fetchString(t, false, func(f *FetchWriter) { f.Envelope(rfc3501Envelope()) })
	want := `* 12 FETCH (ENVELOPE ("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" "IMAP4rev1 WG mtg summary and minutes" ` +
		`(("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) ` +
		`(("Terry Gray" NIL "gray" "cac.washington.edu")) ((NIL NIL "imap" "cac.washington.edu")) ` +
		`((NIL NIL "minutes" "CNRI.Reston.VA.US")("John Klensin" NIL "KLENSIN" "MIT.EDU")) NIL NIL ` +
		`"<B27397-0100000@cac.washington.edu>"))` + "\r\n"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}

	// Sender and Reply-To default to From; groups; 8-bit and quotes.
	e := &Envelope{
		Subject: "Grüße \"aus\" Köln",
		From:    []Address{{Name: "Jörg", Mailbox: "joerg", Host: "example.de"}},
		To:      []Address{GroupStart("undisclosed-recipients"), GroupEnd()},
		Cc: []Address{GroupStart("Team"), {Mailbox: "a", Host: "x.org"}, {Mailbox: "b", Host: "x.org"}, GroupEnd(),
			{Mailbox: "c", Host: "y.org"}},
		InReplyTo: "<1@x>",
	}
	got = fetchString(t, false, func(f *FetchWriter) { f.Envelope(e) })
	want = "* 12 FETCH (ENVELOPE (NIL {19}\r\nGrüße \"aus\" Köln ((" + "{5}\r\nJörg NIL \"joerg\" \"example.de\")) " +
		"(({5}\r\nJörg NIL \"joerg\" \"example.de\")) (({5}\r\nJörg NIL \"joerg\" \"example.de\")) " +
		"((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) " +
		"((NIL NIL \"Team\" NIL)(NIL NIL \"a\" \"x.org\")(NIL NIL \"b\" \"x.org\")(NIL NIL NIL NIL)(NIL NIL \"c\" \"y.org\")) " +
		"NIL \"<1@x>\" NIL))\r\n"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	got = fetchString(t, true, func(f *FetchWriter) { f.Envelope(&Envelope{Subject: "Grüße"}) })
	if want := "* 12 FETCH (ENVELOPE (NIL \"Grüße\" NIL NIL NIL NIL NIL NIL NIL NIL))\r\n"; got != want {
		t.Errorf("utf8: got %q", got)
	}
	if !e.To[0].IsGroupStart() || !e.To[1].IsGroupEnd() || e.Cc[1].IsGroupStart() {
		t.Error("group markers")
	}
}

func TestBodyStructureGolden(t *testing.T) {
	plain := &BodyStructure{Type: "TEXT", Subtype: "PLAIN", Params: []BodyParam{{"CHARSET", "US-ASCII"}}, Encoding: "7BIT", Size: 3028, Lines: 92}
	got := fetchString(t, false, func(f *FetchWriter) { f.Body(plain) })
	if want := `* 12 FETCH (BODY ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 3028 92))` + "\r\n"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	got = fetchString(t, false, func(f *FetchWriter) { f.BodyStructure(plain) })
	if want := `* 12 FETCH (BODYSTRUCTURE ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 3028 92 NIL NIL NIL NIL))` + "\r\n"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}

	mixed := &BodyStructure{Type: "MULTIPART", Subtype: "MIXED", Params: []BodyParam{{"BOUNDARY", "----=_Part"}},
		Parts: []*BodyStructure{
			{Type: "TEXT", Subtype: "PLAIN", Params: []BodyParam{{"CHARSET", "US-ASCII"}}, Encoding: "7BIT", Size: 1152, Lines: 23},
			{Type: "TEXT", Subtype: "PLAIN", Params: []BodyParam{{"CHARSET", "US-ASCII"}, {"NAME", "cc.diff"}},
				ID: "<960723163407.20117h@cac.washington.edu>", Description: "Compiler diff", Encoding: "BASE64", Size: 4554, Lines: 73,
				MD5: "Q2hlY2sgSW50ZWdyaXR5IQ==", Disposition: "attachment", DispositionParams: []BodyParam{{"filename", "cc.diff"}},
				Language: []string{"en", "de"}, Location: "http://example.com/cc.diff"},
			{Type: "MESSAGE", Subtype: "RFC822", Encoding: "7BIT", Size: 500, Lines: 12, Envelope: rfc3501Envelope(),
				Message: &BodyStructure{Type: "TEXT", Subtype: "HTML", Params: []BodyParam{{"CHARSET", "UTF-8"}}, Encoding: "QUOTED-PRINTABLE", Size: 300, Lines: 10, Language: []string{"fr"}}},
			{Type: "APPLICATION", Subtype: "OCTET-STREAM", Encoding: "BASE64", Size: 4096, Disposition: "inline"},
		},
		Disposition: "inline", Language: []string{"en"}}
	got = fetchString(t, false, func(f *FetchWriter) { f.BodyStructure(mixed) })
	env := `("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" "IMAP4rev1 WG mtg summary and minutes" ` +
		`(("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) ` +
		`(("Terry Gray" NIL "gray" "cac.washington.edu")) ((NIL NIL "imap" "cac.washington.edu")) ` +
		`((NIL NIL "minutes" "CNRI.Reston.VA.US")("John Klensin" NIL "KLENSIN" "MIT.EDU")) NIL NIL ` +
		`"<B27397-0100000@cac.washington.edu>")`
	want := `* 12 FETCH (BODYSTRUCTURE (` +
		`("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 1152 23 NIL NIL NIL NIL)` +
		`("TEXT" "PLAIN" ("CHARSET" "US-ASCII" "NAME" "cc.diff") "<960723163407.20117h@cac.washington.edu>" "Compiler diff" "BASE64" 4554 73 ` +
		`"Q2hlY2sgSW50ZWdyaXR5IQ==" ("attachment" ("filename" "cc.diff")) ("en" "de") "http://example.com/cc.diff")` +
		`("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 500 ` + env +
		` ("TEXT" "HTML" ("CHARSET" "UTF-8") NIL NIL "QUOTED-PRINTABLE" 300 10 NIL NIL "fr" NIL) 12 NIL NIL NIL NIL)` +
		`("APPLICATION" "OCTET-STREAM" NIL NIL NIL "BASE64" 4096 NIL ("inline" NIL) NIL NIL)` +
		` "MIXED" ("BOUNDARY" "----=_Part") ("inline" NIL) "en" NIL))` + "\r\n"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	got = fetchString(t, false, func(f *FetchWriter) { f.Body(mixed) })
	wantBody := `* 12 FETCH (BODY (` +
		`("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 1152 23)` +
		`("TEXT" "PLAIN" ("CHARSET" "US-ASCII" "NAME" "cc.diff") "<960723163407.20117h@cac.washington.edu>" "Compiler diff" "BASE64" 4554 73)` +
		`("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 500 ` + env + ` ("TEXT" "HTML" ("CHARSET" "UTF-8") NIL NIL "QUOTED-PRINTABLE" 300 10) 12)` +
		`("APPLICATION" "OCTET-STREAM" NIL NIL NIL "BASE64" 4096)` +
		` "MIXED"))` + "\r\n"
	if got != wantBody {
		t.Errorf("got  %s\nwant %s", got, wantBody)
	}
	// A multipart without parts still gets one, as the grammar demands.
	got = fetchString(t, false, func(f *FetchWriter) { f.Body(&BodyStructure{Type: "multipart", Subtype: "mixed"}) })
	if want := `* 12 FETCH (BODY (("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 0 0) "mixed"))` + "\r\n"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestFetchResponse(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	date := time.Date(1996, 7, 17, 2, 44, 25, 0, time.FixedZone("", -7*3600))
	f := w.Fetch(12)
	f.UID(4827313)
	f.Flags([]string{FlagSeen, "$Forwarded"})
	f.InternalDate(date)
	f.RFC822Size(44827)
	f.ModSeq(12121231000)
	f.EmailID("M6d99ac3275bb4e")
	f.ThreadID("")
	f.SaveDate(time.Time{})
	hdr := FetchItem{Kind: FetchBodySection, Peek: true, Section: Section{Spec: SpecHeaderFields, Fields: []string{"From", "Subject"}}}
	body := "From: a@b\r\nSubject: hi\r\n\r\n"
	lw, err := f.Section(hdr, int64(len(body)), false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(lw, strings.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	part := FetchItem{Kind: FetchBodySection, Section: Section{Part: []uint32{1}}, Partial: Partial{Offset: 100, Count: 5}}
	if lw, err = f.Section(part, 5, false); err != nil {
		t.Fatal(err)
	}
	_, _ = lw.Write([]byte("ab"))
	_, _ = lw.Write([]byte("cde"))
	f.SectionBytes(FetchItem{Kind: FetchBinary, Section: Section{Part: []uint32{2}}}, []byte("\x00\x01"))
	f.SectionBytes(FetchItem{Kind: FetchBinary, Section: Section{Part: []uint32{3}}}, []byte("plain"))
	f.BinarySize(Section{Part: []uint32{2}}, 2)
	f.SectionNil(FetchItem{Kind: FetchBodySection, Section: Section{Part: []uint32{9}}})
	if lw, err = f.Section(FetchItem{Kind: FetchRFC822}, 3, false); err != nil {
		t.Fatal(err)
	}
	_, _ = lw.Write([]byte("xyz"))
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	want := "* 12 FETCH (UID 4827313 FLAGS (\\Seen $Forwarded) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE 44827 " +
		"MODSEQ (12121231000) EMAILID (M6d99ac3275bb4e) THREADID NIL SAVEDATE NIL " +
		"BODY[HEADER.FIELDS (From Subject)] {26}\r\nFrom: a@b\r\nSubject: hi\r\n\r\n " +
		"BODY[1]<100> {5}\r\nabcde BINARY[2] ~{2}\r\n\x00\x01 BINARY[3] {5}\r\nplain BINARY.SIZE[2] 2 BODY[9] NIL RFC822 {3}\r\nxyz)\r\n"
	if got := buf.String(); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}

	// A binary section announced as literal8.
	buf.Reset()
	f = w.Fetch(1)
	if lw, err = f.Section(FetchItem{Kind: FetchBinary, Peek: true}, 1, true); err != nil {
		t.Fatal(err)
	}
	_, _ = lw.Write([]byte{0})
	_ = f.Close()
	if got := buf.String(); got != "* 1 FETCH (BINARY[] ~{1}\r\n\x00)\r\n" {
		t.Errorf("got %q", got)
	}
}

func TestFetchSectionLengthEnforced(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	f := w.Fetch(1)
	lw, _ := f.Section(FetchItem{Kind: FetchRFC822}, 3, false)
	if _, err := lw.Write([]byte("abcd")); !errors.Is(err, ErrLiteralLength) {
		t.Fatalf("overlong write: %v", err)
	}
	_, _ = lw.Write([]byte("ab"))
	if err := f.Close(); !errors.Is(err, ErrLiteralLength) {
		t.Fatalf("short section: %v", err)
	}
	if err := w.Exists(1); !errors.Is(err, ErrLiteralLength) {
		t.Fatalf("writer must stay failed: %v", err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestWriterErrorSticks(t *testing.T) {
	w := NewWriter(failWriter{})
	if err := w.OK("a", "", ""); !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("got %v", err)
	}
	if err := w.Exists(1); !errors.Is(err, io.ErrClosedPipe) || !errors.Is(w.Err(), io.ErrClosedPipe) {
		t.Fatalf("got %v", err)
	}
}

func TestStringChoice(t *testing.T) {
	tests := []struct {
		s     string
		utf8  bool
		astr  string
		nstr  string
		quote string
	}{
		{"INBOX", false, "INBOX", `"INBOX"`, `"INBOX"`},
		{"", false, `""`, "NIL", `""`},
		{"NIL", false, `"NIL"`, `"NIL"`, `"NIL"`},
		{"a b", false, `"a b"`, `"a b"`, `"a b"`},
		{`a"b\c`, false, `"a\"b\\c"`, `"a\"b\\c"`, `"a\"b\\c"`},
		{"a]b", false, "a]b", `"a]b"`, `"a]b"`},
		{"x*", false, `"x*"`, `"x*"`, `"x*"`},
		{"line\r\nbreak", false, "{11}\r\nline\r\nbreak", "{11}\r\nline\r\nbreak", "{11}\r\nline\r\nbreak"},
		{"café", false, "{5}\r\ncafé", "{5}\r\ncafé", "{5}\r\ncafé"},
		{"café", true, `"café"`, `"café"`, `"café"`},
		{"caf\xe9", true, "{4}\r\ncaf\xe9", "{4}\r\ncaf\xe9", "{4}\r\ncaf\xe9"},
		{"a\x00b", false, "{2}\r\nab", "{2}\r\nab", "{2}\r\nab"},
		{strings.Repeat("x", maxQuoted+1), false, strings.Repeat("x", maxQuoted+1), fmtLiteral(maxQuoted + 1), fmtLiteral(maxQuoted + 1)},
	}
	for _, tc := range tests {
		if got := string(appendAString(nil, tc.s, tc.utf8)); got != tc.astr {
			t.Errorf("astring(%q) = %q, want %q", tc.s, got, tc.astr)
		}
		if got := string(appendNString(nil, tc.s, tc.utf8)); got != tc.nstr {
			t.Errorf("nstring(%q) = %q, want %q", tc.s, got, tc.nstr)
		}
		if got := string(appendString(nil, tc.s, tc.utf8)); got != tc.quote {
			t.Errorf("string(%q) = %q, want %q", tc.s, got, tc.quote)
		}
	}
}

func fmtLiteral(n int) string {
	return "{" + strconv.Itoa(n) + "}\r\n" + strings.Repeat("x", n)
}

func TestWriterRelease(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	_ = w.Exists(1)
	w.Release()
	if w.buf != nil {
		t.Fatal("buffer kept")
	}
	_ = w.Exists(2)
	if buf.String() != "* 1 EXISTS\r\n* 2 EXISTS\r\n" {
		t.Fatalf("got %q", buf.String())
	}
}
