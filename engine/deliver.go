package engine

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/eidermail/eider/codec/mime"
)

// JunkRule files a delivered message into Junk when the named header field
// of its top-level header contains Contains (case-insensitive), e.g.
// {X-Spam-Flag, YES}, {X-Spam-Status, Yes,}, {X-Rspamd-Action, reject}.
type JunkRule struct {
	Header   string
	Contains string
}

// DefaultJunkRules match the verdict headers of SpamAssassin and Rspamd.
func DefaultJunkRules() []JunkRule {
	return []JunkRule{
		{Header: "X-Spam-Flag", Contains: "yes"},
		{Header: "X-Spam-Status", Contains: "yes,"},
		{Header: "X-Spam", Contains: "yes"},
		{Header: "X-Rspamd-Action", Contains: "add header"},
		{Header: "X-Rspamd-Action", Contains: "rewrite subject"},
	}
}

// IsJunk reports whether a header block matches any rule.
func IsJunk(h mime.Header, rules []JunkRule) bool {
	for _, r := range rules {
		for _, v := range h.Values(r.Header) {
			if strings.Contains(strings.ToLower(v), strings.ToLower(r.Contains)) {
				return true
			}
		}
	}
	return false
}

// Delivery is one recipient of a delivered message.
type Delivery struct {
	User UserID
	// Prefix is prepended to this recipient's copy without touching the shared
	// body: typically "Return-Path: <...>\r\nDelivered-To: ...\r\n".
	Prefix []byte
	// Mailbox is where to file the message; "" means INBOX, or the user's Junk
	// mailbox when a JunkRule matches.
	Mailbox string
	Flags   []string
}

// DeliveryResult is the outcome for one recipient: Err is nil, ErrOverQuota,
// ErrNotFound (no such mailbox) or a storage error.
type DeliveryResult struct {
	Mailbox     Mailbox
	UIDValidity uint32
	UID         UID
	Junk        bool
	Err         error
}

// Deliver reads a message once and stores it for every recipient; the copies
// share their blobs. A failure of one recipient (quota, a store error) does
// not affect the others; a read or parse failure of the message itself is
// returned as err and nothing is stored for anyone.
func (e *Engine) Deliver(ctx context.Context, r io.Reader, rcpts []Delivery, junkRules []JunkRule) ([]DeliveryResult, error) {
	in, err := ingest(ctx, e.blobs, e.z, e.cfg.Ingest, r)
	if err != nil {
		return nil, err
	}
	junk := IsJunk(in.root, junkRules)
	now := time.Now()
	res := make([]DeliveryResult, len(rcpts))
	for i, rc := range rcpts {
		res[i] = e.deliverOne(ctx, in, rc, junk, now)
	}
	return res, nil
}

func (e *Engine) deliverOne(ctx context.Context, in *ingested, rc Delivery, junk bool, now time.Time) DeliveryResult {
	var res DeliveryResult
	mb, err := e.deliveryMailbox(ctx, rc, junk)
	if err != nil {
		res.Err = err
		return res
	}
	res.Mailbox = mb
	res.Junk = mb.SpecialUse == SpecialJunk
	msg := in.message(e.z, rc.Prefix)
	msg.EmailID = newEmailID()
	msg.Flags = NormalizeFlags(rc.Flags)
	msg.InternalDate = now
	validity, uids, err := e.meta.Append(ctx, rc.User, mb.ID, []NewMessage{msg})
	if err != nil {
		res.Err = err
		return res
	}
	res.UIDValidity, res.UID = validity, uids[0]
	e.publish(ctx, rc.User, mb.ID, 0)
	e.emit(Event{Kind: EventDelivered, User: rc.User, Mailbox: mb.ID, UIDs: uids})
	if res.Junk {
		e.emit(Event{Kind: EventMovedToJunk, User: rc.User, Mailbox: mb.ID, UIDs: uids})
	}
	return res
}

// deliveryMailbox picks the recipient's target mailbox: the one asked for,
// else Junk for a junk verdict (by special use, whatever its name), else INBOX.
func (e *Engine) deliveryMailbox(ctx context.Context, rc Delivery, junk bool) (Mailbox, error) {
	if rc.Mailbox != "" {
		return e.Mailbox(ctx, rc.User, rc.Mailbox)
	}
	if junk {
		mbs, err := e.meta.Mailboxes(ctx, rc.User)
		if err != nil {
			return Mailbox{}, err
		}
		for _, mb := range mbs {
			if mb.SpecialUse == SpecialJunk {
				return mb, nil
			}
		}
	}
	mb, err := e.meta.MailboxByName(ctx, rc.User, "INBOX")
	if errors.Is(err, ErrNotFound) {
		// A user without INBOX (deleted by hand in the store) gets it back.
		return e.meta.CreateMailbox(ctx, rc.User, "INBOX", "")
	}
	return mb, err
}
