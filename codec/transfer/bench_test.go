package transfer

import (
	"bytes"
	"encoding/base64"
	"io"
	"testing"
)

// attachmentBody is a 4 MB attachment laid out the usual way (76, CRLF).
func attachmentBody() (content, body []byte) {
	content = pseudoRandom(42, 4<<20)
	return content, AppendBase64(nil, DefaultLayout(), content)
}

// BenchmarkBase64Decoder decodes and verifies a 4 MB attachment fed in 32 KB
// chunks, as ingest does; MB/s are of the encoded body.
func BenchmarkBase64Decoder(b *testing.B) {
	_, body := attachmentBody()
	out := make([]byte, 0, len(body))
	d := NewBase64Decoder()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		d.Reset()
		out = out[:0]
		for off := 0; off < len(body); off += 32 << 10 {
			var ok bool
			if out, _, ok = d.Write(out, body[off:min(off+32<<10, len(body))]); !ok {
				b.Fatal("rejected")
			}
		}
		if _, _, ok := d.Close(out); !ok {
			b.Fatal("rejected at close")
		}
	}
}

// BenchmarkStdlibBase64Decode is the floor to compare with: encoding/base64
// over the same body in one call, without verification.
func BenchmarkStdlibBase64Decode(b *testing.B) {
	_, body := attachmentBody()
	out := make([]byte, base64.StdEncoding.DecodedLen(len(body)))
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := base64.StdEncoding.Decode(out, body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBase64Range regenerates 64 KB ranges of the encoded attachment at
// scattered offsets, as a partial FETCH BODY[]<off.len> does; MB/s are of
// encoded output.
func BenchmarkBase64Range(b *testing.B) {
	content, body := attachmentBody()
	l := DefaultLayout()
	const n = 64 << 10
	var buf []byte
	b.SetBytes(n)
	b.ReportAllocs()
	i := int64(0)
	for b.Loop() {
		off := (i * 7919 * 1013) % (int64(len(body)) - n)
		i++
		decOff, decLen, skip := Base64Range(l, int64(len(content)), off, n)
		buf = EncodeRange(buf[:0], l, int64(len(content)), decOff, content[decOff:decOff+decLen])
		if !bytes.Equal(buf[skip:skip+n], body[off:off+n]) {
			b.Fatal("range differs")
		}
	}
}

// BenchmarkBase64Encoder writes the 4 MB attachment through NewBase64Encoder.
func BenchmarkBase64Encoder(b *testing.B) {
	content, _ := attachmentBody()
	b.SetBytes(int64(len(content)))
	for b.Loop() {
		w := NewBase64Encoder(io.Discard, DefaultLayout())
		for off := 0; off < len(content); off += 32 << 10 {
			w.Write(content[off:min(off+32<<10, len(content))])
		}
		w.Close()
	}
}

func BenchmarkBase64Reader(b *testing.B) {
	_, body := attachmentBody()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := io.Copy(io.Discard, NewBase64Reader(bytes.NewReader(body))); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBase64Counter(b *testing.B) {
	_, body := attachmentBody()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		c := NewBase64Counter()
		c.Write(body)
		c.Size()
	}
}

// qpLetter is 1 MB of mostly-ASCII text with accents, as QP bodies usually are.
func qpLetter() (text, body []byte) {
	line := []byte("Grüße aus Köln – the meeting moved to Tuesday; bring the=report and your laptop.\r\n")
	text = bytes.Repeat(line, (1<<20)/len(line))
	var buf bytes.Buffer
	w := NewQPEncoder(&buf, QPLayout{CRLF: true})
	w.Write(text)
	w.Close()
	return text, buf.Bytes()
}

func BenchmarkQPReader(b *testing.B) {
	_, body := qpLetter()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := io.Copy(io.Discard, NewQPReader(bytes.NewReader(body))); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkQPEncoder(b *testing.B) {
	text, _ := qpLetter()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		w := NewQPEncoder(io.Discard, QPLayout{CRLF: true})
		w.Write(text)
		w.Close()
	}
}

func BenchmarkQPChecker(b *testing.B) {
	_, body := qpLetter()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		var c QPChecker
		for off := 0; off < len(body); off += 32 << 10 {
			c.Write(body[off:min(off+32<<10, len(body))])
		}
		if _, ok := c.Close(); !ok {
			b.Fatal("rejected")
		}
	}
}
