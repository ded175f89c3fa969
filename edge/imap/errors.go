package imap

import (
	"context"
	"errors"

	imap "github.com/eidermail/eider/codec/imap"
	"github.com/eidermail/eider/engine"
)

// errBadSeq reports a sequence number beyond the mailbox's message count.
var errBadSeq = errors.New("invalid message sequence number")

// storeError answers a failed store call: the engine's errors become
// response codes; anything else is logged and reported as a server bug
// without details, so internal errors never reach the client.
func (s *session) storeError(ctx context.Context, op string, err error) status {
	switch {
	case errors.Is(err, engine.ErrNotFound):
		return no(imap.CodeNonExistent, "no such mailbox")
	case errors.Is(err, engine.ErrExists):
		return no(imap.CodeAlreadyExists, "mailbox already exists")
	case errors.Is(err, engine.ErrOverQuota):
		return no(imap.CodeOverQuota, "quota exceeded")
	case errors.Is(err, engine.ErrTooBig):
		return no(imap.CodeTooBig, "message too large")
	case errors.Is(err, engine.ErrInvalidName):
		return no(imap.CodeCannot, "invalid mailbox name")
	case errors.Is(err, engine.ErrPermission):
		return no(imap.CodeCannot, "operation not permitted")
	case errors.Is(err, engine.ErrUnknownCTE):
		return no(imap.CodeUnknownCTE, "unknown content transfer encoding")
	case errors.Is(err, errBadSeq):
		return bad(errBadSeq.Error())
	case ctx != nil && ctx.Err() != nil:
		return no(imap.CodeUnavailable, "connection closing")
	}
	s.log().Error("store call failed", "op", op, "err", err)
	return no(imap.CodeServerBug, "internal error, try again later")
}
