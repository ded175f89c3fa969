package sqlite

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/klauspost/compress/zstd"

	"github.com/eidermail/eider/engine"
)

func newTestCodec(t testing.TB) *textCodec {
	t.Helper()
	c, err := newTextCodec()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.close)
	return c
}

// inlineOf returns raw as the engine stores a message's inline bytes.
func inlineOf(t testing.TB, raw string) []byte {
	t.Helper()
	enc, err := zstd.NewWriter(nil)
	must(t, err)
	defer enc.Close()
	return enc.EncodeAll([]byte(raw), nil)
}

func TestTextCodecRoundTrip(t *testing.T) {
	c := newTestCodec(t)
	long := strings.Repeat("received: from mx.example.com by relay.example.net\n", 2000)
	msg := "Subject: Hello World\r\nFrom: Ann <ann@example.com>\r\n\r\nThe Quarterly Report is attached.\r\n"
	for _, tc := range [][3]string{
		{"subject: hi\n", "body", ""},
		{"", "body only", ""},
		{"subject: header only\n", "", ""},
		{long, long, ""},
		{"nul \x00 and \xff bytes", "ünïcödé", ""},
		{"subject: hello world\nfrom: ann <ann@example.com>\n", "the quarterly report is attached.", msg},
		{"subject: other\n", "nothing in common", msg},
		{"", "", msg},
	} {
		var inline []byte
		if tc[2] != "" {
			inline = inlineOf(t, tc[2])
		}
		packed := c.pack(tc[0], tc[1], inline)
		var st storedText
		for _, parts := range []textParts{headerPart, bodyPart, bothParts} {
			if err := c.unpack(packed, textDelta, inline, parts, &st); err != nil {
				t.Fatalf("unpack %q: %v", tc, err)
			}
			wantH, wantB := tc[0], tc[1]
			if parts&headerPart == 0 {
				wantH = ""
			}
			if parts&bodyPart == 0 {
				wantB = ""
			}
			if string(st.header) != wantH || string(st.body) != wantB {
				t.Errorf("parts %d of %.20q: got %.20q, %.20q", parts, tc, st.header, st.body)
			}
		}
	}
	if got := len(c.pack(long, "", nil)); got*20 > len(long) {
		t.Errorf("%d bytes of repetitive header packed into %d", len(long), got)
	}
	// A text that is its message's own bytes costs a few copies.
	body := strings.Repeat("the quarterly report is attached. ", 100)
	if got := len(c.pack("", body, inlineOf(t, strings.ToUpper(body)))); got > 40 {
		t.Errorf("a %d-byte body that its message holds packed into %d bytes", len(body), got)
	}
	// The inline bytes a text was coded against are needed to read it.
	packed := c.pack("", "the quarterly report is attached.", inlineOf(t, msg))
	var st storedText
	if err := c.unpack(packed, textDelta, nil, bothParts, &st); !errors.Is(err, errCorruptText) {
		t.Errorf("unpack without the inline bytes: %v", err)
	}
}

// TestPlainTextsStillRead: texts stored before the word index (textPlain)
// decode without a reference.
func TestPlainTextsStillRead(t *testing.T) {
	c := newTestCodec(t)
	h := c.enc.EncodeAll([]byte("subject: old\n"), nil)
	data := binary.AppendUvarint(nil, uint64(len(h)))
	data = append(data, h...)
	data = c.enc.EncodeAll([]byte("old body"), data)
	var st storedText
	must(t, c.unpack(data, textPlain, nil, bothParts, &st))
	if string(st.header) != "subject: old\n" || string(st.body) != "old body" {
		t.Errorf("got %q, %q", st.header, st.body)
	}
}

func FuzzTextCodec(f *testing.F) {
	f.Add("subject: hello\n", "world", "Subject: Hello\r\n\r\nworld\r\n", []byte{3, 1, 2})
	f.Add("", "", "", []byte{0})
	f.Add("a", "", "A", []byte{0x80})
	f.Add("abcdefghijkl", "abcdefghijklmnop", "ABCDEFGHIJKLMNOP", []byte{1, 0})
	c := newTestCodec(f)
	enc, err := zstd.NewWriter(nil)
	must(f, err)
	f.Fuzz(func(t *testing.T, header, body, message string, junk []byte) {
		var inline []byte
		if message != "" {
			inline = enc.EncodeAll([]byte(message), nil)
		}
		var st storedText
		if err := c.unpack(c.pack(header, body, inline), textDelta, inline, bothParts, &st); err != nil {
			t.Fatal(err)
		}
		if string(st.header) != header || string(st.body) != body {
			t.Fatalf("round trip of %q, %q gave %q, %q", header, body, st.header, st.body)
		}
		// Damaged values fail cleanly, in either format.
		for _, format := range []int{textPlain, textDelta} {
			if err := c.unpack(junk, format, inline, bothParts, &st); err != nil && !errors.Is(err, errCorruptText) {
				t.Fatalf("unpack %x: %v", junk, err)
			}
		}
	})
}

