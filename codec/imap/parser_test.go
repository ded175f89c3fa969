package imap

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func seq(s string) SeqSet {
	set, err := ParseSeqSet(s)
	if err != nil {
		panic(err)
	}
	return set
}

func TestParseCommands(t *testing.T) {
	pst := time.FixedZone("", -7*3600)
	tests := []struct {
		in   string
		name string
		args Args
	}{
		{"a CAPABILITY\r\n", "CAPABILITY", &CapabilityCommand{}},
		{"a noop\r\n", "NOOP", &NoopCommand{}},
		{"a LOGOUT\n", "LOGOUT", &LogoutCommand{}},
		{"a STARTTLS\r\n", "STARTTLS", &StartTLSCommand{}},
		{"a NAMESPACE\r\n", "NAMESPACE", &NamespaceCommand{}},
		{"a IDLE\r\n", "IDLE", &IdleCommand{}},
		{"a CHECK\r\n", "CHECK", &CheckCommand{}},
		{"a CLOSE\r\n", "CLOSE", &CloseCommand{}},
		{"a UNSELECT\r\n", "UNSELECT", &UnselectCommand{}},
		{"a EXPUNGE\r\n", "EXPUNGE", &ExpungeCommand{}},
		{"a UID EXPUNGE 3:5,9\r\n", "UID EXPUNGE", &ExpungeCommand{UID: true, UIDs: seq("3:5,9")}},
		{"a AUTHENTICATE plain\r\n", "AUTHENTICATE", &AuthenticateCommand{Mechanism: "PLAIN"}},
		{"a AUTHENTICATE PLAIN AGJvYgBzM2NyZXQ=\r\n", "AUTHENTICATE",
			&AuthenticateCommand{Mechanism: "PLAIN", InitialResponse: []byte("\x00bob\x00s3cret"), HasInitialResponse: true}},
		{"a AUTHENTICATE EXTERNAL =\r\n", "AUTHENTICATE",
			&AuthenticateCommand{Mechanism: "EXTERNAL", InitialResponse: []byte{}, HasInitialResponse: true}},
		{"a LOGIN bob s3cret\r\n", "LOGIN", &LoginCommand{Username: "bob", Password: "s3cret"}},
		{`a LOGIN "bob smith" "p\"w\\d"` + "\r\n", "LOGIN", &LoginCommand{Username: "bob smith", Password: `p"w\d`}},
		{"a LOGIN {3}\r\nbob {6+}\r\ns3 cr\n\r\n", "LOGIN", &LoginCommand{Username: "bob", Password: "s3 cr\n"}},
		{"a LOGIN \"jos\xc3\xa9\" x\r\n", "LOGIN", &LoginCommand{Username: "jos\u00e9", Password: "x"}},
		{"a ENABLE CONDSTORE qresync UTF8=ACCEPT\r\n", "ENABLE", &EnableCommand{Capabilities: []string{"CONDSTORE", "QRESYNC", "UTF8=ACCEPT"}}},
		{"a ID NIL\r\n", "ID", &IDCommand{}},
		{"a ID ()\r\n", "ID", &IDCommand{Fields: []IDField{}}},
		{`a ID ("name" "Thunderbird" "version" NIL)` + "\r\n", "ID",
			&IDCommand{Fields: []IDField{{Name: "name", Value: "Thunderbird"}, {Name: "version", ValueNil: true}}}},
		{"a SELECT INBOX\r\n", "SELECT", &SelectCommand{Mailbox: "INBOX"}},
		{"a select inbox\r\n", "SELECT", &SelectCommand{Mailbox: "INBOX"}},
		{"a EXAMINE \"Sent Items\"\r\n", "EXAMINE", &SelectCommand{Mailbox: "Sent Items", ReadOnly: true}},
		{"a SELECT ~peter/mail/&U,BTFw-/&ZeVnLIqe-\r\n", "SELECT", &SelectCommand{Mailbox: "~peter/mail/台北/日本語"}},
		{"a SELECT INBOX (CONDSTORE)\r\n", "SELECT", &SelectCommand{Mailbox: "INBOX", CondStore: true}},
		{"a SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))\r\n", "SELECT",
			&SelectCommand{Mailbox: "INBOX", QResync: &QResyncParams{UIDValidity: 67890007, ModSeq: 20050715194045000, KnownUIDs: seq("41,43:211,214:541")}}},
		{"a SELECT INBOX (QRESYNC (67890007 90060115194045000 41:211,214:541 (1:10 41:50)) CONDSTORE)\r\n", "SELECT",
			&SelectCommand{Mailbox: "INBOX", CondStore: true, QResync: &QResyncParams{UIDValidity: 67890007, ModSeq: 90060115194045000,
				KnownUIDs: seq("41:211,214:541"), SeqMatchSeqs: seq("1:10"), SeqMatchUIDs: seq("41:50")}}},
		{"a SELECT INBOX (QRESYNC (1 2))\r\n", "SELECT", &SelectCommand{Mailbox: "INBOX", QResync: &QResyncParams{UIDValidity: 1, ModSeq: 2}}},
		{"a SELECT INBOX (QRESYNC (1 2 (3 4)))\r\n", "SELECT", &SelectCommand{Mailbox: "INBOX",
			QResync: &QResyncParams{UIDValidity: 1, ModSeq: 2, SeqMatchSeqs: seq("3"), SeqMatchUIDs: seq("4")}}},
		{"a CREATE Archive/2024\r\n", "CREATE", &CreateCommand{Mailbox: "Archive/2024"}},
		{"a CREATE MySent (USE (\\sent \\Flagged))\r\n", "CREATE", &CreateCommand{Mailbox: "MySent", SpecialUse: []string{`\Sent`, `\Flagged`}}},
		{"a DELETE foo\r\n", "DELETE", &DeleteCommand{Mailbox: "foo"}},
		{"a RENAME foo \"bar baz\"\r\n", "RENAME", &RenameCommand{Mailbox: "foo", NewName: "bar baz"}},
		{"a SUBSCRIBE foo\r\n", "SUBSCRIBE", &SubscribeCommand{Mailbox: "foo"}},
		{"a UNSUBSCRIBE foo\r\n", "UNSUBSCRIBE", &UnsubscribeCommand{Mailbox: "foo"}},
		{"a LIST \"\" *\r\n", "LIST", &ListCommand{Reference: "", Patterns: []string{"*"}}},
		{"a LIST \"\" \"\"\r\n", "LIST", &ListCommand{Reference: "", Patterns: []string{""}}},
		{"a LIST ~/Mail/ %]\r\n", "LIST", &ListCommand{Reference: "~/Mail/", Patterns: []string{"%]"}}},
		{"a LSUB \"#news.\" comp.mail.*\r\n", "LSUB", &ListCommand{LSub: true, Reference: "#news.", Patterns: []string{"comp.mail.*"}}},
		{"a LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (INBOX* \"Sent*\") RETURN (CHILDREN SPECIAL-USE STATUS (MESSAGES UNSEEN))\r\n", "LIST",
			&ListCommand{Extended: true, Reference: "", Patterns: []string{"INBOX*", "Sent*"},
				Select: ListSelectOptions{Subscribed: true, RecursiveMatch: true},
				Return: ListReturnOptions{Children: true, SpecialUse: true, Status: []StatusItem{StatusMessages, StatusUnseen}}}},
		{"a LIST () \"\" % RETURN ()\r\n", "LIST", &ListCommand{Extended: true, Patterns: []string{"%"}}},
		{"a LIST (SPECIAL-USE REMOTE) \"\" *\r\n", "LIST", &ListCommand{Extended: true, Patterns: []string{"*"},
			Select: ListSelectOptions{SpecialUse: true, Remote: true}}},
		{"a STATUS INBOX (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE HIGHESTMODSEQ APPENDLIMIT MAILBOXID)\r\n", "STATUS",
			&StatusCommand{Mailbox: "INBOX", Items: []StatusItem{StatusMessages, StatusRecent, StatusUIDNext, StatusUIDValidity,
				StatusUnseen, StatusDeleted, StatusSize, StatusHighestModSeq, StatusAppendLimit, StatusMailboxID}}},
		{"a COPY 2:4 MEETING\r\n", "COPY", &CopyCommand{SeqSet: seq("2:4"), Mailbox: "MEETING"}},
		{"a UID COPY $ Trash\r\n", "UID COPY", &CopyCommand{UID: true, SeqSet: SeqSet{Saved: true}, Mailbox: "Trash"}},
		{"a MOVE 1:* Archive\r\n", "MOVE", &MoveCommand{SeqSet: seq("1:*"), Mailbox: "Archive"}},
		{"a uid move 42 Archive\r\n", "UID MOVE", &MoveCommand{UID: true, SeqSet: seq("42"), Mailbox: "Archive"}},
		{"a STORE 2:4 +FLAGS (\\Deleted)\r\n", "STORE", &StoreCommand{SeqSet: seq("2:4"), Mode: StoreAdd, Flags: []string{FlagDeleted}}},
		{"a STORE 1 -FLAGS.SILENT \\SEEN $Junk\r\n", "STORE", &StoreCommand{SeqSet: seq("1"), Mode: StoreRemove, Silent: true, Flags: []string{FlagSeen, "$Junk"}}},
		{"a UID STORE 5 FLAGS ()\r\n", "UID STORE", &StoreCommand{UID: true, SeqSet: seq("5"), Mode: StoreReplace, Flags: []string{}}},
		{"a STORE 7,5,9 (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\\Deleted)\r\n", "STORE",
			&StoreCommand{SeqSet: seq("7,5,9"), Mode: StoreAdd, Silent: true, Flags: []string{FlagDeleted}, UnchangedSince: 320162338, HasUnchangedSince: true}},
		{"a STORE 1 (UNCHANGEDSINCE 0) FLAGS.SILENT (\\Extension)\r\n", "STORE",
			&StoreCommand{SeqSet: seq("1"), Mode: StoreReplace, Silent: true, Flags: []string{`\Extension`}, HasUnchangedSince: true}},
		{"a GETQUOTA \"\"\r\n", "GETQUOTA", &GetQuotaCommand{Root: ""}},
		{"a GETQUOTAROOT INBOX\r\n", "GETQUOTAROOT", &GetQuotaRootCommand{Mailbox: "INBOX"}},
		{"a SETQUOTA \"\" (storage 512 MESSAGE 1000)\r\n", "SETQUOTA",
			&SetQuotaCommand{Root: "", Limits: []QuotaLimit{{"STORAGE", 512}, {"MESSAGE", 1000}}}},
		{"a SETQUOTA \"\" ()\r\n", "SETQUOTA", &SetQuotaCommand{Root: "", Limits: []QuotaLimit{}}},
		{"a COMPRESS deflate\r\n", "COMPRESS", &CompressCommand{Mechanism: "DEFLATE"}},
		{"a FETCH 1 ALL\r\n", "FETCH", &FetchCommand{SeqSet: seq("1"), Items: fetchMacro("ALL")}},
		{"a FETCH 1:* fast\r\n", "FETCH", &FetchCommand{SeqSet: seq("1:*"), Items: fetchMacro("FAST")}},
		{"a FETCH 2 FULL\r\n", "FETCH", &FetchCommand{SeqSet: seq("2"), Items: fetchMacro("FULL")}},
		{"a FETCH 2 body[]\r\n", "FETCH", &FetchCommand{SeqSet: seq("2"), Items: []FetchItem{{Kind: FetchBodySection}}}},
		{"a UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345 VANISHED)\r\n", "UID FETCH",
			&FetchCommand{UID: true, SeqSet: seq("1:*"), Items: []FetchItem{{Kind: FetchFlags}, {Kind: FetchUID}}, ChangedSince: 12345, Vanished: true}},
		{"a FETCH 1:3 (UID FLAGS MODSEQ) (CHANGEDSINCE 7)\r\n", "FETCH",
			&FetchCommand{SeqSet: seq("1:3"), Items: []FetchItem{{Kind: FetchUID}, {Kind: FetchFlags}, {Kind: FetchModSeq}}, ChangedSince: 7}},
		{"a UID FETCH 4827313:4828442 FLAGS\r\n", "UID FETCH",
			&FetchCommand{UID: true, SeqSet: seq("4827313:4828442"), Items: []FetchItem{{Kind: FetchFlags}, {Kind: FetchUID}}}},
		{"a APPEND INBOX {5}\r\nhello\r\n", "APPEND", &AppendCommand{Mailbox: "INBOX", Messages: []AppendMessage{{Size: 5, Sync: true}}}},
		{"a APPEND saved-messages (\\Seen) \"17-Jul-1996 02:44:25 -0700\" {4+}\r\nabcd\r\n", "APPEND",
			&AppendCommand{Mailbox: "saved-messages", Messages: []AppendMessage{{Flags: []string{FlagSeen}, Date: time.Date(1996, 7, 17, 2, 44, 25, 0, pst), Size: 4}}}},
		{"a APPEND INBOX \" 7-Jul-1996 02:44:25 +0000\" ~{3}\r\na\x00b\r\n", "APPEND",
			&AppendCommand{Mailbox: "INBOX", Messages: []AppendMessage{{Date: time.Date(1996, 7, 7, 2, 44, 25, 0, time.UTC), Size: 3, Binary: true, Sync: true}}}},
		{"a APPEND INBOX UTF8 (~{2+}\r\nhi)\r\n", "APPEND",
			&AppendCommand{Mailbox: "INBOX", Messages: []AppendMessage{{Size: 2, UTF8: true, Binary: true}}}},
		{"a APPEND {5}\r\nDraft (\\Draft) {1}\r\nx {2+}\r\nyz\r\n", "APPEND",
			&AppendCommand{Mailbox: "Draft", Messages: []AppendMessage{{Flags: []string{FlagDraft}, Size: 1, Sync: true}, {Size: 2}}}},
		{"a APPEND INBOX {0}\r\n\r\n", "APPEND", &AppendCommand{Mailbox: "INBOX", Messages: []AppendMessage{{Size: 0, Sync: true}}}},
		{"a APPEND {5}\r\nDraft (\\Draft $x) \" 7-Jul-1996 02:44:25 +0000\" UTF8 (~{3+}\r\na\x00b) ~{2}\r\nxy {0+}\r\n\r\n", "APPEND",
			&AppendCommand{Mailbox: "Draft", Messages: []AppendMessage{
				{Flags: []string{FlagDraft, "$x"}, Date: time.Date(1996, 7, 7, 2, 44, 25, 0, time.UTC), Size: 3, Binary: true, UTF8: true},
				{Size: 2, Binary: true, Sync: true}, {Size: 0}}}},
	}
	for _, tc := range tests {
		t.Run(strings.TrimSpace(tc.in[:min(len(tc.in), 40)]), func(t *testing.T) {
			recs := checkSplits(t, Options{}, tc.in, nil, nil)
			last := recs[len(recs)-1]
			if last.Err != "" || last.Kind != EventCommand {
				t.Fatalf("got %s", describe(recs))
			}
			if last.Tag != "a" || last.Name != tc.name {
				t.Errorf("tag/name = %q %q, want a %q", last.Tag, last.Name, tc.name)
			}
			if !reflect.DeepEqual(last.Args, tc.args) {
				t.Errorf("args\n got %+v\nwant %+v", last.Args, tc.args)
			}
		})
	}
}

