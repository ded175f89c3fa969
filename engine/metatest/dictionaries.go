package metatest

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/klauspost/compress/dict"

	"github.com/eidermail/eider/engine"
)

// testDictionaries: a store that keeps compression dictionaries returns
// them byte for byte, oldest first, and refuses a second one with the same
// ID (two nodes training at once).
func testDictionaries(t *testing.T, s engine.MetaStore) {
	ds, ok := s.(engine.DictionaryStore)
	for u := s; !ok; {
		w, wraps := u.(interface{ Unwrap() engine.MetaStore })
		if !wraps {
			t.Skip("the store keeps no dictionaries")
		}
		u = w.Unwrap()
		ds, ok = u.(engine.DictionaryStore)
	}
	c := ctx(t)
	g := newGen(t)
	// Real dictionaries: a store may load them into its own decoder.
	train := func(id uint32, size int) engine.Dictionary {
		samples := make([][]byte, 40)
		for i := range samples {
			samples[i] = []byte(fmt.Sprintf("From: user%d@example.com\r\nSubject: report %d\r\n\r\n%x\r\n", g.r.IntN(50), i, g.bytes(20, 200)))
		}
		data, err := dict.BuildZstdDict(samples, dict.Options{MaxDictSize: size, HashBytes: 6, ZstdDictID: id})
		must(t, err)
		return engine.Dictionary{ID: id, Data: data}
	}
	got, err := ds.Dictionaries(c)
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("a new store has %d dictionaries", len(got))
	}
	want := []engine.Dictionary{train(40000, 2<<10), train(1<<31-1, 8<<10), train(32768, 1<<10)}
	for _, d := range want {
		must(t, ds.AddDictionary(c, d))
	}
	if err := ds.AddDictionary(c, train(40000, 1<<10)); !errors.Is(err, engine.ErrExists) {
		t.Errorf("a second dictionary 40000: %v", err)
	}
	got, err = ds.Dictionaries(c)
	must(t, err)
	if len(got) != len(want) {
		t.Fatalf("%d dictionaries, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].ID != want[i].ID || !bytes.Equal(got[i].Data, want[i].Data) {
			t.Errorf("dictionary %d = %d (%d bytes), want %d (%d bytes)", i, got[i].ID, len(got[i].Data), want[i].ID, len(want[i].Data))
		}
	}
}
