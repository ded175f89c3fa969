package imap

import (
	"testing"
	"time"
)

func TestDates(t *testing.T) {
	d, err := ParseDate("1-Feb-1994")
	if err != nil || !d.Equal(time.Date(1994, 2, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("ParseDate: %v %v", d, err)
	}
	if got := string(AppendDate(nil, d)); got != "1-Feb-1994" {
		t.Errorf("AppendDate = %q", got)
	}
	for _, bad := range []string{"", "1-Feb-94", "1-Fbr-1994", "001-Feb-1994", "30-Feb-2024", "1/Feb/1994", "a-Feb-1994"} {
		if _, err := ParseDate(bad); err == nil {
			t.Errorf("ParseDate(%q) accepted", bad)
		}
	}
	tests := []struct {
		in   string
		want time.Time
		out  string
	}{
		{"17-Jul-1996 02:44:25 -0700", time.Date(1996, 7, 17, 9, 44, 25, 0, time.UTC), "17-Jul-1996 02:44:25 -0700"},
		{" 7-Jul-1996 02:44:25 +0530", time.Date(1996, 7, 6, 21, 14, 25, 0, time.UTC), " 7-Jul-1996 02:44:25 +0530"},
		{"07-jul-1996 00:00:00 +0000", time.Date(1996, 7, 7, 0, 0, 0, 0, time.UTC), " 7-Jul-1996 00:00:00 +0000"},
		{"7-Jul-1996 23:59:60 +0000", time.Date(1996, 7, 7, 23, 59, 59, 0, time.UTC), " 7-Jul-1996 23:59:59 +0000"},
	}
	for _, tc := range tests {
		got, err := ParseDateTime(tc.in)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("ParseDateTime(%q) = %v, %v", tc.in, got, err)
			continue
		}
		if s := FormatDateTime(got); s != tc.out {
			t.Errorf("FormatDateTime = %q, want %q", s, tc.out)
		}
	}
	for _, bad := range []string{"17-Jul-1996 02:44:25", "17-Jul-1996 24:00:00 +0000", "17-Jul-1996 02:44:25 0700", "31-Jun-1996 02:44:25 +0000", "17-Jul-1996T02:44:25 +0000"} {
		if _, err := ParseDateTime(bad); err == nil {
			t.Errorf("ParseDateTime(%q) accepted", bad)
		}
	}
}
