package sqlite

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestSplitWords(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"hello, world", []string{"hello", "world"}},
		{"ann@example.com", []string{"ann", "example", "com"}},
		{"größe matters", []string{"größe", "matters"}},
		{"東京タワーで会いましょう", []string{"東京タワーで会いましょう"}},
		{"«quoted»", []string{"«quoted»"}}, // non-ASCII punctuation is part of a word, as FTS5 ascii sees it
		{"a-b_c", []string{"a", "b", "c"}},
	} {
		var got []string
		for _, w := range splitWords([]byte(tc.in)) {
			got = append(got, tc.in[w.start:w.end])
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("splitWords(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestPlanNeedle(t *testing.T) {
	for _, tc := range []struct {
		needle string
		want   []probe
		exact  bool
	}{
		{"", nil, false},
		{" @ ", nil, false},
		{"berlin", []probe{{"berlin", matchContains}}, true},
		{"quarterly report", []probe{{"quarterly", matchSuffix}, {"report", matchPrefix}}, false},
		{" report ", []probe{{"report", matchExact}}, false},
		{"@example.com", []probe{{"example", matchExact}, {"com", matchPrefix}}, false},
		{"a b c", []probe{{"a", matchSuffix}, {"b", matchExact}, {"c", matchPrefix}}, false},
	} {
		p := planNeedle(tc.needle)
		if !slices.Equal(p.probes, tc.want) || p.exact != tc.exact {
			t.Errorf("planNeedle(%q) = %v %v, want %v %v", tc.needle, p.probes, p.exact, tc.want, tc.exact)
		}
	}
	long := strings.Repeat("x", 100)
	if p := planNeedle(long); p.exact || len(p.probes) != 1 || len(p.probes[0].word) > probeLen {
		t.Errorf("planNeedle of a 100-byte word = %+v", p)
	}
	many := strings.Repeat("word ", 20)
	if p := planNeedle(many); len(p.probes) != maxProbes {
		t.Errorf("a 20-word needle gave %d probes", len(p.probes))
	}
}

// TestPiecesCoverProbes: every probe-sized run of a long word lies inside
// one of its pieces, and every piece is short enough, for ASCII and for
// multi-byte text.
func TestPiecesCoverProbes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabets := [][]rune{[]rune("abcdefghij0123456789"), []rune("東京タワーで会いましょう"), []rune("aé東𝄞")}
	for i := 0; i < 300; i++ {
		al := alphabets[i%len(alphabets)]
		var b strings.Builder
		for b.Len() < pieceLen+1+r.IntN(400) {
			b.WriteRune(al[r.IntN(len(al))])
		}
		word := []byte(b.String())
		ps := pieces(word)
		for _, p := range ps {
			if p.end-p.start > pieceLen {
				t.Fatalf("piece of %d bytes", p.end-p.start)
			}
		}
		runes := []rune(string(word))
		for start := range runes {
			// The longest run of whole characters within probeLen bytes.
			probe := []byte(string(runes[start:]))
			probe = probe[:runeEnd(probe, probeLen)]
			found := false
			for _, p := range ps {
				if strings.Contains(string(word[p.start:p.end]), string(probe)) {
					found = true
					break
				}
			}
			if !found {
				t.Fatalf("probe %q of %q is in no piece", probe, word)
			}
		}
	}
}

func TestTextWords(t *testing.T) {
	h, b := textWords("subject: hello world\nreceived: from secret.example\n", "hello hello there")
	if h != "hello subject world" {
		t.Errorf("header words %q", h)
	}
	if b != "hello there" {
		t.Errorf("body words %q", b)
	}
}

func TestVocabCache(t *testing.T) {
	var c vocabCache
	if got := c.unseen(1, "a b"); got != `["a","b"]` {
		t.Errorf("first: %s", got)
	}
	if got := c.unseen(1, "b c"); got != `["c"]` {
		t.Errorf("second: %s", got)
	}
	if got := c.unseen(2, "b"); got != `["b"]` {
		t.Errorf("other user: %s", got)
	}
	c.forget()
	if got := c.unseen(1, "a"); got != `["a"]` {
		t.Errorf("after forget: %s", got)
	}
}