// FuzzTextDelta: any text round-trips against any reference, and a
// damaged delta is an error, never a panic or a runaway allocation.
func FuzzTextDelta(f *testing.F) {
	f.Add([]byte("hello world, hello world"), []byte("say hello world to the world"), []byte{5, 1, 'a', 0})
	f.Add([]byte(""), []byte(""), []byte{})
	f.Add([]byte("aaaaaaaaaaaaaaaaaaaaaaaa"), []byte("aaaaaaaaa"), []byte{3, 0, 3, 0})
	f.Fuzz(func(t *testing.T, text, ref, junk []byte) {
		d := newDeltaCoder(ref)
		delta := d.appendDelta(nil, string(text))
		d.release()
		got, err := applyDelta(nil, delta, ref)
		if err != nil || string(got) != string(text) {
			t.Fatalf("round trip of %q against %q: %q, %v", text, ref, got, err)
		}
		if _, err := applyDelta(nil, junk, ref); err != nil && !errors.Is(err, errCorruptText) {
			t.Fatalf("apply %x: %v", junk, err)
		}
	})
}

// TestStoredTextCompressed checks that search text is stored compressed:
// the texts table holds far fewer bytes than the folded text appended.
func TestStoredTextCompressed(t *testing.T) {
	c, err := ingestTextHeavy(3, 300)
	must(t, err)
	s := openTemp(t, Options{TextIndex: TextIndexManual})
	f := newFixture(t, s)
	f.append(t, c.msgs...)
	var folded int64
	for _, m := range c.msgs {
		folded += int64(len(engine.FoldText(m.HeaderText)) + len(engine.FoldText(m.BodyText)))
	}
	stored := f.count(t, `SELECT sum(length(data)) FROM texts`)
	if stored*2 > folded {
		t.Errorf("texts hold %d bytes for %d bytes of folded text", stored, folded)
	}
	pages := tableSizes(t, s)["texts"]
	if pages*2 > folded {
		t.Errorf("the texts table takes %d bytes for %d bytes of folded text", pages, folded)
	}
	t.Logf("%d bytes of folded text: %d stored (%.2f), %d in pages", folded, stored, float64(stored)/float64(folded), pages)
}

// searchModel is what a search must find: each message's folded text and
// flags, by UID.
type searchModel map[uint32]engine.NewMessage

func (m searchModel) match(q *engine.SearchQuery, msg engine.NewMessage) bool {
	header, body, value := engine.FoldText(msg.HeaderText), engine.FoldText(msg.BodyText), engine.FoldText(q.Value)
	switch q.Op {
	case engine.SearchAnd:
		for _, c := range q.Children {
			if !m.match(c, msg) {
				return false
			}
		}
		return true
	case engine.SearchOr:
		for _, c := range q.Children {
			if m.match(c, msg) {
				return true
			}
		}
		return false
	case engine.SearchNot:
		return !m.match(q.Children[0], msg)
	case engine.SearchFlag:
		return slices.Contains(msg.Flags, q.Flag)
	case engine.SearchBody:
		return strings.Contains(body, value)
	case engine.SearchText:
		return strings.Contains(header, value) || strings.Contains(body, value)
	case engine.SearchHeader:
		return engine.HeaderMatch([]byte(header), []byte(engine.FoldText(q.Field)), []byte(value))
	}
	panic(fmt.Sprintf("model: operator %d", q.Op))
}

func (m searchModel) search(q *engine.SearchQuery) []uint32 {
	var out []uint32
	for uid, msg := range m {
		if m.match(q, msg) {
			out = append(out, uid)
		}
	}
	slices.Sort(out)
	return out
}

