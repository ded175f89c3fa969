package testcorpus

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/htmlindex"
	"pgregory.net/rapid"
)

// corpus is built once for the tests that read all of it.
var corpus = sync.OnceValue(Corpus)

func TestCorpusShape(t *testing.T) {
	c := corpus()
	if len(c) < 340 {
		t.Fatalf("Corpus has %d messages, want at least 340", len(c))
	}
	if n := len(Torture()); n < 40 {
		t.Fatalf("Torture has %d cases, want at least 40", n)
	}
	seen := map[string]bool{}
	for _, m := range c {
		if seen[m.Name] {
			t.Errorf("duplicate name %q", m.Name)
		}
		seen[m.Name] = true
		if m.Data == nil {
			t.Errorf("%s: nil Data", m.Name)
		}
		if len(m.Data) == 0 && m.Name != "torture/empty" {
			t.Errorf("%s: empty Data", m.Name)
		}
		if !strings.HasPrefix(m.Note, "valid: ") && !strings.HasPrefix(m.Note, "edge: ") && !strings.HasPrefix(m.Note, "invalid: ") {
			t.Errorf("%s: note %q lacks its valid/edge/invalid prefix", m.Name, m.Note)
		}
	}
}

// TestValidTortureCasesParse keeps the notes honest: what is called valid
// must pass the strict reader below.
func TestValidTortureCasesParse(t *testing.T) {
	for _, m := range Torture() {
		if strings.HasPrefix(m.Note, "valid: ") {
			if err := checkMessage(m.Data, &stats{kinds: map[string]int{}}); err != nil {
				t.Errorf("%s: %v", m.Name, err)
			}
		}
	}
}

func TestTortureDeterministic(t *testing.T) {
	a, b := Torture(), Torture()
	for i := range a {
		if a[i].Name != b[i].Name || !bytes.Equal(a[i].Data, b[i].Data) {
			t.Fatalf("%s differs between calls", a[i].Name)
		}
	}
	a[0].Data[0] ^= 1 // callers may scribble on what they get
	if bytes.Equal(a[0].Data, Torture()[0].Data) {
		t.Fatal("Torture returns shared slices")
	}
}

func TestGenerateDeterministic(t *testing.T) {
	a, b, other := Generate(7, 60), Generate(7, 60), Generate(8, 60)
	same := 0
	for i := range a {
		if !bytes.Equal(a[i].Data, b[i].Data) || a[i].Note != b[i].Note {
			t.Fatalf("%s: two calls with seed 7 differ", a[i].Name)
		}
		if bytes.Equal(a[i].Data, other[i].Data) {
			same++
		}
	}
	if same > 0 {
		t.Fatalf("%d messages are identical for seeds 7 and 8", same)
	}
	// Message i does not depend on how many were asked for.
	short := Generate(7, 5)
	for i := range short {
		if !bytes.Equal(short[i].Data, a[i].Data) {
			t.Fatalf("message %d depends on n", i)
		}
	}
}

// TestGeneratedMessagesParse checks that generated messages really are
// well-formed: the standard library's strict readers must walk every part,
// decode every transfer encoding and every charset.
func TestGeneratedMessagesParse(t *testing.T) {
	msgs := corpus()[len(Torture()):]
	var lf, utf8Hdr, big, small int
	kinds := map[string]int{}
	for _, m := range msgs {
		st := &stats{kinds: kinds}
		if err := checkMessage(m.Data, st); err != nil {
			t.Errorf("%s (%s): %v", m.Name, m.Note, err)
		}
		if !bytes.Contains(m.Data, []byte("\r\n")) {
			lf++
		}
		if strings.Contains(m.Note, "RFC 6532") {
			utf8Hdr++
		}
		switch {
		case len(m.Data) > 100<<10:
			big++
		case len(m.Data) < 2000:
			small++
		}
	}
	t.Logf("%d bare LF, %d UTF-8 headers, %d over 100 KiB, %d under 2 KB; parts: %v", lf, utf8Hdr, big, small, kinds)
	if lf < 10 || lf > 60 {
		t.Errorf("%d of 300 messages use bare LF, want about 30", lf)
	}
	if big == 0 || small == 0 {
		t.Errorf("sizes not spread: %d large, %d small", big, small)
	}
	for _, k := range []string{
		"multipart/mixed", "multipart/alternative", "multipart/related", "multipart/digest", "message/rfc822",
		"cte:base64", "cte:quoted-printable", "cte:8bit", "cte:binary",
		"charset:utf-8", "charset:iso-8859-1", "charset:windows-1252", "charset:koi8-r", "charset:shift_jis", "charset:iso-2022-jp",
	} {
		if kinds[k] == 0 {
			t.Errorf("no %s in Generate(1, 300)", k)
		}
	}
}