// appendTranscript feeds an APPEND and returns each message's bytes.
func TestAppendStreamsMessageData(t *testing.T) {
	// The first message ends in what looks like a literal announcement;
	// it is data, counted by the announced size.
	in := "A003 APPEND Drafts (\\Seen) {24}\r\nFrom: a@b\r\n\r\nbody {text} (\\Draft) {3+}\r\nxyz\r\nA004 NOOP\r\n"
	recs := checkSplits(t, Options{}, in, nil, nil)
	want := []string{"From: a@b\r\n\r\nbody {text}", "xyz"}
	var got []string
	var kinds []EventKind
	for _, r := range recs {
		kinds = append(kinds, r.Kind)
		if r.Kind == EventAppendData {
			got = append(got, r.Data)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("data %q, want %q\n%s", got, want, describe(recs))
	}
	wantKinds := []EventKind{EventAppendMessage, EventAppendData, EventAppendMessageEnd,
		EventAppendMessage, EventAppendData, EventAppendMessageEnd, EventCommand, EventCommand}
	if !reflect.DeepEqual(kinds, wantKinds) {
		t.Fatalf("kinds %v, want %v", kinds, wantKinds)
	}
	if recs[0].Mailbox != "Drafts" || recs[0].Tag != "A003" || !recs[0].Literal.Sync || recs[0].Literal.Size != 24 {
		t.Errorf("first message event %v", recs[0])
	}
	if recs[3].Literal.Sync || recs[3].Message.Flags[0] != FlagDraft {
		t.Errorf("second message event %v", recs[3])
	}
	if recs[7].Name != "NOOP" || recs[7].Tag != "A004" {
		t.Errorf("pipelined command %v", recs[7])
	}
}

func TestAppendLargeIsNotBuffered(t *testing.T) {
	const size = 50 << 20
	p := NewParser(Options{})
	p.Feed([]byte("A1 APPEND INBOX {52428800}\r\n"))
	ev, err := p.Next()
	if err != nil || ev.Kind != EventAppendMessage || ev.Literal.Size != size {
		t.Fatalf("got %+v %v", ev, err)
	}
	p.Accept()
	chunk := make([]byte, 16<<10)
	for i := range chunk {
		chunk[i] = 'a' + byte(i%26)
	}
	var received int64
	maxCap := 0
	for fed := 0; fed < size; fed += len(chunk) {
		p.Feed(chunk)
		for {
			ev, err := p.Next()
			if err != nil {
				t.Fatal(err)
			}
			if ev.Kind == EventNeedMore {
				break
			}
			if ev.Kind == EventAppendMessageEnd && received == size {
				continue
			}
			if ev.Kind != EventAppendData {
				t.Fatalf("unexpected %+v", ev)
			}
			received += int64(len(ev.Data))
		}
		maxCap = max(maxCap, cap(p.buf))
	}
	p.Feed([]byte("\r\n"))
	ev, _ = p.Next()
	if ev.Kind != EventCommand || len(ev.Command.Args.(*AppendCommand).Messages) != 1 {
		t.Fatalf("got %+v", ev)
	}
	if received != size {
		t.Fatalf("received %d bytes, want %d", received, size)
	}
	if maxCap > 64<<10 {
		t.Fatalf("parser buffer grew to %d bytes while streaming", maxCap)
	}
}

func TestAppendLimitRejectWithoutReading(t *testing.T) {
	const limit = 1000
	decide := func(ev Event) bool { return ev.Kind != EventAppendMessage || ev.Literal.Size <= limit }
	// Synchronizing: the client never sends the data after the tagged NO.
	recs := checkSplits(t, Options{}, "A1 APPEND INBOX (\\Seen) {5000}\r\nA2 NOOP\r\n", decide, nil)
	if len(recs) != 2 || recs[0].Kind != EventAppendMessage || recs[0].Literal.Size != 5000 ||
		recs[0].Tag != "A1" || recs[0].Name != "APPEND" || recs[1].Name != "NOOP" {
		t.Fatalf("got %s", describe(recs))
	}
	// Non-synchronizing: the data comes anyway and is skipped, including
	// further messages of a MULTIAPPEND.
	in := "A1 APPEND INBOX {5000+}\r\n" + strings.Repeat("x", 5000) + " {3+}\r\nabc\r\nA2 NOOP\r\n"
	recs = runChunks(t, Options{}, []string{in}, decide, nil)
	if len(recs) != 2 || recs[0].Literal.Sync || recs[1].Name != "NOOP" {
		t.Fatalf("got %s", describe(recs))
	}
}

func TestLiteralDecisions(t *testing.T) {
	// A rejected synchronizing literal ends the command.
	reject := func(Event) bool { return false }
	recs := checkSplits(t, Options{}, "a LOGIN {3}\r\nb NOOP\r\n", reject, nil)
	if len(recs) != 2 || recs[0].Kind != EventLiteral || recs[0].Name != "LOGIN" || recs[1].Tag != "b" {
		t.Fatalf("got %s", describe(recs))
	}
	// Next repeats the request until the caller decides.
	p := NewParser(Options{})
	p.Feed([]byte("a LOGIN {3}\r\nbob x\r\n"))
	for range 3 {
		if ev, err := p.Next(); err != nil || ev.Kind != EventLiteral || ev.Literal.Size != 3 {
			t.Fatalf("got %+v %v", ev, err)
		}
	}
	p.Accept()
	if ev, err := p.Next(); err != nil || ev.Kind != EventCommand {
		t.Fatalf("got %+v %v", ev, err)
	}
}

func TestLiteralLimits(t *testing.T) {
	tests := []struct {
		name  string
		opts  Options
		in    string
		err   error
		fatal bool
	}{
		{"too large sync", Options{MaxLiteral: 10}, "a LOGIN {11}\r\n", ErrLiteralTooLarge, false},
		{"too large nonsync", Options{MaxLiteral: 10}, "a LOGIN {11+}\r\n0123456789a x\r\n", ErrLiteralTooLarge, false},
		{"literal minus", Options{Literals: LiteralMinus}, "a LOGIN {4097+}\r\n" + strings.Repeat("p", 4097) + " x\r\n", ErrLiteralTooLarge, true},
		{"sync only", Options{Literals: LiteralSync}, "a LOGIN {3+}\r\nbob x\r\n", ErrNonSyncLiteral, false},
		{"literal8 outside append", Options{}, "a LOGIN ~{3}\r\n", ErrSyntax, false},
		{"command too large", Options{MaxCommand: 100, MaxLiteral: 1000}, "a LOGIN {200+}\r\n" + strings.Repeat("p", 200) + " x\r\n", ErrCommandTooLarge, false},
		{"overflowing size", Options{}, "a LOGIN {99999999999999999999}\r\n", ErrLiteralTooLarge, false},
		{"unknown command before literal", Options{}, "a FROB {3}\r\n", ErrUnknownCommand, false},
		{"bad syntax before literal", Options{}, "a FETCH 1 {3}\r\n", ErrSyntax, false},
		{"append nonsync minus", Options{Literals: LiteralMinus}, "a APPEND INBOX {5000+}\r\n" + strings.Repeat("m", 5000) + "\r\n", ErrLiteralTooLarge, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recs := checkSplits(t, tc.opts, tc.in+"b NOOP\r\n", nil, nil)
			if len(recs) != 2 || recs[0].Err != tc.err.Error() || recs[0].ErrTag != "a" || recs[0].Fatal != tc.fatal {
				t.Fatalf("got %s", describe(recs))
			}
			if recs[1].Name != "NOOP" || recs[1].Tag != "b" {
				t.Fatalf("no resync: %s", describe(recs))
			}
		})
	}
}

