package sqlite

import (
	"iter"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/eidermail/eider/engine"
)

// The word index answers substring searches without a copy of every
// trigram: words_fts maps each distinct word of a text's header or body to
// the text (FTS5 with the ascii tokenizer and no positions), and words
// holds each user's vocabulary, so a needle that may start or end inside a
// word is looked up as the words that contain it.
//
// A word is a maximal run of ASCII letters and digits and non-ASCII bytes:
// exactly what FTS5's ascii tokenizer makes of folded text, so every
// indexed word is a byte substring of the text it came from. A text that
// holds a word containing the needle therefore holds the needle, and a
// search for one word needs no check against the text.

// Long words (base64 runs, CJK sentences without spaces) are indexed as
// overlapping pieces of at most pieceLen bytes starting every pieceStride
// bytes, so the vocabulary does not grow with them unboundedly while any
// probeLen bytes of such a word still lie inside one piece: a piece starting
// at or before the probe (at most pieceStride+utf8.UTFMax-1 bytes before
// it) reaches at least pieceLen-utf8.UTFMax+1 bytes further.
const (
	pieceLen    = 64
	pieceStride = 32
	probeLen    = pieceLen - pieceStride - 2*utf8.UTFMax
)

// Bounds of one index query: a needle's words beyond maxProbes add little
// selectivity, and a probe matching more than maxProbeWords vocabulary
// words selects too little to be worth the query (it is left out; with
// every probe left out all texts are candidates).
const (
	maxProbes     = 8
	maxProbeWords = 512
)

// isWordByte reports whether c belongs to a word (FTS5 ascii tokenizer:
// ASCII letters and digits, and every byte of a non-ASCII character).
func isWordByte(c byte) bool {
	return c >= utf8.RuneSelf || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || 'A' <= c && c <= 'Z'
}

// byteSeq is text as a string or bytes: a body's text is a megabyte at
// most and is not copied to be split.
type byteSeq interface{ ~string | ~[]byte }

// wordSpan is a word of a needle or text: [start, end).
type wordSpan struct{ start, end int }

// splitWords returns the words of s in order.
func splitWords[T byteSeq](s T) []wordSpan {
	var out []wordSpan
	for w := range eachWord(s) {
		out = append(out, w)
	}
	return out
}

// eachWord yields the words of s in order, without collecting them: a
// text can be a megabyte of words.
func eachWord[T byteSeq](s T) iter.Seq[wordSpan] {
	return func(yield func(wordSpan) bool) {
		for i := 0; i < len(s); {
			if !isWordByte(s[i]) {
				i++
				continue
			}
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			if !yield(wordSpan{i, j}) {
				return
			}
			i = j
		}
	}
}

// indexWords adds the distinct index terms of folded text to set: its
// words, and the pieces of words longer than pieceLen.
func indexWords[T byteSeq](text T, set map[string]struct{}) {
	for w := range eachWord(text) {
		word := text[w.start:w.end]
		if len(word) <= pieceLen {
			if _, ok := set[string(word)]; !ok {
				set[string(word)] = struct{}{}
			}
			continue
		}
		for _, p := range pieces(word) {
			set[string(word[p.start:p.end])] = struct{}{}
		}
	}
}

// pieces cuts a long word into overlapping pieces on character boundaries.
func pieces[T byteSeq](word T) []wordSpan {
	var out []wordSpan
	for start := 0; ; {
		end := runeEnd(word, min(start+pieceLen, len(word)))
		out = append(out, wordSpan{start, end})
		if end == len(word) {
			return out
		}
		next := runeStart(word, start+pieceStride)
		if next <= start {
			next = runeEnd(word, start+1)
		}
		start = next
	}
}

// runeStart moves i back to the start of the character it is in.
func runeStart[T byteSeq](b T, i int) int {
	for i > 0 && i < len(b) && !utf8.RuneStart(b[i]) {
		i--
	}
	return i
}