func TestGenerateLarge(t *testing.T) {
	msgs := GenerateWith(3, 2, Options{MinSize: 1 << 20, MaxSize: 1 << 20})
	for _, m := range msgs {
		if len(m.Data) < 900<<10 {
			t.Errorf("%s: %d bytes, want about 1 MiB", m.Name, len(m.Data))
		}
		if err := checkMessage(m.Data, &stats{kinds: map[string]int{}}); err != nil {
			t.Errorf("%s: %v", m.Name, err)
		}
	}
}

func TestGenerateProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		seed := rapid.Int64().Draw(t, "seed")
		a := GenerateWith(seed, 2, Options{MaxSize: 10000})
		b := GenerateWith(seed, 2, Options{MaxSize: 10000})
		for i := range a {
			if !bytes.Equal(a[i].Data, b[i].Data) {
				t.Fatalf("seed %d message %d not deterministic", seed, i)
			}
			if err := checkMessage(a[i].Data, &stats{kinds: map[string]int{}}); err != nil {
				t.Fatalf("seed %d %s: %v", seed, a[i].Name, err)
			}
		}
	})
}

func TestTextHeavy(t *testing.T) {
	a, b := TextHeavy(5, 50), TextHeavy(5, 50)
	total := 0
	for i := range a {
		if !bytes.Equal(a[i].Data, b[i].Data) {
			t.Fatalf("%s not deterministic", a[i].Name)
		}
		if err := checkMessage(a[i].Data, &stats{kinds: map[string]int{}}); err != nil {
			t.Errorf("%s: %v", a[i].Name, err)
		}
		total += len(a[i].Data)
	}
	if bytes.Equal(a[0].Data, TextHeavy(6, 1)[0].Data) {
		t.Error("seeds 5 and 6 give the same first message")
	}
	t.Logf("50 text messages, %d bytes", total)
}

func TestLarge(t *testing.T) {
	cases := []struct {
		total, attach int64
		compressible  bool
	}{
		{0, 0, false},
		{100, 10, true},
		{1 << 20, 0, false},
		{1 << 20, 700 << 10, false},
		{1 << 20, 700 << 10, true},
		{1<<20 + 12345, 600<<10 + 1, false},
		{1<<20 + 12346, 600<<10 + 2, true},
		{500, 1 << 20, false}, // too small: the attachment wins
	}
	for _, c := range cases {
		name := fmt.Sprintf("%d/%d/%v", c.total, c.attach, c.compressible)
		r, size := Large(c.total, c.attach, c.compressible)
		data, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if int64(len(data)) != size {
			t.Fatalf("%s: read %d bytes, announced %d", name, len(data), size)
		}
		if size < c.total || (size != c.total && c.total > 2000+c.attach*14/10) {
			t.Errorf("%s: size %d, asked for %d", name, size, c.total)
		}
		// Read again with odd-sized buffers: same bytes.
		r2, _ := Large(c.total, c.attach, c.compressible)
		h1, h2 := sha256.Sum256(data), sha256.New()
		if _, err := io.CopyBuffer(h2, struct{ io.Reader }{r2}, make([]byte, 77)); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(h1[:], h2.Sum(nil)) {
			t.Fatalf("%s: second read differs", name)
		}
		st := &stats{kinds: map[string]int{}}
		if err := checkMessage(data, st); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if int64(st.attachBytes) != c.attach {
			t.Errorf("%s: attachment decodes to %d bytes, want %d", name, st.attachBytes, c.attach)
		}
		if bytes.Contains(data, []byte("\r\r")) || bytes.Contains(bytes.ReplaceAll(data, []byte("\r\n"), nil), []byte("\n")) {
			t.Errorf("%s: line endings are not all CRLF", name)
		}
	}
}

func TestLargeCompressible(t *testing.T) {
	read := func(c bool) []byte {
		r, _ := Large(300<<10, 200<<10, c)
		b, _ := io.ReadAll(r)
		return b
	}
	rnd, rep := read(false), read(true)
	if len(rnd) != len(rep) {
		t.Fatalf("sizes differ: %d and %d", len(rnd), len(rep))
	}
	if bytes.Equal(rnd, rep) {
		t.Fatal("compressible makes no difference")
	}
}

