package frames

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"strings"
	"testing"
)

// Test inputs shaped like what a mail store holds: long English-like text
// bodies and decoded base64 attachments (random binary, which zstd cannot
// shrink).

// words is a vocabulary of common English words; englishText draws from it
// with a Zipf distribution, as natural text does.
var words = strings.Fields(`
the of and to a in that is was he for it with as his on be at by i this had
not are but from or have an they which one you were her all she there would
their we him been has when who will more no if out so said what up its about
into than them can only other new some could time these two may then do first
any my now such like our over man me even most made after also did many before
must through back years where much your way well down should because each just
those people how too little state good very make world still own see men work
long get here between both life being under never day same another know while
last might us great old year off come since against go came right used take
three meeting invoice attached please regards thanks report quarterly budget
project schedule review draft version customer account payment order delivery
shipment address office team manager question answer reply forward message
mailbox server release contract agreement signature proposal estimate figures
tomorrow yesterday monday friday morning afternoon evening week month today
`)

// englishText returns n bytes of sentence-shaped text in CRLF lines of at
// most 76 characters, deterministic for a seed.
func englishText(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	zipf := rand.NewZipf(rng, 1.1, 2, uint64(len(words)-1))
	capitals := make([]string, len(words))
	for i, w := range words {
		capitals[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	var b bytes.Buffer
	b.Grow(n + 128)
	line := 0
	sentence := 0
	var wb []byte
	for b.Len() < n {
		k := zipf.Uint64()
		wb = append(wb[:0], words[k]...)
		if sentence == 0 {
			wb = append(wb[:0], capitals[k]...)
		}
		if rng.IntN(40) == 0 {
			wb = append(wb[:0], byte('0'+rng.IntN(10)), byte('0'+rng.IntN(10)))
		}
		sentence++
		if sentence > 6 && rng.IntN(8) == 0 {
			wb = append(wb, '.')
			sentence = 0
		} else if rng.IntN(12) == 0 {
			wb = append(wb, ',')
		}
		if line > 0 && line+1+len(wb) > 76 {
			b.WriteString("\r\n")
			line = 0
			if sentence == 0 && rng.IntN(5) == 0 {
				b.WriteString("\r\n") // paragraph break
			}
		} else if line > 0 {
			b.WriteByte(' ')
			line++
		}
		b.Write(wb)
		line += len(wb)
	}
	return b.Bytes()[:n]
}

// attachmentBytes returns n bytes as a decoded base64 attachment body: random
// base64 text decoded back to binary, which is incompressible.
func attachmentBytes(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, 0xa77))
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	enc := make([]byte, base64.StdEncoding.EncodedLen(n))
	for i := range enc {
		enc[i] = alphabet[rng.IntN(64)]
	}
	out := make([]byte, base64.StdEncoding.DecodedLen(len(enc)))
	k, err := base64.StdEncoding.Decode(out, enc)
	if err != nil {
		panic(err) // the alphabet is base64's own: cannot fail
	}
	return out[:min(k, n)]
}

func TestEnglishTextIsText(t *testing.T) {
	txt := englishText(1, 4096)
	if len(txt) != 4096 {
		t.Fatalf("len %d", len(txt))
	}
	for _, line := range strings.Split(string(txt), "\r\n") {
		if len(line) > 76 {
			t.Fatalf("line of %d characters: %q", len(line), line)
		}
	}
	if !bytes.Contains(txt, []byte(". ")) && !bytes.Contains(txt, []byte(".\r\n")) {
		t.Fatalf("no sentence ends in %q", txt[:200])
	}
	if bytes.Equal(englishText(1, 512), englishText(2, 512)) {
		t.Fatal("seeds give the same text")
	}
}