func TestParseErrorsResync(t *testing.T) {
	long := "a LOGIN " + strings.Repeat("x", 300) + " y\r\n"
	tests := []struct {
		name string
		in   string
		err  error
		tag  string
	}{
		{"unknown command", "a FROB\r\n", ErrUnknownCommand, "a"},
		{"unknown uid command", "a UID FROB 1\r\n", ErrUnknownCommand, "a"},
		{"no command", "a\r\n", ErrSyntax, "a"},
		{"no tag", " NOOP\r\n", ErrSyntax, ""},
		{"plus in tag", "a+ NOOP\r\n", ErrSyntax, ""},
		{"8-bit tag", "\xff\xfe NOOP\r\n", ErrBadChar, ""},
		{"8-bit in atom", "a LOGIN b\xe9b x\r\n", ErrBadChar, "a"},
		{"saved set combined", "a UID COPY 1,$ Trash\r\n", ErrBadSeqSet, "a"},
		{"invalid utf8 quoted", "a LOGIN \"\xff\" x\r\n", ErrBadChar, "a"},
		{"nul in quoted", "a LOGIN \"\x00\" x\r\n", ErrBadChar, "a"},
		{"nul in literal", "a LOGIN {1+}\r\n\x00 x\r\n", ErrBadChar, "a"},
		{"unbalanced open", "a FETCH 1 (FLAGS UID\r\n", ErrParens, "a"},
		{"unbalanced close", "a NOOP)\r\n", ErrParens, "a"},
		{"search parens", "a SEARCH (SEEN (FLAGGED)\r\n", ErrParens, "a"},
		{"bad seqset", "a FETCH 1:0 FLAGS\r\n", ErrBadSeqSet, "a"},
		{"bad seqset comma", "a FETCH 1,,2 FLAGS\r\n", ErrBadSeqSet, "a"},
		{"missing seqset", "a FETCH FLAGS\r\n", ErrBadSeqSet, "a"},
		{"trailing garbage", "a NOOP now\r\n", ErrSyntax, "a"},
		{"vanished without changedsince", "a UID FETCH 1 FLAGS (VANISHED)\r\n", ErrSyntax, "a"},
		{"vanished without uid", "a FETCH 1 FLAGS (CHANGEDSINCE 1 VANISHED)\r\n", ErrSyntax, "a"},
		{"unknown fetch item", "a FETCH 1 FOO\r\n", ErrSyntax, "a"},
		{"mime without part", "a FETCH 1 BODY[MIME]\r\n", ErrSyntax, "a"},
		{"binary with text", "a FETCH 1 BINARY[1.TEXT]\r\n", ErrSyntax, "a"},
		{"zero partial", "a FETCH 1 BODY[]<0.0>\r\n", ErrSyntax, "a"},
		{"bad mutf7", "a SELECT &Jjo\r\n", ErrMailboxName, "a"},
		{"8-bit mailbox without utf8", "a SELECT \"Entw\xc3\xbcrfe\"\r\n", ErrMailboxName, "a"},
		{"bad date", "a SEARCH SINCE 31-Feb-2024\r\n", ErrSyntax, "a"},
		{"bad append date", "a APPEND INBOX \"1-Jul-1996\" {1}\r\n", ErrSyntax, "a"},
		{"append without literal", "a APPEND INBOX\r\n", ErrSyntax, "a"},
		{"bad base64", "a AUTHENTICATE PLAIN abc\r\n", ErrBase64, "a"},
		{"unknown search key", "a SEARCH FOO\r\n", ErrSyntax, "a"},
		{"unknown select param", "a SELECT INBOX (FOO)\r\n", ErrSyntax, "a"},
		{"recursivematch alone", "a LIST (RECURSIVEMATCH) \"\" *\r\n", ErrSyntax, "a"},
		{"unknown list option", "a LIST (FOO) \"\" *\r\n", ErrSyntax, "a"},
		{"unknown return option", "a SEARCH RETURN (FOO) ALL\r\n", ErrSyntax, "a"},
		{"line too long", long, ErrLineTooLong, "a"},
		{"too deep", "a SEARCH " + strings.Repeat("NOT ", 40) + "ALL\r\n", ErrTooDeep, "a"},
		{"too deep parens", "a SEARCH " + strings.Repeat("(", 40) + "ALL" + strings.Repeat(")", 40) + "\r\n", ErrTooDeep, "a"},
		{"control char", "a NOOP\x01\r\n", ErrBadChar, "a"},
		{"literal mid line", "a LOGIN {3} x\r\n", ErrSyntax, "a"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recs := checkSplits(t, Options{MaxLine: 200}, tc.in+"b NOOP\r\n", nil, nil)
			if len(recs) != 2 || recs[0].Err != tc.err.Error() || recs[0].ErrTag != tc.tag {
				t.Fatalf("got %s", describe(recs))
			}
			if recs[1].Name != "NOOP" || recs[1].Tag != "b" {
				t.Fatalf("no resync: %s", describe(recs))
			}
		})
	}
}

