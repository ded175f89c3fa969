package mongo

import (
	"strings"
	"testing"

	"github.com/eidermail/eider/engine"
)

// FuzzTextCodec checks that stored text round-trips and that damaged
// stored text is an error, never a panic.
func FuzzTextCodec(f *testing.F) {
	f.Add("from: a\nsubject: b\n", "body", []byte{0})
	f.Add("", "", []byte{5, 1, 2})
	f.Add("x", "東京タワー", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	c, err := newTextCodec()
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(c.close)
	f.Fuzz(func(t *testing.T, header, body string, damaged []byte) {
		h, b, err := c.unpack(c.pack(header, body), true, true)
		if err != nil || string(h) != header || string(b) != body {
			t.Fatalf("round trip of %q %q = %q %q, %v", header, body, h, b, err)
		}
		c.unpack(damaged, true, true)
	})
}

// FuzzNeedleTrigrams checks that every text holding a needle holds the
// trigrams the index is asked for, so the index never loses a match.
func FuzzNeedleTrigrams(f *testing.F) {
	f.Add("the quick brown fox", "quick")
	f.Add("東京タワーで会いましょう", "タ")
	f.Add("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaaaaaaaaaa")
	f.Fuzz(func(t *testing.T, text, needle string) {
		text, needle = engine.FoldText(text), engine.FoldText(needle)
		if !strings.Contains(text, needle) {
			return
		}
		tri, ok := needleTrigrams(needle)
		if !ok {
			if len(needle) >= 3 {
				t.Fatalf("needle %q of %d bytes has no trigrams", needle, len(needle))
			}
			return
		}
		have, big := textTrigrams(text)
		if big {
			return
		}
		for _, x := range tri {
			found := false
			for _, y := range have {
				found = found || x == y
			}
			if !found {
				t.Fatalf("text %q holds %q but lacks its trigram %06x", text, needle, x)
			}
		}
	})
}
