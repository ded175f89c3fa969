package sqlite

import (
	"strings"
	"sync"
)

// vocabCacheMax bounds the words vocabCache remembers (a few MB).
const vocabCacheMax = 1 << 17

// vocabCache remembers words known to be in their user's vocabulary, so
// that indexing a text inserts only the words that may be new: after a few
// hundred messages most of a user's words are. It is forgotten wholesale
// when full, and when a transaction that added words fails, so it never
// claims a word the table lacks.
type vocabCache struct {
	mu sync.Mutex
	m  map[vocabKey]struct{}
}

type vocabKey struct {
	user int64
	word string
}

// unseen returns, as a JSON array, the words of words (space-separated)
// not known to be in user's vocabulary, and remembers them; "" when all are.
func (c *vocabCache) unseen(user int64, words string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) > vocabCacheMax {
		c.m = make(map[vocabKey]struct{})
	}
	var b strings.Builder
	for word := range strings.SplitSeq(words, " ") {
		if word == "" {
			continue
		}
		k := vocabKey{user, word}
		if _, ok := c.m[k]; ok {
			continue
		}
		k.word = strings.Clone(word)
		c.m[k] = struct{}{}
		if b.Len() == 0 {
			b.WriteByte('[')
		} else {
			b.WriteByte(',')
		}
		// Words hold no ASCII punctuation or control characters and are
		// valid UTF-8, so they need no JSON escaping.
		b.WriteByte('"')
		b.WriteString(word)
		b.WriteByte('"')
	}
	if b.Len() == 0 {
		return ""
	}
	b.WriteByte(']')
	return b.String()
}

// forget drops everything remembered.
func (c *vocabCache) forget() {
	c.mu.Lock()
	c.m = nil
	c.mu.Unlock()
}