func TestParseErrorDetails(t *testing.T) {
	p := NewParser(Options{})
	p.Feed([]byte("x1 UID FETCH 1:0 FLAGS\r\n"))
	_, err := p.Next()
	var pe *ParseError
	if !errors.As(err, &pe) || !errors.Is(err, ErrBadSeqSet) {
		t.Fatalf("got %v", err)
	}
	if pe.Tag != "x1" || pe.Command != "UID FETCH" || pe.ResponseText() == "" {
		t.Fatalf("got %+v", pe)
	}
	for _, c := range pe.ResponseText() {
		if c < 0x20 || c > 0x7e {
			t.Fatalf("response text %q is not printable ASCII", pe.ResponseText())
		}
	}
}

func TestLineLimitAfterLiteralAndSkipOfLongLine(t *testing.T) {
	// An overlong line that ends with a non-synchronizing literal: the
	// literal's bytes must be skipped too, or they would run as commands.
	in := "a LOGIN " + strings.Repeat("x", 500) + " {9+}\r\nc LOGOUT\r\nb NOOP\r\n"
	recs := checkSplits(t, Options{MaxLine: 100}, in, nil, nil)
	if len(recs) != 2 || recs[0].Err != ErrLineTooLong.Error() || recs[1].Tag != "b" {
		t.Fatalf("got %s", describe(recs))
	}
}

