package imapload

import (
	"bufio"
	"io"
	"strings"
	"testing"
)

func readAll(t *testing.T, stream string) []*Response {
	t.Helper()
	rd := NewReader(bufio.NewReaderSize(strings.NewReader(stream), 16))
	var out []*Response
	for {
		r, err := rd.Read()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("after %d responses: %v", len(out), err)
		}
		// Raw is reused by the next Read: keep a copy of what tests look at.
		cp := *r
		cp.Raw = append([]byte(nil), r.Raw...)
		out = append(out, &cp)
	}
}

func TestReadResponses(t *testing.T) {
	stream := "* OK [CAPABILITY IMAP4rev1 LITERAL+ IDLE] ready\r\n" +
		"* 12 EXISTS\r\n" +
		"* 3 EXPUNGE\r\n" +
		"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $bench1)\r\n" +
		"* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n" +
		"* OK [UIDVALIDITY 3857529045] UIDs valid\r\n" +
		"* 4 FETCH (UID 17 FLAGS (\\Seen $Bench1) RFC822.SIZE 44 MODSEQ (9) BODY[] {11}\r\nhello\r\nworl ENVELOPE (\"a \\\"b\\\"\" NIL))\r\n" +
		"* 5 FETCH (BODY[HEADER.FIELDS (FROM TO)]<0> \"x\" BODY[2] NIL UID 18)\r\n" +
		"* SEARCH 2 84 882\r\n" +
		"* SEARCH\r\n" +
		"* VANISHED (EARLIER) 41,43:116\r\n" +
		"+ idling\r\n" +
		"b7 OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n" +
		"b8 NO [TRYCREATE] no such mailbox\n"
	got := readAll(t, stream)
	if len(got) != 14 {
		t.Fatalf("%d responses", len(got))
	}
	if r := got[0]; r.Tag != "*" || r.Status != "OK" || r.Code != "CAPABILITY" || r.CodeArg != "IMAP4rev1 LITERAL+ IDLE" || r.Text != "ready" {
		t.Errorf("greeting %+v", r)
	}
	if r := got[1]; !r.HasNum || r.Num != 12 || r.Name != "EXISTS" {
		t.Errorf("exists %+v", r)
	}
	if r := got[4]; r.Code != "PERMANENTFLAGS" || r.CodeArg != `(\Deleted \Seen \*)` || r.Text != "Limited" {
		t.Errorf("permanentflags %+v", r)
	}
	fd, err := ParseFetch(got[6])
	if err != nil {
		t.Fatal(err)
	}
	if fd.Seq != 4 || fd.UID != 17 || fd.Size != 44 || fd.ModSeq != 9 || !HasFlag(fd.Flags, "$bench1") || HasFlag(fd.Flags, `\Deleted`) {
		t.Errorf("fetch %+v", fd)
	}
	if len(fd.Sections) != 1 || fd.Sections[0].Name != "BODY[]" || fd.Sections[0].Len != 11 {
		t.Errorf("sections %+v", fd.Sections)
	}
	env := got[6].Args[0].List[11]
	if env.Kind != KindList || string(env.List[0].Bytes) != `a "b"` || env.List[1].Kind != KindNil {
		t.Errorf("envelope %+v", env)
	}
	fd, err = ParseFetch(got[7])
	if err != nil {
		t.Fatal(err)
	}
	if fd.UID != 18 || fd.Size != -1 || len(fd.Sections) != 2 || fd.Sections[0].Name != "BODY[HEADER.FIELDS (FROM TO)]<0>" ||
		fd.Sections[0].Len != 1 || !fd.Sections[1].Nil {
		t.Errorf("fetch %+v", fd)
	}
	if uids, err := searchUIDs(got[8]); err != nil || len(uids) != 3 || uids[2] != 882 {
		t.Errorf("search %v %v", uids, err)
	}
	if uids, err := searchUIDs(got[9]); err != nil || len(uids) != 0 {
		t.Errorf("empty search %v %v", uids, err)
	}
	if r := got[10]; r.Name != "VANISHED" || len(r.Args) != 2 || r.Args[0].Kind != KindList {
		t.Errorf("vanished %+v", r)
	}
	if r := got[11]; r.Tag != "+" || r.Text != "idling" {
		t.Errorf("continuation %+v", r)
	}
	r := got[12]
	if r.Tag != "b7" || r.Status != "OK" || r.Code != "COPYUID" {
		t.Fatalf("tagged %+v", r)
	}
	cu, err := parseCopyUID(r.CodeArg, 100)
	if err != nil || cu.UIDValidity != 38505 || len(cu.Source) != 3 || cu.Source[1] != 319 || cu.Dest[2] != 3958 {
		t.Errorf("copyuid %+v %v", cu, err)
	}
	if r := got[13]; r.Tag != "b8" || r.Status != "NO" || r.Code != "TRYCREATE" || r.Text != "no such mailbox" {
		t.Errorf("no %+v", r)
	}
}

