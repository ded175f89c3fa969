package redis

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/eidermail/eider/engine"
)

func TestBeaconRoundTrip(t *testing.T) {
	for _, ev := range []engine.ChangeEvent{
		{User: 1, Mailbox: engine.AnyMailbox},
		{User: 42, Mailbox: 7, ModSeq: 123456789, Committed: time.UnixMicro(1_790_000_000_123_456)},
		{User: 1 << 62, Mailbox: 1<<63 - 1, ModSeq: 1<<64 - 1, Committed: time.UnixMicro(1)},
	} {
		for _, node := range []string{"", "n", "0123456789abcdef"} {
			p := appendBeacon(nil, ev, node)
			b, err := parseBeacon(p)
			if err != nil {
				t.Fatalf("parse %x: %v", p, err)
			}
			if b.node != node || b.ev.User != ev.User || b.ev.Mailbox != ev.Mailbox || b.ev.ModSeq != ev.ModSeq || !b.ev.Committed.Equal(ev.Committed) {
				t.Fatalf("round trip of %+v from %q: %+v from %q", ev, node, b.ev, b.node)
			}
			// A later version's extra fields are skipped.
			if b2, err := parseBeacon(append(p, 0xff, 0x01)); err != nil || b2.ev != b.ev {
				t.Fatalf("beacon with a trailing field: %+v, %v", b2, err)
			}
		}
	}
	typical := appendBeacon(nil, engine.ChangeEvent{User: 123456, Mailbox: 98765, ModSeq: 1_000_000, Committed: time.Now()}, "0123456789abcdef")
	if len(typical) > 40 {
		t.Fatalf("typical beacon is %d bytes", len(typical))
	}
}

func TestBeaconMalformed(t *testing.T) {
	good := appendBeacon(nil, engine.ChangeEvent{User: 3, Mailbox: 4, ModSeq: 5, Committed: time.Now()}, "node")
	cases := map[string][]byte{
		"empty":        nil,
		"version":      append([]byte{2}, good[1:]...),
		"zero user":    appendBeacon(nil, engine.ChangeEvent{User: 0, Mailbox: 1}, "x"),
		"negative mb":  appendBeacon(nil, engine.ChangeEvent{User: 1, Mailbox: -1}, "x"),
		"long node id": appendBeacon(nil, engine.ChangeEvent{User: 1}, string(bytes.Repeat([]byte("n"), maxNodeID+1))),
		"overlong":     {1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
	}
	for i := 1; i < len(good); i++ {
		cases["truncated "+string(rune('a'+i))] = good[:i]
	}
	for name, p := range cases {
		if _, err := parseBeacon(p); !errors.Is(err, errBeacon) {
			t.Errorf("%s (%x): %v, want a malformed-beacon error", name, p, err)
		}
	}
}

func FuzzParseBeacon(f *testing.F) {
	f.Add(appendBeacon(nil, engine.ChangeEvent{User: 1, Mailbox: 2, ModSeq: 3, Committed: time.UnixMicro(4)}, "node-a"))
	f.Add(appendBeacon(nil, engine.ChangeEvent{User: 99, Mailbox: engine.AnyMailbox}, ""))
	f.Add([]byte{1})
	f.Add([]byte{1, 2, 4, 6, 0, 200})
	f.Add([]byte("hello"))
	f.Fuzz(func(t *testing.T, p []byte) {
		b, err := parseBeacon(p)
		if err != nil {
			return
		}
		// What parses re-encodes to a beacon that parses to the same thing.
		q := appendBeacon(nil, b.ev, b.node)
		b2, err := parseBeacon(q)
		if err != nil || b2.ev.User != b.ev.User || b2.ev.Mailbox != b.ev.Mailbox || b2.ev.ModSeq != b.ev.ModSeq ||
			!b2.ev.Committed.Equal(b.ev.Committed) || b2.node != b.node {
			t.Fatalf("re-encoded %+v/%q as %x: %+v/%q, %v", b.ev, b.node, q, b2.ev, b2.node, err)
		}
		if len(q) > len(p) {
			t.Fatalf("re-encoding grew %d bytes to %d", len(p), len(q))
		}
	})
}