func TestWithAttachment(t *testing.T) {
	att := pseudoRandom(9, 10000)
	a, b := WithAttachment(1, att), WithAttachment(2, att)
	if bytes.Equal(a, b) {
		t.Fatal("different indices give the same message")
	}
	part := func(m []byte) []byte {
		i := bytes.Index(m, []byte("Content-Type: application/octet-stream"))
		j := bytes.LastIndex(m, []byte("\r\n--dedup-"))
		return m[i:j]
	}
	if !bytes.Equal(part(a), part(b)) {
		t.Fatal("the attachment part differs between messages")
	}
	for _, m := range [][]byte{a, b, WithAttachment(3, nil)} {
		st := &stats{kinds: map[string]int{}}
		if err := checkMessage(m, st); err != nil {
			t.Fatal(err)
		}
	}
	st := &stats{kinds: map[string]int{}}
	_ = checkMessage(a, st)
	if !bytes.Equal(st.lastAttach, att) {
		t.Fatal("attachment does not decode to its bytes")
	}
	hdr, _ := mail.ReadMessage(bytes.NewReader(a))
	hdr2, _ := mail.ReadMessage(bytes.NewReader(b))
	if hdr.Header.Get("Message-ID") == hdr2.Header.Get("Message-ID") || hdr.Header.Get("Subject") == hdr2.Header.Get("Subject") {
		t.Fatal("Message-ID or Subject not distinct")
	}
}

// TestSamplesEncode checks that every sample fits the charsets that use it.
func TestSamplesEncode(t *testing.T) {
	for _, cs := range []charset{csUTF8, csASCII, csLatin1, csWin1252, csKOI8R, csShiftJIS, csISO2022} {
		var texts []string
		switch cs.lang {
		case langEnglish:
			texts = []string{paragraph(newRNG(1, 1))}
		case langWestern1252:
			texts = append(append(texts, samples[langWestern]...), samples[langWestern1252]...)
		case langAny:
			for _, l := range []language{langWestern, langWestern1252, langRussian, langJapanese, langAny} {
				texts = append(texts, samples[l]...)
			}
		default:
			texts = samples[cs.lang]
		}
		for _, p := range people[cs.lang] {
			texts = append(texts, p.name)
		}
		for _, s := range texts {
			func() {
				defer func() {
					if e := recover(); e != nil {
						t.Errorf("%s: %q: %v", cs.name, s, e)
					}
				}()
				b := cs.encode(s)
				if cs.sevenBit && !isASCII(b) {
					t.Errorf("%s: %q encodes with 8-bit bytes", cs.name, s)
				}
			}()
		}
	}
}

func TestQuotedPrintableRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		lines := rapid.SliceOf(rapid.SliceOf(rapid.Byte())).Draw(t, "lines")
		var in []byte
		for i, l := range lines {
			l = bytes.ReplaceAll(bytes.ReplaceAll(l, []byte("\n"), nil), []byte("\r"), nil)
			if i > 0 {
				in = append(in, '\n')
			}
			in = append(in, l...)
		}
		lower := rapid.Bool().Draw(t, "lower")
		enc := qpEncode(in, "\r\n", lower)
		for _, l := range strings.Split(string(enc), "\r\n") {
			if len(l) > 76 {
				t.Fatalf("line of %d characters: %q", len(l), l)
			}
			if strings.HasSuffix(l, " ") || strings.HasSuffix(l, "\t") {
				t.Fatalf("trailing blank: %q", l)
			}
		}
		dec, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(enc)))
		if err != nil {
			t.Fatal(err)
		}
		if want := bytes.ReplaceAll(in, []byte("\n"), []byte("\r\n")); !bytes.Equal(dec, want) {
			t.Fatalf("round trip: got %q, want %q", dec, want)
		}
	})
}

func TestEncodedWordsRoundTrip(t *testing.T) {
	dec := &mime.WordDecoder{CharsetReader: charsetReader}
	for _, cs := range []charset{csUTF8, csLatin1, csWin1252, csKOI8R, csShiftJIS, csISO2022} {
		for _, q := range []bool{false, true} {
			for _, s := range samples[cs.lang] {
				ew := encodedWords(cs, s, q)
				for _, w := range strings.Fields(ew) {
					if len(w) > 75 {
						t.Errorf("%s: word of %d characters", cs.name, len(w))
					}
				}
				got, err := dec.DecodeHeader(ew)
				if err != nil || got != s {
					t.Errorf("%s q=%v: %q decodes to %q, %v", cs.name, q, ew, got, err)
				}
			}
		}
	}
}

func TestFoldUnfolds(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		words := rapid.SliceOfN(rapid.StringMatching(`[!-~]{1,40}`), 1, 40).Draw(t, "words")
		v := strings.Join(words, " ")
		f := fold("Subject", v, "\r\n")
		if got := strings.ReplaceAll(f, "\r\n", ""); got != "Subject: "+v {
			t.Fatalf("unfolded %q, want %q", got, "Subject: "+v)
		}
		for _, l := range strings.Split(f, "\r\n") {
			if len(l) > 78 && strings.Contains(strings.TrimSpace(l), " ") {
				t.Fatalf("line of %d characters could have been folded: %q", len(l), l)
			}
		}
	})
}