func TestEmptyLinesIgnored(t *testing.T) {
	recs := checkSplits(t, Options{}, "\r\n\na NOOP\r\n", nil, nil)
	if len(recs) != 1 || recs[0].Name != "NOOP" {
		t.Fatalf("got %s", describe(recs))
	}
}

func TestIdleDone(t *testing.T) {
	after := func(p *Parser, cmd *Command) {
		if cmd.Name == "IDLE" {
			p.ExpectDone()
		}
	}
	recs := checkSplits(t, Options{}, "a IDLE\r\ndone\r\nb IDLE\r\nc NOOP\r\nd NOOP\r\n", nil, after)
	if len(recs) != 5 || recs[1].Kind != EventDone || recs[1].Tag != "a" ||
		recs[3].Err != ErrExpectedDone.Error() || recs[3].ErrTag != "b" || recs[4].Tag != "d" {
		t.Fatalf("got %s", describe(recs))
	}
}

// TestIdleDoneOnNewParser: a session that dropped its parser while idling
// makes a new one that still ends the right IDLE.
func TestIdleDoneOnNewParser(t *testing.T) {
	p := NewParser(Options{})
	p.ExpectDoneOf("a7")
	p.Feed([]byte("DONE\r\nb NOOP\r\n"))
	ev, err := p.Next()
	if err != nil || ev.Kind != EventDone || ev.Tag != "a7" {
		t.Fatalf("DONE: %+v, %v", ev, err)
	}
	ev, err = p.Next()
	if err != nil || ev.Kind != EventCommand || ev.Command.Name != "NOOP" {
		t.Fatalf("after DONE: %+v, %v", ev, err)
	}
	q := NewParser(Options{})
	q.ExpectDoneOf("a8")
	q.Feed([]byte("c NOOP\r\n"))
	if _, err := q.Next(); !errors.Is(err, ErrExpectedDone) {
		t.Fatalf("a command instead of DONE: %v", err)
	}
}

