package testcorpus

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
)

// largeBoundary and the fixed header text make Large's size computable
// before a byte is produced.
const largeBoundary = "large-boundary-7f3a9c"

// largeFiller is the text that pads the text part; it is cut into 76
// character lines.
const largeFiller = "The quick brown fox jumps over the lazy dog while the mail store keeps every byte. "

// compressiblePattern is what a compressible attachment repeats.
const compressiblePattern = "Eider stores this repeating attachment content; a compressor should shrink it a lot.\n"

// Large returns a reader producing a message of about totalSize bytes with
// one base64 attachment of attachSize decoded bytes, and the reader's exact
// size. The message is multipart/mixed: a text part padded with filler text
// so that the total matches totalSize, then the attachment in 76 character
// CRLF lines. If totalSize is too small to hold the attachment, the message
// is as small as it can be and the returned size says so. The attachment
// repeats a text pattern when compressible is true and is deterministic
// random bytes otherwise. Nothing is built in memory beyond a line, so sizes
// of many gigabytes are fine. Each call returns a new reader with the same
// bytes.
func Large(totalSize, attachSize int64, compressible bool) (io.Reader, int64) {
	attachSize = max(attachSize, 0)
	kind := "random"
	if compressible {
		kind = "repeating"
	}
	head := "From: Large Sender <large.sender@example.com>\r\n" +
		"To: Benchmark <bench@example.org>\r\n" +
		fmt.Sprintf("Subject: Large message, %d bytes with a %d byte %s attachment\r\n", totalSize, attachSize, kind) +
		"Date: Mon, 01 Jan 2024 12:00:00 +0000\r\n" +
		fmt.Sprintf("Message-ID: <large-%d-%d-%s@example.com>\r\n", totalSize, attachSize, kind) +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"" + largeBoundary + "\"\r\n" +
		"\r\n" +
		"--" + largeBoundary + "\r\n" +
		"Content-Type: text/plain; charset=us-ascii\r\n" +
		"Content-Transfer-Encoding: 7bit\r\n" +
		"\r\n"
	mid := "\r\n--" + largeBoundary + "\r\n" +
		"Content-Type: application/octet-stream; name=\"large.bin\"\r\n" +
		"Content-Disposition: attachment; filename=\"large.bin\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n" +
		"\r\n"
	tail := "\r\n--" + largeBoundary + "--\r\n"

	// Encoded lines of 76 characters carry 57 bytes; the last line's CRLF
	// is the one that tail starts with.
	chars := (attachSize + 2) / 3 * 4
	encSize := chars
	if chars > 0 {
		encSize += 2 * ((chars+75)/76 - 1)
	}
	fixed := int64(len(head)+len(mid)+len(tail)) + encSize
	filler := max(totalSize-fixed, 0)

	var src func([]byte)
	if compressible {
		pos := 0
		src = func(p []byte) {
			for i := range p {
				p[i] = compressiblePattern[pos]
				pos = (pos + 1) % len(compressiblePattern)
			}
		}
	} else {
		r := newRNG(attachSize, 0x1a26e)
		src = r.fill
	}
	rd := io.MultiReader(
		bytes.NewReader([]byte(head)),
		&fillerReader{left: filler},
		bytes.NewReader([]byte(mid)),
		&b64Reader{left: attachSize, src: src},
		bytes.NewReader([]byte(tail)),
	)
	return rd, fixed + filler
}

// fillerReader produces left bytes of text in lines of 76 characters plus
// CRLF; the last line lacks the CRLF and is shorter (or 77 characters).
type fillerReader struct {
	left int64
	off  int // position in fillerPeriod
}

// fillerPeriod is the filler text cut into lines, up to the point where
// text and lines start over together, so that Read can copy blocks.
var fillerPeriod = func() []byte {
	var b []byte
	pos := 0
	for {
		for range 76 {
			b = append(b, largeFiller[pos])
			pos = (pos + 1) % len(largeFiller)
		}
		b = append(b, '\r', '\n')
		if pos == 0 {
			return b
		}
	}
}()

func (f *fillerReader) Read(p []byte) (int, error) {
	if f.left == 0 {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && f.left > 0 {
		chunk := fillerPeriod[f.off:]
		if int64(len(chunk)) > f.left {
			chunk = chunk[:f.left]
		}
		k := copy(p[n:], chunk)
		n += k
		f.left -= int64(k)
		f.off = (f.off + k) % len(fillerPeriod)
	}
	if f.left == 0 && n > 0 && p[n-1] == '\r' {
		// The part ends without a line break, so a CR here would be a lone CR.
		p[n-1] = '.'
	}
	return n, nil
}

// b64Reader produces the base64 encoding of left bytes taken from src, in
// 76 character lines separated by CRLF, one line at a time.
type b64Reader struct {
	left int64
	src  func([]byte)
	raw  [57]byte
	line [78]byte
	buf  []byte
}

func (b *b64Reader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(b.buf) == 0 {
			if b.left == 0 {
				break
			}
			k := int(min(b.left, 57))
			b.src(b.raw[:k])
			b.left -= int64(k)
			enc := base64.StdEncoding.EncodedLen(k)
			base64.StdEncoding.Encode(b.line[:], b.raw[:k])
			if b.left > 0 {
				b.line[enc], b.line[enc+1] = '\r', '\n'
				enc += 2
			}
			b.buf = b.line[:enc]
		}
		k := copy(p[n:], b.buf)
		b.buf = b.buf[k:]
		n += k
	}
	if n == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	return n, nil
}
