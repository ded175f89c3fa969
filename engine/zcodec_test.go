package engine_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/eidermail/eider/engine"
	blobfs "github.com/eidermail/eider/engine/blob/fs"
	metasqlite "github.com/eidermail/eider/engine/meta/sqlite"
	"github.com/eidermail/eider/engine/testcorpus"
	"github.com/eidermail/eider/internal/testkit/enginekit"
)

// TestCompressionDictionary: after DictionarySamples messages the engine
// trains a dictionary, keeps it in the metadata store and compresses later
// messages smaller with it; messages from before and after read back byte
// for byte, search finds them, and an engine opened later on the same store
// (another node, a restart) reads them too.
func TestCompressionDictionary(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	meta, err := metasqlite.Open(filepath.Join(dir, "meta.db"), metasqlite.Options{TextIndex: metasqlite.TextIndexInline})
	must(t, err)
	blobs, err := blobfs.Open(blobfs.Options{Path: filepath.Join(dir, "blobs"), NoSync: true})
	must(t, err)
	e := enginekit.New(t, meta, blobs, engine.IngestOptions{DictionarySamples: 30}, nil)
	u, inbox := enginekit.User(t, e, "alice@example.com", "pw", 0)
	msgs := testcorpus.TextHeavy(5, 60)
	appendAll := func(e *engine.Engine, msgs []testcorpus.Message) {
		for _, m := range msgs {
			if _, err := e.Append(ctx, u.ID, inbox.ID, bytes.NewReader(m.Data), engine.AppendOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	appendAll(e, msgs[:30])
	for deadline := time.Now().Add(30 * time.Second); e.CompressionDictionaries() == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no dictionary trained after 30 messages")
		}
	}
	dicts, err := meta.Dictionaries(ctx)
	must(t, err)
	if len(dicts) != 1 || len(dicts[0].Data) == 0 {
		t.Fatalf("store holds %d dictionaries", len(dicts))
	}
	appendAll(e, msgs[30:])
	// The same 30 messages again, now with the dictionary.
	appendAll(e, msgs[:30])
	var before, after int
	for uid := 1; uid <= 30; uid++ {
		a, err := meta.Inline(ctx, u.ID, inbox.ID, engine.UID(uid))
		must(t, err)
		b, err := meta.Inline(ctx, u.ID, inbox.ID, engine.UID(uid+60))
		must(t, err)
		before, after = before+len(a), after+len(b)
	}
	if after*10 > before*9 {
		t.Errorf("inline bytes with the dictionary: %d, without: %d", after, before)
	}
	t.Logf("30 messages' inline bytes: %d without the dictionary, %d with", before, after)

	check := func(e *engine.Engine) {
		t.Helper()
		h := &harness{e: e, meta: meta, user: u, inbox: inbox}
		for i, m := range append(append([]testcorpus.Message(nil), msgs...), msgs[:30]...) {
			if got := h.section(t, engine.UID(i+1), engine.Section{}); !bytes.Equal(got, m.Data) {
				t.Fatalf("message %d does not read back", i+1)
			}
		}
		res, err := e.Search(ctx, u.ID, inbox.ID, &engine.SearchQuery{Op: engine.SearchText, Value: "regards"})
		must(t, err)
		if res.IsEmpty() {
			t.Error("search finds nothing")
		}
	}
	check(e)
	// Another engine on the same stores, as a second node would be.
	check(enginekit.New(t, meta, blobs, engine.IngestOptions{}, nil))
}

// TestDictionaryFromAnotherNode: an engine that loaded the store's
// dictionaries before another one trained a new one reads that engine's
// messages (it reloads when a frame names a dictionary it does not know).
func TestDictionaryFromAnotherNode(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	meta, err := metasqlite.Open(filepath.Join(dir, "meta.db"), metasqlite.Options{})
	must(t, err)
	blobs, err := blobfs.Open(blobfs.Options{Path: filepath.Join(dir, "blobs"), NoSync: true})
	must(t, err)
	trainer := enginekit.New(t, meta, blobs, engine.IngestOptions{DictionarySamples: 10}, nil)
	reader := enginekit.New(t, meta, blobs, engine.IngestOptions{DictionarySamples: -1}, nil)
	u, inbox := enginekit.User(t, trainer, "alice@example.com", "pw", 0)
	msgs := testcorpus.TextHeavy(9, 12)
	for _, m := range msgs {
		if _, err := trainer.Append(ctx, u.ID, inbox.ID, bytes.NewReader(m.Data), engine.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if trainer.CompressionDictionaries() != 1 || reader.CompressionDictionaries() != 0 {
		t.Fatalf("dictionaries: trainer %d, reader %d", trainer.CompressionDictionaries(), reader.CompressionDictionaries())
	}
	h := &harness{e: reader, meta: meta, user: u, inbox: inbox}
	for i, m := range msgs {
		if got := h.section(t, engine.UID(i+1), engine.Section{}); !bytes.Equal(got, m.Data) {
			t.Fatalf("message %d does not read back on the other engine", i+1)
		}
	}
	if reader.CompressionDictionaries() != 1 {
		t.Errorf("the reader decodes with %d dictionaries after reading, want 1", reader.CompressionDictionaries())
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