func TestParseErrors(t *testing.T) {
	for _, line := range []string{
		"\r\n",
		"*\r\n",
		"* 3\r\n",
		"* 3 FETCH (UID\r\n",
		"* 3 FETCH (UID 1 \"open\r\n",
		"* 3 FETCH (BODY[1 \"x\")\r\n",
		"* OK [UIDNEXT 4 ready\r\n",
		"* 3 FETCH (BODY[] {10}\r\nshort)\r\n",
		"b1 FETCH done\r\n",
		"* 3 OK oops\r\n",
		"* LIST (" + strings.Repeat("(", 100) + "\r\n",
	} {
		if r, err := ParseResponse([]byte(line)); err == nil {
			t.Errorf("%q parsed: %+v", line, r)
		}
	}
	for _, line := range []string{
		"* 3 FETCH (UID 0)\r\n",
		"* 3 FETCH (UID 1 FLAGS \\Seen)\r\n",
		"* 3 FETCH (UID)\r\n",
		"* 3 FETCH (RFC822.SIZE x)\r\n",
		"* 3 FETCH (BODY[] (1))\r\n",
		"* FETCH (UID 1)\r\n",
	} {
		r, err := ParseResponse([]byte(line))
		if err != nil {
			continue
		}
		if fd, err := ParseFetch(r); err == nil {
			t.Errorf("%q gave %+v", line, fd)
		}
	}
}

func TestLiteralLimits(t *testing.T) {
	rd := NewReader(bufio.NewReader(strings.NewReader("* 1 FETCH (BODY[] {99999999999}\r\n")))
	if _, err := rd.Read(); err == nil {
		t.Error("an 11-digit literal was accepted")
	}
	rd = NewReader(bufio.NewReader(strings.NewReader("* 1 FETCH (BODY[] {2000000000}\r\nabc")))
	if _, err := rd.Read(); err == nil {
		t.Error("a literal above the limit was accepted")
	}
	rd = NewReader(bufio.NewReader(strings.NewReader("* 1 FETCH (BODY[] {5}\r\nab")))
	if _, err := rd.Read(); err == nil {
		t.Error("a truncated literal was accepted")
	}
}

func TestUIDSets(t *testing.T) {
	uids, err := parseUIDSet("5,9:7,12", 10)
	if err != nil || len(uids) != 5 || uids[1] != 7 || uids[3] != 9 {
		t.Errorf("%v %v", uids, err)
	}
	for _, bad := range []string{"", "0", "1:*", "a", "1,,2", "4294967296"} {
		if _, err := parseUIDSet(bad, 10); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := parseUIDSet("1:4294967295", 1000); err == nil {
		t.Error("a huge range was expanded")
	}
	if _, err := parseCopyUID("1 1:3 7:8", 10); err == nil {
		t.Error("COPYUID with unequal sets accepted")
	}
	if au, err := parseAppendUID("38505 3955", 1); err != nil || au.UIDs[0] != 3955 {
		t.Errorf("%+v %v", au, err)
	}
}

func TestMix(t *testing.T) {
	m, err := ParseMix(DefaultMix)
	if err != nil {
		t.Fatal(err)
	}
	if m.String() != DefaultMix {
		t.Errorf("round trip %q", m.String())
	}
	for _, bad := range []string{"", "fetch", "fetch=x", "fetch=-1", "frobnicate=1", "fetch=1,fetch=2", "fetch=0"} {
		if _, err := ParseMix(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if v := verb("uid fetch 1:* (FLAGS)"); v != "UID FETCH" {
		t.Errorf("verb %q", v)
	}
}
