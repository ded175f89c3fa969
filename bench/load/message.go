package load

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"time"
)

// vocabulary is the word pool of generated text: common English words
// so that text compresses and searches the way mail does.
var vocabulary = []string{
	"the", "meeting", "report", "about", "quarterly", "numbers", "please", "review", "attached", "draft",
	"before", "friday", "thanks", "team", "project", "update", "schedule", "customer", "order", "shipping",
	"invoice", "payment", "received", "question", "answer", "tomorrow", "morning", "afternoon", "call", "notes",
	"budget", "server", "release", "version", "issue", "fixed", "test", "results", "summary", "agenda",
	"travel", "hotel", "flight", "booking", "confirmed", "office", "lunch", "weekend", "holiday", "family",
	"and", "with", "from", "for", "this", "that", "will", "have", "we", "you", "our", "your", "can", "not",
	"is", "are", "was", "be", "to", "of", "in", "on", "at", "it", "as", "by", "or", "an", "if", "so",
}

var firstNames = []string{"Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy", "Mallory", "Oscar", "Peggy", "Trent", "Victor", "Walter"}
var lastNames = []string{"Archer", "Baker", "Carter", "Dalton", "Ellis", "Fisher", "Garcia", "Hughes", "Irwin", "Jensen", "Keller", "Lopez", "Moreau", "Novak"}

// MessageGen makes deterministic test messages: the same seed and stream
// give the same messages in the same order. It is not safe for concurrent
// use; give each client its own stream.
type MessageGen struct {
	r      *rand.Rand
	seed   uint64
	stream uint64
	n      int
}

// NewMessageGen returns a generator for one stream of a seed.
func NewMessageGen(seed, stream uint64) *MessageGen {
	return &MessageGen{r: rand.New(rand.NewPCG(seed, stream^0x6d61696c)), seed: seed, stream: stream}
}

// Message returns an RFC 5322 message with CRLF line endings of about
// size bytes of headers and text. With attachSize > 0 it is
// multipart/mixed with the text as part 1 and attachSize random bytes,
// base64-encoded, as part 2.
func (g *MessageGen) Message(to string, size, attachSize int) []byte {
	g.n++
	var b bytes.Buffer
	from := g.person()
	date := time.Date(2024, 1, 1, 8, 0, 0, 0, time.UTC).Add(time.Duration(g.n)*time.Minute + time.Duration(g.stream)*time.Hour)
	fmt.Fprintf(&b, "From: %s\r\n", from)
	fmt.Fprintf(&b, "To: <%s>\r\n", to)
	fmt.Fprintf(&b, "Subject: %s\r\n", g.words(3+g.r.IntN(5)))
	fmt.Fprintf(&b, "Date: %s\r\n", date.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%d.%d.%d@bench.example>\r\n", g.seed, g.stream, g.n)
	b.WriteString("MIME-Version: 1.0\r\n")
	boundary := fmt.Sprintf("=_bench_%d_%d_%d", g.seed, g.stream, g.n)
	if attachSize > 0 {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n", boundary)
		b.WriteString("This is a multi-part message in MIME format.\r\n")
		fmt.Fprintf(&b, "--%s\r\n", boundary)
	}
	b.WriteString("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n")
	g.text(&b, max(size-b.Len(), 64))
	if attachSize > 0 {
		fmt.Fprintf(&b, "\r\n--%s\r\n", boundary)
		fmt.Fprintf(&b, "Content-Type: application/octet-stream; name=\"data-%d.bin\"\r\n", g.n)
		fmt.Fprintf(&b, "Content-Disposition: attachment; filename=\"data-%d.bin\"\r\n", g.n)
		b.WriteString("Content-Transfer-Encoding: base64\r\n\r\n")
		raw := make([]byte, attachSize)
		for i := 0; i < len(raw); i += 8 {
			v := g.r.Uint64()
			for j := 0; j < 8 && i+j < len(raw); j++ {
				raw[i+j] = byte(v >> (8 * j))
			}
		}
		enc := base64.StdEncoding.EncodeToString(raw)
		for len(enc) > 76 {
			b.WriteString(enc[:76])
			b.WriteString("\r\n")
			enc = enc[76:]
		}
		b.WriteString(enc)
		fmt.Fprintf(&b, "\r\n--%s--\r\n", boundary)
	}
	return b.Bytes()
}

func (g *MessageGen) person() string {
	f, l := firstNames[g.r.IntN(len(firstNames))], lastNames[g.r.IntN(len(lastNames))]
	return fmt.Sprintf("%s %s <%s.%s@example.org>", f, l, lowerASCII(f), lowerASCII(l))
}

func (g *MessageGen) words(n int) string {
	var b bytes.Buffer
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(vocabulary[g.r.IntN(len(vocabulary))])
	}
	return b.String()
}

// Word returns a word of the generator's vocabulary, for searches.
func (g *MessageGen) Word() string { return vocabulary[g.r.IntN(len(vocabulary))] }

// text writes about n bytes of wrapped sentences, every line ended by CRLF.
func (g *MessageGen) text(b *bytes.Buffer, n int) {
	line := 0
	for written := 0; written < n; {
		w := vocabulary[g.r.IntN(len(vocabulary))]
		if line > 0 && line+1+len(w) > 72 {
			b.WriteString("\r\n")
			written += 2
			line = 0
		}
		if line > 0 {
			b.WriteByte(' ')
			written++
			line++
		}
		b.WriteString(w)
		written += len(w)
		line += len(w)
	}
	b.WriteString("\r\n")
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// Name fills a user or address format such as "bench%d" with i.
func Name(format string, i int) string { return fmt.Sprintf(format, i) }

// CheckNameFormat refuses a format without exactly one %d.
func CheckNameFormat(flag, format string) error {
	if bytes.Count([]byte(format), []byte("%d")) != 1 || bytes.Count([]byte(format), []byte("%")) != 1 {
		return fmt.Errorf("%s %q: want exactly one %%d", flag, format)
	}
	return nil
}