// runeEnd moves i back to a character boundary no further than i, unless
// that is 0 (a character longer than the room), then forward.
func runeEnd[T byteSeq](b T, i int) int {
	if i >= len(b) {
		return len(b)
	}
	j := runeStart(b, i)
	if j > 0 {
		return j
	}
	for i < len(b) && !utf8.RuneStart(b[i]) {
		i++
	}
	return i
}

// joinWords returns the terms of set as FTS5 input, one space between.
func joinWords(set map[string]struct{}) string {
	words := make([]string, 0, len(set))
	for w := range set {
		words = append(words, w)
	}
	slices.Sort(words)
	return strings.Join(words, " ")
}

// textWords returns the index input of a folded header and body: their
// distinct terms, space-separated, the header without engine.TraceFields.
func textWords(header, body string) (h, b string) {
	set := map[string]struct{}{}
	indexWords(engine.SearchableHeader([]byte(header), nil), set)
	h = joinWords(set)
	clear(set)
	indexWords(body, set)
	return h, joinWords(set)
}

// wordMatch says which vocabulary words serve a needle's word.
type wordMatch uint8

const (
	matchContains wordMatch = iota // the word may start and end inside a longer one
	matchPrefix                    // it starts a word: the needle has a separator before it
	matchSuffix                    // it ends a word
	matchExact                     // both
)

// probe is one word of a needle as the index is asked for it.
type probe struct {
	word  string
	match wordMatch
}

func (p probe) accepts(w string) bool {
	switch p.match {
	case matchExact:
		return w == p.word
	case matchPrefix:
		return strings.HasPrefix(w, p.word)
	case matchSuffix:
		return strings.HasSuffix(w, p.word)
	}
	return strings.Contains(w, p.word)
}

// needlePlan is how the index serves a folded needle.
type needlePlan struct {
	probes []probe
	// exact is true when every text the probes find holds the needle: the
	// needle is one word (its words ANDed say nothing about their order or
	// what lies between them).
	exact bool
}

// planNeedle returns the probes of a folded needle; none when the needle
// has no word (every text is a candidate).
func planNeedle(needle string) needlePlan {
	n := []byte(needle)
	words := splitWords(n)
	plan := needlePlan{exact: len(words) == 1 && words[0].start == 0 && words[0].end == len(n)}
	for i, w := range words {
		starts := i > 0 || w.start > 0 // a separator precedes it
		ends := i < len(words)-1 || w.end < len(n)
		word := needle[w.start:w.end]
		var m wordMatch
		switch {
		case starts && ends:
			m = matchExact
		case starts:
			m = matchPrefix
		case ends:
			m = matchSuffix
		default:
			m = matchContains
		}
		if len(word) > pieceLen || (len(word) > probeLen && m != matchExact) {
			// A word this long may lie in a word indexed as pieces: ask for
			// the pieces holding its beginning, and check the texts.
			word, m = word[:runeEnd(word, probeLen)], matchContains
			plan.exact = false
		}
		plan.probes = append(plan.probes, probe{word, m})
	}
	// The longest words select best; a few of them are enough.
	if len(plan.probes) > maxProbes {
		slices.SortStableFunc(plan.probes, func(a, b probe) int { return len(b.word) - len(a.word) })
		plan.probes = plan.probes[:maxProbes]
	}
	return plan
}

// ftsMatch returns the FTS5 query for groups of words: a text matches when
// it holds one word of every group.
func ftsMatch(groups [][]string) string {
	var b strings.Builder
	for i, g := range groups {
		if i > 0 {
			b.WriteString(" AND ")
		}
		b.WriteByte('(')
		for j, w := range g {
			if j > 0 {
				b.WriteString(" OR ")
			}
			// Words hold no ASCII punctuation, so no quote to escape.
			b.WriteByte('"')
			b.WriteString(w)
			b.WriteByte('"')
		}
		b.WriteByte(')')
	}
	return b.String()
}
