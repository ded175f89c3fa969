package imap

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

func TestParseSeqSet(t *testing.T) {
	tests := []struct {
		in     string
		ranges []SeqRange
		saved  bool
	}{
		{"1", []SeqRange{{1, 1}}, false},
		{"*", []SeqRange{{0, 0}}, false},
		{"1:*", []SeqRange{{1, 0}}, false},
		{"*:4", []SeqRange{{0, 4}}, false},
		{"5:3", []SeqRange{{5, 3}}, false},
		{"1:3,5,7:*", []SeqRange{{1, 3}, {5, 5}, {7, 0}}, false},
		{"4294967295", []SeqRange{{4294967295, 4294967295}}, false},
		{"$", nil, true},
	}
	for _, tc := range tests {
		s, err := ParseSeqSet(tc.in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(s.Ranges, tc.ranges) || s.Saved != tc.saved {
			t.Errorf("%q: got %+v", tc.in, s)
		}
		if got := s.String(); got != tc.in {
			t.Errorf("%q: formatted %q", tc.in, got)
		}
	}
	for _, bad := range []string{"", "0", "01", "1:", ":1", "1,", ",1", "1::2", "4294967296", "1:2:3", "$,1", "1,$", "a", "1 2", "-1", "**"} {
		if _, err := ParseSeqSet(bad); !errors.Is(err, ErrBadSeqSet) {
			t.Errorf("%q: got %v, want ErrBadSeqSet", bad, err)
		}
	}
}

func TestSeqSetContainsAndAll(t *testing.T) {
	s := seq("2:4,9,7:*")
	const max = 10
	var got []uint32
	for n := range s.All(max) {
		got = append(got, n)
	}
	if want := []uint32{2, 3, 4, 9, 7, 8, 9, 10}; !slices.Equal(got, want) {
		t.Fatalf("All = %v, want %v", got, want)
	}
	for n := uint32(0); n <= 12; n++ {
		want := n >= 2 && n <= 4 || n >= 7 && n <= 10
		if s.Contains(n, max) != want {
			t.Errorf("Contains(%d) = %v", n, !want)
		}
	}
	// "5:*" with 3 the largest number in use is 3:5 (RFC 3501 6.4.8).
	if u := seq("5:*"); !u.Contains(3, 3) || u.Contains(2, 3) {
		t.Error(`"5:*" over max 3 must contain 3 only`)
	}
	if got := seq("5:*").Normalize(3).String(); got != "3" {
		t.Errorf("Normalize = %q", got)
	}
	if got := seq("9,1:3,2:5,7,*").Normalize(8).String(); got != "1:5,7:8" {
		t.Errorf("Normalize = %q", got)
	}
	if n := seq("1:*").Count(1_000_000); n != 1_000_000 {
		t.Errorf("Count = %d", n)
	}
	// Iterating the top of the number space must stop, not wrap.
	var last uint32
	for n := range seq("4294967294:*").All(4294967295) {
		last = n
	}
	if last != 4294967295 {
		t.Errorf("last = %d", last)
	}
	if seq("$").Contains(1, 1) || seq("$").IsEmpty() || seq("$").String() != "$" {
		t.Error("saved set must contain nothing before resolution, yet not be empty")
	}
	if !seq("1:*").Dynamic() || seq("1:5").Dynamic() {
		t.Error("Dynamic wrong")
	}
}

func TestSeqSetBuild(t *testing.T) {
	var s SeqSet
	for _, n := range []uint32{1, 2, 3, 5, 7, 8, 9, 4294967295} {
		s.AddNum(n)
	}
	s.AddRange(10, 12)
	if got := s.String(); got != "1:3,5,7:9,4294967295,10:12" {
		t.Fatalf("got %q", got)
	}
}

// genSeqSet draws a random sequence set over small numbers.
func genSeqSet(t *rapid.T) SeqSet {
	n := rapid.IntRange(1, 6).Draw(t, "n")
	var s SeqSet
	for i := range n {
		a := rapid.Uint32Range(0, 40).Draw(t, fmt.Sprintf("a%d", i))
		b := rapid.Uint32Range(0, 40).Draw(t, fmt.Sprintf("b%d", i))
		s.Ranges = append(s.Ranges, SeqRange{a, b})
	}
	return s
}

func TestSeqSetProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genSeqSet(t)
		max := rapid.Uint32Range(0, 50).Draw(t, "max")
		// Formatting round trips.
		back, err := ParseSeqSet(s.String())
		if err != nil || !reflect.DeepEqual(back, s) {
			t.Fatalf("%s: round trip %v %+v", s, err, back)
		}
		// Contains, All and Normalize agree.
		seen := map[uint32]bool{}
		for n := range s.All(max) {
			if n == 0 || n > max || !s.Contains(n, max) {
				t.Fatalf("%s max %d: All yields %d", s, max, n)
			}
			seen[n] = true
		}
		norm := s.Normalize(max)
		for n := uint32(0); n <= 52; n++ {
			want := n >= 1 && n <= max && s.Contains(n, max)
			if seen[n] != want || norm.Contains(n, max) != want {
				t.Fatalf("%s max %d: n=%d all=%v norm=%v want %v", s, max, n, seen[n], norm.Contains(n, max), want)
			}
		}
		if s.Count(max) != uint64(len(seen)) {
			t.Fatalf("%s: Count %d, want %d", s, s.Count(max), len(seen))
		}
		// Normalized ranges are sorted and separated by gaps.
		for i := 1; i < len(norm.Ranges); i++ {
			if norm.Ranges[i].Start <= norm.Ranges[i-1].Stop+1 {
				t.Fatalf("%s: not merged: %s", s, norm)
			}
		}
	})
}