func TestWrap(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := rapid.StringMatching(`[a-zé日 ]{0,300}`).Draw(t, "s")
		width := rapid.IntRange(1, 80).Draw(t, "width")
		lines := wrap(s, width)
		for _, l := range lines {
			if utf8.RuneCountInString(l) > width {
				t.Fatalf("line %q longer than %d", l, width)
			}
		}
		if strings.ReplaceAll(strings.Join(lines, ""), " ", "") != strings.ReplaceAll(s, " ", "") {
			t.Fatalf("wrap lost text: %q -> %q", s, lines)
		}
	})
}

// --- A strict reader built from the standard library, for the checks above ---

type stats struct {
	kinds       map[string]int
	attachBytes int    // decoded bytes of application/octet-stream parts
	lastAttach  []byte // the last such part
}

func charsetReader(cs string, r io.Reader) (io.Reader, error) {
	e, err := htmlindex.Get(cs)
	if err != nil {
		return nil, err
	}
	return e.NewDecoder().Reader(r), nil
}

func checkMessage(data []byte, st *stats) error {
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return err
	}
	for _, k := range []string{"From", "Date", "Message-Id"} {
		if m.Header.Get(k) == "" {
			return fmt.Errorf("no %s", k)
		}
	}
	if _, err := m.Header.Date(); err != nil {
		return err
	}
	dec := &mime.WordDecoder{CharsetReader: charsetReader}
	if _, err := dec.DecodeHeader(m.Header.Get("Subject")); err != nil {
		return fmt.Errorf("subject: %v", err)
	}
	ap := mail.AddressParser{WordDecoder: dec}
	for _, k := range []string{"From", "To", "Cc"} {
		if v := m.Header.Get(k); v != "" {
			if _, err := ap.ParseList(v); err != nil {
				return fmt.Errorf("%s %q: %v", k, v, err)
			}
		}
	}
	body, err := io.ReadAll(m.Body)
	if err != nil {
		return err
	}
	return checkEntity(textproto.MIMEHeader(m.Header), body, "text/plain", st, 0)
}

func checkEntity(h textproto.MIMEHeader, body []byte, defType string, st *stats, depth int) error {
	if depth > 20 {
		return errors.New("too deep")
	}
	mt, params := defType, map[string]string{}
	if ct := h.Get("Content-Type"); ct != "" {
		var err error
		if mt, params, err = mime.ParseMediaType(ct); err != nil {
			return fmt.Errorf("Content-Type %q: %v", ct, err)
		}
	}
	st.kinds[mt]++
	cte := strings.ToLower(h.Get("Content-Transfer-Encoding"))
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		def := "text/plain"
		if mt == "multipart/digest" {
			def = "message/rfc822"
		}
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		n := 0
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return fmt.Errorf("%s part %d: %v", mt, n, err)
			}
			b, err := io.ReadAll(p)
			if err != nil {
				return fmt.Errorf("%s part %d: %v", mt, n, err)
			}
			if err := checkEntity(p.Header, b, def, st, depth+1); err != nil {
				return fmt.Errorf("%s part %d: %v", mt, n, err)
			}
			n++
		}
		if n == 0 {
			return fmt.Errorf("%s without parts", mt)
		}
		return nil
	case mt == "message/rfc822":
		m, err := mail.ReadMessage(bytes.NewReader(body))
		if err != nil {
			return err
		}
		b, err := io.ReadAll(m.Body)
		if err != nil {
			return err
		}
		return checkEntity(textproto.MIMEHeader(m.Header), b, "text/plain", st, depth+1)
	}

	st.kinds["cte:"+cte]++
	var dec []byte
	switch cte {
	case "base64":
		var err error
		if dec, err = base64.StdEncoding.Strict().DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(string(body))); err != nil {
			return fmt.Errorf("base64: %v", err)
		}
	case "quoted-printable":
		var err error
		if dec, err = io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body))); err != nil {
			return fmt.Errorf("quoted-printable: %v", err)
		}
	case "", "7bit":
		if !isASCII(body) {
			return errors.New("8-bit bytes in a 7bit part")
		}
		dec = body
	case "8bit", "binary":
		dec = body
	default:
		return fmt.Errorf("unexpected transfer encoding %q", cte)
	}
	if mt == "application/octet-stream" {
		st.attachBytes += len(dec)
		st.lastAttach = dec
	}
	if strings.HasPrefix(mt, "text/") && mt != "text/csv" {
		cs := strings.ToLower(params["charset"])
		if cs == "" {
			cs = "us-ascii"
		}
		st.kinds["charset:"+cs]++
		e, err := htmlindex.Get(cs)
		if err != nil {
			return fmt.Errorf("charset %q: %v", cs, err)
		}
		text, err := e.NewDecoder().Bytes(dec)
		if err != nil {
			return fmt.Errorf("charset %q: %v", cs, err)
		}
		if bytes.ContainsRune(text, utf8.RuneError) {
			return fmt.Errorf("charset %q: text does not decode cleanly", cs)
		}
	}
	return nil
}
