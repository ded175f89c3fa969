package sqlite

import (
	"context"
	"encoding/binary"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/eidermail/eider/engine"
)

func TestScanRanges(t *testing.T) {
	full := roaring.New()
	full.AddRange(1, 1<<32)
	sparse := roaring.New()
	for v := uint32(1); v <= 100000; v += 2 {
		sparse.Add(v)
	}
	cases := []struct {
		name string
		set  *roaring.Bitmap
		last uint32
		want []scanRange
	}{
		{"nil", nil, 10, nil},
		{"empty mailbox", roaring.BitmapOf(1, 2), 0, nil},
		{"above last", roaring.BitmapOf(20, 30), 10, nil},
		{"one", roaring.BitmapOf(5), 10, []scanRange{{5, 5}}},
		{"run", roaring.BitmapOf(1, 2, 3, 4), 10, []scanRange{{1, 4}}},
		{"clamped", roaring.BitmapOf(3, 4, 11, 12), 11, []scanRange{{3, 11}}},
		{"small gap joins", roaring.BitmapOf(1, 10, 70), 100, []scanRange{{1, 70}}},
		{"large gap splits", roaring.BitmapOf(1, 2, 200, 201), 300, []scanRange{{1, 2}, {200, 201}}},
		{"1:* of a large mailbox", full, 100000, []scanRange{{1, 100000}}},
		{"every other UID", sparse, 100000, []scanRange{{1, 99999}}},
	}
	for _, tc := range cases {
		if got := scanRanges(tc.set, tc.last); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// FuzzScanRanges checks that the ranges cover exactly the set's UIDs up to
// last, in order, without overlaps or long gaps.
func FuzzScanRanges(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 1, 0}, uint32(300))
	f.Add([]byte{255, 255, 255, 255}, uint32(1<<32-1))
	f.Add([]byte{}, uint32(5))
	f.Fuzz(func(t *testing.T, data []byte, last uint32) {
		set := roaring.New()
		for ; len(data) >= 4; data = data[4:] {
			v := binary.BigEndian.Uint32(data)
			if data[0]&1 == 0 {
				v %= 5000 // keep some values close together
			}
			set.Add(v)
		}
		ranges := scanRanges(set, last)
		covered := roaring.New()
		for i, r := range ranges {
			if r.lo > r.hi || r.hi > last || !set.Contains(r.lo) || !set.Contains(r.hi) {
				t.Fatalf("range %v of %v (last %d)", r, ranges, last)
			}
			if i > 0 && uint64(ranges[i-1].hi)+scanGap+1 >= uint64(r.lo) {
				t.Fatalf("ranges %v and %v should have joined", ranges[i-1], r)
			}
			covered.AddRange(uint64(r.lo), uint64(r.hi)+1)
		}
		want := set.Clone()
		if last < 1<<32-1 {
			want.RemoveRange(uint64(last)+1, 1<<32)
		}
		want.Remove(0) // UID 0 does not exist; a range may still start there
		got := roaring.And(covered, set)
		got.Remove(0)
		if !got.Equals(want) {
			t.Fatalf("ranges %v cover %v, want %v", ranges, got.ToArray(), want.ToArray())
		}
		// With no gap the ranges are exactly the runs of the set.
		runs := coverRanges(set, last, 0, 0)
		exact := roaring.New()
		for i, r := range runs {
			if i > 0 && uint64(runs[i-1].hi)+1 >= uint64(r.lo) {
				t.Fatalf("runs %v and %v touch", runs[i-1], r)
			}
			exact.AddRange(uint64(r.lo), uint64(r.hi)+1)
		}
		exact.Remove(0)
		if !exact.Equals(want) {
			t.Fatalf("runs %v are %v, want %v", runs, exact.ToArray(), want.ToArray())
		}
		if limited := coverRanges(set, last, 0, 2); len(limited) > 2 || (len(runs) >= 2 && len(limited) != 2) {
			t.Fatalf("limit 2 gave %v of %v", limited, runs)
		}
	})
}

func TestParseFlags(t *testing.T) {
	f, err := engine.ParseFlags([]string{`\SEEN`, "$Junk", `\recent`, "$junk", `\Draft`, "NonJunk"})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.List(); !slices.Equal(got, []string{"$Junk", "NonJunk", `\Draft`, `\Seen`}) {
		t.Errorf("list = %q", got)
	}
	for _, bad := range []string{"", "two words", "tab\there", "nl\n", "del\x7f"} {
		if _, err := engine.ParseFlags([]string{bad}); err == nil {
			t.Errorf("flag %q accepted", bad)
		}
	}
	g, _ := engine.ParseFlags([]string{"$JUNK", `\Flagged`})
	cases := []struct {
		op   engine.FlagOp
		want []string
	}{
		{engine.FlagsAdd, []string{"$Junk", "NonJunk", `\Draft`, `\Flagged`, `\Seen`}},
		{engine.FlagsRemove, []string{"NonJunk", `\Draft`, `\Seen`}},
		{engine.FlagsReplace, []string{"$Junk", `\Flagged`}},
	}
	for _, tc := range cases {
		if got := f.Apply(tc.op, g).List(); !slices.Equal(got, tc.want) {
			t.Errorf("op %d: %q, want %q", tc.op, got, tc.want)
		}
	}
}