func TestAuthenticateExchange(t *testing.T) {
	after := func(p *Parser, cmd *Command) {
		if cmd.Name == "AUTHENTICATE" {
			p.ExpectAuthResponse()
		}
	}
	in := "a AUTHENTICATE PLAIN\r\nAGJvYgBzM2NyZXQ=\r\nb AUTHENTICATE PLAIN\r\n*\r\nc AUTHENTICATE PLAIN\r\n!!\r\nd NOOP\r\n"
	recs := checkSplits(t, Options{}, in, nil, after)
	if len(recs) != 7 {
		t.Fatalf("got %s", describe(recs))
	}
	if recs[1].Kind != EventAuthResponse || recs[1].Data != "\x00bob\x00s3cret" || recs[1].Tag != "a" {
		t.Errorf("response %v", recs[1])
	}
	if !recs[3].Cancel || recs[3].Tag != "b" {
		t.Errorf("cancel %v", recs[3])
	}
	if recs[5].Err != ErrBase64.Error() || recs[5].ErrTag != "c" || recs[6].Tag != "d" {
		t.Errorf("bad base64 %v %v", recs[5], recs[6])
	}
}

func TestUTF8Mailboxes(t *testing.T) {
	recs := checkSplits(t, Options{UTF8: true}, "a SELECT \"Entw\xc3\xbcrfe\"\r\nb CREATE \"R&D\"\r\nc CREATE \"Q&-A \xc3\xa9\"\r\n", nil, nil)
	if recs[0].Args.(*SelectCommand).Mailbox != "Entwürfe" || recs[1].Args.(*CreateCommand).Mailbox != "R&D" ||
		recs[2].Args.(*CreateCommand).Mailbox != "Q&A é" {
		t.Fatalf("got %s", describe(recs))
	}
	p := NewParser(Options{})
	p.SetUTF8(true)
	p.Feed([]byte("a SELECT {6+}\r\n\xff\xfe\xfd\xfc\xfb\xfa\r\n"))
	if _, err := p.Next(); !errors.Is(err, ErrMailboxName) {
		t.Fatalf("invalid UTF-8 name: %v", err)
	}
}

