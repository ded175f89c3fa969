package transfer

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// splitSizes turns a fuzzed number into a repeating pattern of chunk sizes.
func splitSizes(seed uint16) []int {
	return []int{int(seed%7) + 1, int(seed>>3%61) + 1, int(seed>>9%997) + 1}
}

func base64Seeds() []string {
	attachment := AppendBase64(nil, DefaultLayout(), pseudoRandom(7, 400))
	lf := AppendBase64(nil, Layout{LineLen: 64, FinalEOL: true}, pseudoRandom(8, 200))
	return []string{
		"", "\r\n", "\n", "QUJD", "QUJD\r\nRA==\r\n", "QR==", "QUI", "QUJD\r\n\r\nQUJD",
		"QUJD\r\nQUJD\nRA==", "QUJD \r\nRA==", "QUJDQUJD\r\nQUJD\r\nQUJDQUJD\r\n",
		strings.Repeat("QUJD", 251), "QUJD\rQUJD", "\r\nQUJD", "QQ==QUJD",
		string(attachment), string(lf), string(attachment[:len(attachment)-3]) + "*==\r\n",
	}
}

func FuzzBase64Decoder(f *testing.F) {
	for i, s := range base64Seeds() {
		f.Add([]byte(s), uint16(i*977))
	}
	f.Fuzz(func(t *testing.T, body []byte, seed uint16) {
		whole := decodeChunks(body, nil)
		checkFallback(t, body, whole)
		split := decodeChunks(body, splitSizes(seed))
		checkFallback(t, body, split)
		sameResult(t, whole, split, "split")
		if len(body) <= 4096 {
			sameResult(t, whole, decodeChunks(body, []int{1}), "byte at a time")
		}
		if whole.ok {
			size := int64(len(whole.decoded))
			off := int64(seed) % (int64(len(body)) + 1)
			n := int64(len(body)) - off
			decOff, decLen, skip := Base64Range(whole.layout, size, off, n)
			enc := EncodeRange(nil, whole.layout, size, decOff, whole.decoded[decOff:decOff+decLen])
			if !bytes.Equal(enc[skip:skip+n], body[off:]) {
				t.Fatalf("range [%d,+%d) regenerates differently", off, n)
			}
		}
	})
}

func FuzzBase64Reader(f *testing.F) {
	for _, s := range base64Seeds() {
		f.Add([]byte(s))
	}
	f.Add([]byte(" QU JD\t*R\x00A=!="))
	f.Add([]byte("QQ==QUI=QUJD"))
	f.Fuzz(func(t *testing.T, body []byte) {
		got := readAll(t, NewBase64Reader(bytes.NewReader(body)))
		if one := readAll(t, NewBase64Reader(iotest.OneByteReader(bytes.NewReader(body)))); !bytes.Equal(one, got) {
			t.Fatalf("byte-at-a-time read differs")
		}
		c := NewBase64Counter()
		c.Write(body)
		if c.Size() != int64(len(got)) {
			t.Fatalf("counter %d, reader %d", c.Size(), len(got))
		}
		// What the strict decoder accepts, the lenient one decodes alike.
		if r := decodeChunks(body, nil); r.ok && !bytes.Equal(r.decoded, got) {
			t.Fatalf("lenient and strict decoders disagree on a canonical body")
		}
	})
}

func qpSeeds() []string {
	letter := "Dear team,\r\n\r\nthe caf=C3=A9 on the corner is closed on Monday =E2=80=93 we meet at the=\r\n" +
		" station instead. Bring =3D signs and tabs\t=09\r\n\r\n-- =20\r\nAnna\r\n"
	return []string{
		"", "Hello", "caf=C3=A9", "caf=c3=a9", "ab=\r\ncd", "ab= \t\r\ncd", "a = b", "=ZZ=4", "abc=",
		"abc \r\n", "a\rb", "=0D=0A", "one\r\ntwo\nthree", strings.Repeat("x", 75) + "=\r\nxx",
		strings.Repeat("x", 80), letter, strings.ReplaceAll(letter, "\r\n", "\n"),
	}
}

func FuzzQPReader(f *testing.F) {
	for _, s := range qpSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got := readAll(t, NewQPReader(bytes.NewReader(body)))
		if one := readAll(t, NewQPReader(iotest.OneByteReader(bytes.NewReader(body)))); !bytes.Equal(one, got) {
			t.Fatalf("byte-at-a-time read differs:\n%q\n%q", one, got)
		}
		c := NewQPCounter()
		for i := 0; i < len(body); i += 3 {
			c.Write(body[i:min(i+3, len(body))])
		}
		if c.Size() != int64(len(got)) {
			t.Fatalf("counter %d, reader %d", c.Size(), len(got))
		}
		// Decoding never grows the body.
		if len(got) > len(body) {
			t.Fatalf("decoded %d bytes from %d", len(got), len(body))
		}
		// Re-encoding the text always gives a body that decodes back to it.
		for _, l := range []QPLayout{{CRLF: true}, {FinalEOL: true}} {
			var enc bytes.Buffer
			w := NewQPEncoder(&enc, l)
			w.Write(got)
			w.Close()
			if back := readAll(t, NewQPReader(&enc)); !bytes.Equal(back, got) {
				t.Fatalf("re-encoded text decodes to something else (%+v)", l)
			}
		}
	})
}

func FuzzQPChecker(f *testing.F) {
	for i, s := range qpSeeds() {
		f.Add([]byte(s), uint16(i*613))
	}
	f.Fuzz(func(t *testing.T, body []byte, seed uint16) {
		l, ok := checkQP(body, nil)
		l2, ok2 := checkQP(body, splitSizes(seed))
		if ok != ok2 || (ok && l != l2) {
			t.Fatalf("split changes the answer: %v %+v / %v %+v", ok, l, ok2, l2)
		}
		if !ok {
			return
		}
		text, err := io.ReadAll(NewQPReader(bytes.NewReader(body)))
		if err != nil {
			t.Fatal(err)
		}
		if re := encodeQP(t, l, text, nil); !bytes.Equal(re, body) {
			t.Fatalf("accepted with %+v but re-encoding differs:\n%q\n%q", l, body, re)
		}
	})
}
