package redis

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/eidermail/eider/engine"
)

// beaconVersion is the first byte of every beacon. A decoder ignores bytes
// after the fields it knows, so a later version can append fields that
// older nodes skip during a rolling upgrade; a change to the existing
// fields takes a new version byte.
const beaconVersion = 1

// maxNodeID bounds the node id a beacon carries (and Options.NodeID).
const maxNodeID = 64

// A beacon on the wire, about 20 bytes for typical values:
//
//	version   byte (1)
//	user      varint (zigzag)
//	mailbox   varint (zigzag)
//	modseq    uvarint
//	committed varint, Unix microseconds; 0 when unknown
//	node      uvarint length + bytes
type beacon struct {
	ev   engine.ChangeEvent
	node string
}

var errBeacon = errors.New("malformed change beacon")

// appendBeacon appends the wire form of ev sent by node to dst.
func appendBeacon(dst []byte, ev engine.ChangeEvent, node string) []byte {
	dst = append(dst, beaconVersion)
	dst = binary.AppendVarint(dst, int64(ev.User))
	dst = binary.AppendVarint(dst, int64(ev.Mailbox))
	dst = binary.AppendUvarint(dst, uint64(ev.ModSeq))
	var us int64
	if !ev.Committed.IsZero() {
		us = ev.Committed.UnixMicro()
	}
	dst = binary.AppendVarint(dst, us)
	dst = binary.AppendUvarint(dst, uint64(len(node)))
	return append(dst, node...)
}

// parseBeacon decodes a beacon received from Redis. Anything else on the
// channel (another program, a newer incompatible version) is an error the
// caller logs and drops.
func parseBeacon(p []byte) (beacon, error) {
	var b beacon
	if len(p) == 0 {
		return b, fmt.Errorf("%w: empty", errBeacon)
	}
	if p[0] != beaconVersion {
		return b, fmt.Errorf("%w: version %d", errBeacon, p[0])
	}
	p = p[1:]
	user, p, err := varint(p, "user")
	if err != nil {
		return b, err
	}
	mailbox, p, err := varint(p, "mailbox")
	if err != nil {
		return b, err
	}
	modseq, n := binary.Uvarint(p)
	if n <= 0 {
		return b, fmt.Errorf("%w: modseq", errBeacon)
	}
	p = p[n:]
	us, p, err := varint(p, "committed time")
	if err != nil {
		return b, err
	}
	nodeLen, n := binary.Uvarint(p)
	if n <= 0 || nodeLen > maxNodeID || nodeLen > uint64(len(p)-n) {
		return b, fmt.Errorf("%w: node id", errBeacon)
	}
	p = p[n:]
	if user <= 0 || mailbox < 0 {
		return b, fmt.Errorf("%w: user %d mailbox %d", errBeacon, user, mailbox)
	}
	b.ev = engine.ChangeEvent{User: engine.UserID(user), Mailbox: engine.MailboxID(mailbox), ModSeq: engine.ModSeq(modseq)}
	if us != 0 {
		b.ev.Committed = time.UnixMicro(us)
	}
	b.node = string(p[:nodeLen])
	return b, nil
}

func varint(p []byte, field string) (int64, []byte, error) {
	v, n := binary.Varint(p)
	if n <= 0 {
		return 0, p, fmt.Errorf("%w: %s", errBeacon, field)
	}
	return v, p[n:], nil
}