// TestTextSearchAgainstModel checks text searches with enough candidates to
// be decoded in parallel, through the index and through the queue, alone
// and in AND, OR and NOT trees, against substring search on the folded text.
func TestTextSearchAgainstModel(t *testing.T) {
	ctx := context.Background()
	g := newTextGen(5)
	msgs := make([]engine.NewMessage, 600)
	for i := range msgs {
		msgs[i] = g.message(i, 300+i%7*200)
		switch {
		case i%97 == 0:
			msgs[i].HeaderText, msgs[i].BodyText = "", ""
		case i%31 == 0:
			msgs[i].BodyText = ""
		}
		if i%3 == 0 {
			msgs[i].Flags = []string{engine.FlagSeen}
		}
	}
	common, rare := g.vocab[2], g.vocab[400]
	type q = engine.SearchQuery
	queries := []*q{
		{Op: engine.SearchBody, Value: "the"},
		{Op: engine.SearchBody, Value: strings.ToUpper(common)},
		{Op: engine.SearchBody, Value: rare},
		{Op: engine.SearchBody, Value: "e"},
		{Op: engine.SearchBody, Value: ""},
		{Op: engine.SearchText, Value: "example.org"},
		{Op: engine.SearchText, Value: "user1"},
		{Op: engine.SearchHeader, Field: "subject", Value: common},
		{Op: engine.SearchHeader, Field: "From", Value: ""},
		{Op: engine.SearchHeader, Field: "", Value: "jan 2024"},
		{Op: engine.SearchNot, Children: []*q{{Op: engine.SearchBody, Value: "the"}}},
		{Op: engine.SearchOr, Children: []*q{
			{Op: engine.SearchHeader, Field: "subject", Value: rare},
			{Op: engine.SearchNot, Children: []*q{{Op: engine.SearchText, Value: common}}},
		}},
		{Op: engine.SearchAnd, Children: []*q{
			{Op: engine.SearchFlag, Flag: engine.FlagSeen},
			{Op: engine.SearchText, Value: "the"},
			{Op: engine.SearchNot, Children: []*q{{Op: engine.SearchBody, Value: rare}}},
		}},
		{Op: engine.SearchOr, Children: []*q{
			{Op: engine.SearchFlag, Flag: engine.FlagSeen},
			{Op: engine.SearchBody, Value: "zz"},
		}},
	}
	for _, mode := range []TextIndexMode{TextIndexInline, TextIndexManual} {
		s := openTemp(t, Options{TextIndex: mode})
		f := newFixture(t, s)
		model := searchModel{}
		for i, uid := range f.append(t, msgs...) {
			model[uint32(uid)] = msgs[i]
		}
		gone := roaring.New()
		for uid := uint32(5); uid <= 600; uid += 11 {
			gone.Add(uid)
			delete(model, uid)
		}
		_, _, err := s.Expunge(ctx, f.user, f.box.ID, gone)
		must(t, err)
		for _, query := range queries {
			got, err := s.Search(ctx, f.user, f.box.ID, query)
			must(t, err)
			if want := model.search(query); !slices.Equal(got.ToArray(), want) {
				t.Errorf("mode %d: %+v: %d hits, want %d", mode, query, got.GetCardinality(), len(want))
			}
		}
	}
}

func TestCorruptTextReported(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t, Options{TextIndex: TextIndexManual})
	f := newFixture(t, s)
	f.append(t, testMessage(0), testMessage(1))
	_, err := s.w.Exec(`UPDATE texts SET data = x'05ff' WHERE id = (SELECT max(id) FROM texts)`)
	must(t, err)
	_, err = s.Search(ctx, f.user, f.box.ID, &engine.SearchQuery{Op: engine.SearchBody, Value: "message"})
	if !errors.Is(err, errCorruptText) {
		t.Errorf("search over a damaged text: %v", err)
	}
	// A text queued before the word index is indexed from its stored form.
	_, err = s.w.Exec(`UPDATE texts SET format = 0 WHERE id = (SELECT max(id) FROM texts)`)
	must(t, err)
	_, err = s.w.Exec(`UPDATE texts_queue SET words = NULL WHERE text_id = (SELECT max(id) FROM texts)`)
	must(t, err)
	if _, err := s.IndexText(ctx); !errors.Is(err, errCorruptText) {
		t.Errorf("indexing a damaged text: %v", err)
	}
}

// TestBackgroundIndexMaintenance appends and expunges one message at a time
// with the background worker on, then checks that the index was built and
// merged without the appends waiting for it, and that it stays consistent.
func TestBackgroundIndexMaintenance(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t, Options{IndexBatch: 8})
	f := newFixture(t, s)
	g := newTextGen(6)
	for i := 0; i < 120; i++ {
		f.append(t, g.message(i, 500))
		if i%10 == 9 {
			_, _, err := s.Expunge(ctx, f.user, f.box.ID, roaring.BitmapOf(uint32(i)))
			must(t, err)
		}
	}
	waitBackground(t, s)
	check := func() {
		t.Helper()
		_, err := s.w.Exec(`INSERT INTO words_fts(words_fts) VALUES ('integrity-check')`)
		must(t, err)
		r, err := s.Search(ctx, f.user, f.box.ID, &engine.SearchQuery{Op: engine.SearchText, Value: "user17@example.com"})
		must(t, err)
		if !slices.Equal(r.ToArray(), []uint32{18}) {
			t.Errorf("search = %v", r.ToArray())
		}
	}
	check()
	segments := f.count(t, `SELECT count(DISTINCT segid) FROM words_fts_idx`)
	must(t, s.OptimizeTextIndex(ctx))
	if n := f.count(t, `SELECT count(DISTINCT segid) FROM words_fts_idx`); n != 1 {
		t.Errorf("%d segments after OptimizeTextIndex (%d before)", n, segments)
	}
	check()
}

// TestMaintenanceOptimizesIndex checks that the maintenance worker merges
// the index into one segment once text was added.
func TestMaintenanceOptimizesIndex(t *testing.T) {
	s := openTemp(t, Options{MaintenanceInterval: 20 * time.Millisecond, IndexBatch: 4})
	f := newFixture(t, s)
	g := newTextGen(8)
	for i := 0; i < 40; i++ {
		f.append(t, g.message(i, 300))
	}
	deadline := time.Now().Add(time.Minute)
	for {
		waitBackground(t, s)
		if f.count(t, `SELECT count(DISTINCT segid) FROM words_fts_idx`) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d index segments after maintenance", f.count(t, `SELECT count(DISTINCT segid) FROM words_fts_idx`))
		}
	}
}
