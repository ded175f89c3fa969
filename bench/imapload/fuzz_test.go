package imapload

import (
	"bufio"
	"bytes"
	"testing"
)

// FuzzReadResponse feeds arbitrary server output to the response reader
// and every parser behind it: none may panic or loop, whatever arrives.
func FuzzReadResponse(f *testing.F) {
	for _, s := range []string{
		"* OK [CAPABILITY IMAP4rev1 LITERAL+] ready\r\n",
		"* 4 FETCH (UID 17 FLAGS (\\Seen) RFC822.SIZE 44 MODSEQ (9) BODY[] {5}\r\nhello)\r\n",
		"* 5 FETCH (BODY[HEADER.FIELDS (FROM)]<0> \"x\" BINARY[2] ~{3}\r\nabc)\r\n",
		"* SEARCH 1 2 3 (MODSEQ 4)\r\n",
		"* VANISHED 1:3,7\r\n* 2 EXPUNGE\r\n* 9 EXISTS\r\n",
		"b1 OK [APPENDUID 1 5] done\r\nb2 OK [COPYUID 1 2:4 7:9] done\r\n",
		"+ idling\r\n",
		"* LIST (\\HasNoChildren) \"/\" {5}\r\nINBOX\r\n",
		"* ESEARCH (TAG \"b3\") UID ALL 1:5\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rd := NewReader(bufio.NewReaderSize(bytes.NewReader(data), 16))
		for range 1000 {
			r, err := rd.Read()
			if err != nil {
				return
			}
			switch {
			case r.Name == "FETCH":
				ParseFetch(r)
			case r.Name == "SEARCH":
				searchUIDs(r)
			case r.Name == "VANISHED" && len(r.Args) > 0:
				parseUIDSet(r.Args[len(r.Args)-1].String(), 1000)
			case r.Code == "APPENDUID":
				parseAppendUID(r.CodeArg, 1000)
			case r.Code == "COPYUID":
				parseCopyUID(r.CodeArg, 1000)
			}
			for _, v := range r.Args {
				_ = v.String()
				v.Uint()
			}
		}
	})
}

// FuzzParseMix checks that any --mix value is either refused or gives a
// mix that picks only known operations.
func FuzzParseMix(f *testing.F) {
	f.Add(DefaultMix)
	f.Add("fetch=1")
	f.Add("fetch=0,store=3,,")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMix(s)
		if err != nil {
			return
		}
		if _, err := ParseMix(m.String()); err != nil {
			t.Fatalf("%q → %q does not parse: %v", s, m.String(), err)
		}
	})
}