func FuzzParseFlags(f *testing.F) {
	f.Add(`\Seen $Junk \recent`, `$junk \Deleted`, uint8(1))
	f.Add("", "", uint8(3))
	f.Add("ä Ä ß", "SS", uint8(2))
	f.Fuzz(func(t *testing.T, a, b string, op uint8) {
		fa, errA := engine.ParseFlags(strings.Split(a, " "))
		fb, errB := engine.ParseFlags(strings.Split(b, " "))
		if errA != nil || errB != nil {
			return
		}
		for _, fs := range []engine.FlagSet{fa, fb, fa.Apply(engine.FlagOp(op%3+1), fb)} {
			list := fs.List()
			if !slices.IsSorted(list) {
				t.Fatalf("unsorted %q", list)
			}
			again, err := engine.ParseFlags(list)
			if err != nil || !again.Equal(fs) || !slices.Equal(again.List(), list) {
				t.Fatalf("%q does not parse back: %q, %v", list, again.List(), err)
			}
			stored := storedFlags(int64(fs.System), keywordText(fs))
			if !slices.Equal(stored.List(), list) {
				t.Fatalf("stored form of %q reads back as %q", list, stored.List())
			}
			for _, k := range fs.Keywords {
				if k == "" || strings.IndexFunc(k, func(r rune) bool { return r <= ' ' }) >= 0 {
					t.Fatalf("keyword %q stored", k)
				}
			}
		}
		added := fa.Apply(engine.FlagsAdd, fb)
		removed := added.Apply(engine.FlagsRemove, fb)
		if removed.System&fb.System != 0 || slices.ContainsFunc(removed.Keywords, fb.HasKeyword) {
			t.Fatalf("%q + %q - %q = %q", fa.List(), fb.List(), fb.List(), removed.List())
		}
		if !fa.Apply(engine.FlagsReplace, fb).Equal(fb) {
			t.Fatalf("replace %q by %q", fa.List(), fb.List())
		}
	})
}

// FuzzTextSearch checks the whole text path (folding, trigram query, index,
// verification) against plain substring search on folded strings.
func FuzzTextSearch(f *testing.F) {
	for _, seed := range [][2]string{
		{"Hello World", "lo wo"},
		{"Straße in München", "MÜNCHEN"},
		{"東京タワーで会いましょう", "タワー"},
		{`quote " inside`, `" in`},
		{"aaaaaaaa", "aaaa"},
		{"nul\x00inside", "l\x00i"},
		{"bad \xff utf8", "\xff"},
		{"ab", "abc"},
	} {
		f.Add(seed[0], seed[1])
	}
	s, err := Open(filepath.Join(f.TempDir(), "meta.db"), Options{TextIndex: TextIndexInline})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	ctx := context.Background()
	user, err := s.CreateUser(ctx, engine.User{Name: "fuzz", PasswordHash: "x"})
	if err != nil {
		f.Fatal(err)
	}
	box, err := s.CreateMailbox(ctx, user, "INBOX", "")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body, needle string) {
		_, uids, err := s.Append(ctx, user, box.ID, []engine.NewMessage{{Size: 1, BodyText: body, HeaderText: "subject: " + body + "\n"}})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Expunge(ctx, user, box.ID, roaring.BitmapOf(uint32(uids[0])))
		want := strings.Contains(engine.FoldText(body), engine.FoldText(needle))
		for _, q := range []*engine.SearchQuery{
			{Op: engine.SearchBody, Value: needle},
			{Op: engine.SearchText, Value: needle},
			{Op: engine.SearchHeader, Field: "subject", Value: needle},
		} {
			got, err := s.Search(ctx, user, box.ID, q)
			if err != nil {
				t.Fatalf("search %q: %v", needle, err)
			}
			if q.Op == engine.SearchHeader && strings.ContainsAny(body, "\n") {
				continue // the body broke the header line
			}
			if q.Op == engine.SearchText && strings.Contains(engine.FoldText("subject: "+body+"\n"), engine.FoldText(needle)) {
				if got.GetCardinality() != 1 {
					t.Fatalf("TEXT %q not found in %q", needle, body)
				}
				continue
			}
			if q.Op == engine.SearchHeader {
				want := engine.HeaderMatch([]byte(engine.FoldText("subject: "+body+"\n")), []byte("subject"), []byte(engine.FoldText(needle)))
				if got.Contains(uint32(uids[0])) != want {
					t.Fatalf("HEADER subject %q in %q: got %v, want %v", needle, body, got.ToArray(), want)
				}
				continue
			}
			if got.Contains(uint32(uids[0])) != want {
				t.Fatalf("%d %q in %q: got %v, want %v", q.Op, needle, body, got.ToArray(), want)
			}
		}
	})
}
