package imap

import (
	"errors"
	"testing"
	"unicode/utf8"

	"pgregory.net/rapid"
)

func TestMailboxUTF7(t *testing.T) {
	tests := []struct{ utf8, mutf7 string }{
		{"INBOX", "INBOX"},
		{"", ""},
		{"~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},
		{"&", "&-"},
		{"Tom & Jerry", "Tom &- Jerry"},
		{"Entwürfe", "Entw&APw-rfe"},
		{"Gelöschte Elemente", "Gel&APY-schte Elemente"},
		{"Черновики", "&BCcENQRABD0EPgQyBDgEOgQ4-"},
		{"😀", "&2D3eAA-"},
		{"a\tb", "a&AAk-b"},
		{"élan&été", "&AOk-lan&-&AOk-t&AOk-"},
	}
	for _, tc := range tests {
		if got := EncodeMailboxUTF7(tc.utf8); got != tc.mutf7 {
			t.Errorf("Encode(%q) = %q, want %q", tc.utf8, got, tc.mutf7)
		}
		got, err := DecodeMailboxUTF7(tc.mutf7)
		if err != nil || got != tc.utf8 {
			t.Errorf("Decode(%q) = %q, %v; want %q", tc.mutf7, got, err, tc.utf8)
		}
	}
	for _, bad := range []string{
		"&", "&U,BTFw", "&U,B-", "&AGE-", "&2D0-", "&3gA-", "&AOk", "&A-", "a\xc3\xa9", "\x01", "&!!-", "&AOl-",
	} {
		if _, err := DecodeMailboxUTF7(bad); !errors.Is(err, ErrMailboxName) {
			t.Errorf("Decode(%q): got %v, want ErrMailboxName", bad, err)
		}
	}
	if got := EncodeMailboxUTF7("a\xffb"); got != "a&,,0-b" {
		t.Errorf("invalid UTF-8 encodes as %q", got)
	}
}

func TestMailboxUTF7Properties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := rapid.StringMatching(`[a-zA-Z0-9 &~/.\-é台😀\x00-\x1f]{0,20}`).Draw(t, "s")
		enc := EncodeMailboxUTF7(s)
		for i := 0; i < len(enc); i++ {
			if enc[i] < 0x20 || enc[i] > 0x7e {
				t.Fatalf("Encode(%q) = %q is not printable ASCII", s, enc)
			}
		}
		dec, err := DecodeMailboxUTF7(enc)
		if err != nil || dec != s {
			t.Fatalf("Decode(Encode(%q)) = %q, %v", s, dec, err)
		}
	})
	rapid.Check(t, func(t *rapid.T) {
		s := rapid.String().Draw(t, "s")
		if !utf8.ValidString(s) {
			return
		}
		if dec, err := DecodeMailboxUTF7(EncodeMailboxUTF7(s)); err != nil || dec != s {
			t.Fatalf("round trip of %q: %q, %v", s, dec, err)
		}
	})
}

func TestInbox(t *testing.T) {
	for _, n := range []string{"INBOX", "inbox", "InBoX"} {
		if !IsInbox(n) || NormalizeMailbox(n, '/') != "INBOX" {
			t.Errorf("%q not INBOX", n)
		}
	}
	if IsInbox("INBOX/x") || IsInbox("INBOXES") {
		t.Error("IsInbox too broad")
	}
	for in, want := range map[string]string{"inbox/Sent": "INBOX/Sent", "inbox.Sent": "inbox.Sent", "Inboxes": "Inboxes", "Other": "Other"} {
		if got := NormalizeMailbox(in, '/'); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}