func TestDiscardAndRelease(t *testing.T) {
	p := NewParser(Options{})
	p.Feed([]byte("a STARTTLS\r\nb LOGIN injected x\r\n"))
	ev, _ := p.Next()
	if ev.Command == nil || ev.Name != "STARTTLS" {
		t.Fatalf("got %+v", ev)
	}
	if string(p.Buffered()) != "b LOGIN injected x\r\n" {
		t.Fatalf("buffered %q", p.Buffered())
	}
	p.Discard()
	if ev, _ := p.Next(); ev.Kind != EventNeedMore {
		t.Fatalf("after Discard got %+v", ev)
	}
	p.Release()
	if p.buf != nil {
		t.Fatal("Release kept the buffer")
	}
	p.Feed([]byte("c NOOP\r\n"))
	if ev, _ := p.Next(); ev.Name != "NOOP" {
		t.Fatalf("got %+v", ev)
	}
}

func TestAppendErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		err  error
	}{
		{"garbage after message", "a APPEND INBOX {1+}\r\nx garbage\r\n", ErrSyntax},
		{"utf8 without close", "a APPEND INBOX UTF8 (~{1+}\r\nx\r\n", ErrParens},
		{"utf8 without literal8", "a APPEND INBOX UTF8 ({1+}\r\nx)\r\n", ErrSyntax},
		{"bad flag", "a APPEND INBOX (\\) {1+}\r\nx\r\n", ErrSyntax},
		{"bad mailbox", "a APPEND &x {1+}\r\nx\r\n", ErrMailboxName},
		{"second message bad", "a APPEND INBOX {1+}\r\nx (\\Seen) \"bad\" {2+}\r\nyz\r\n", ErrSyntax},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recs := checkSplits(t, Options{}, tc.in+"b NOOP\r\n", nil, nil)
			var errRec *record
			for i := range recs {
				if recs[i].Err != "" {
					errRec = &recs[i]
				}
				if recs[i].Kind == EventCommand && recs[i].Name == "APPEND" {
					t.Fatalf("APPEND completed: %s", describe(recs))
				}
			}
			if errRec == nil || errRec.Err != tc.err.Error() || errRec.ErrTag != "a" {
				t.Fatalf("got %s", describe(recs))
			}
			if last := recs[len(recs)-1]; last.Name != "NOOP" || last.Tag != "b" {
				t.Fatalf("no resync: %s", describe(recs))
			}
		})
	}
}

func TestLiteralMinusAcceptsSmall(t *testing.T) {
	recs := checkSplits(t, Options{Literals: LiteralMinus}, "a LOGIN {4+}\r\nuser {4096+}\r\n"+strings.Repeat("p", 4096)+"\r\n", nil, nil)
	if len(recs) != 1 || recs[0].Args.(*LoginCommand).Password != strings.Repeat("p", 4096) {
		t.Fatalf("got %d records", len(recs))
	}
}

func TestSearchLiteralAnnounced(t *testing.T) {
	recs := checkSplits(t, Options{}, "a SEARCH CHARSET UTF-8 SUBJECT {6}\r\nGr\xc3\xbc\xc3\x9f\r\n", nil, nil)
	if len(recs) != 2 || recs[0].Kind != EventLiteral || recs[0].Name != "SEARCH" || recs[0].Literal.Size != 6 {
		t.Fatalf("got %s", describe(recs))
	}
	sc := recs[1].Args.(*SearchCommand)
	if sc.Charset != "UTF-8" || sc.Criteria.Op != SearchHeader || sc.Criteria.Value != "Grüß" {
		t.Fatalf("got %+v", sc)
	}
}
