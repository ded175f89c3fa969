package pop3

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/eidermail/eider/codec/pop3"
	"github.com/eidermail/eider/engine"
)

// errGone reports a message expunged by another session (IMAP) since login.
var errGone = errors.New("message no longer exists")

// retrieve answers RETR (lines < 0) or TOP n lines on a worker: the message
// streams from the store through the dot-stuffer to the socket, with
// netloop's back-pressure, so it is never held whole in memory.
func (s *session) retrieve(n, lines int) {
	m := s.message(n)
	if m == nil {
		return
	}
	ctx := s.c.Context()
	user, mb := s.user.ID, s.drop.mailbox.ID
	s.startJob(ctx, func() {
		defer s.endJob()
		err := s.stream(ctx, user, mb, m, lines)
		switch {
		case err == nil:
			s.repliedWith("ok")
			if lines < 0 {
				m.retrieved = true
			}
		case errors.Is(err, errGone):
			s.repliedWith("err")
			_ = s.c.Write(pop3.AppendErr(nil, "", "Message "+itoa(n)+" was removed by another session"))
		case errors.Is(err, errStreaming):
			// Part of the message is out: the reply cannot be ended
			// cleanly, so the client must not mistake it for the whole.
			s.logger().Warn("pop3: message stream failed", "msg", n, "uid", m.uid, "err", err)
			_ = s.c.Close()
		default:
			s.logger().Warn("pop3: cannot open message", "msg", n, "uid", m.uid, "err", err)
			s.repliedWith("err")
			_ = s.c.Write(pop3.AppendErr(nil, pop3.RespSysTemp, "Message temporarily unavailable"))
		}
	})
}

// streamBuffers are the buffers of one RETR or TOP, reused across commands.
type streamBuffers struct {
	w    *bufio.Writer // gathers the dot-stuffer's small writes into large socket writes
	copy []byte        // what is read from the store at a time
}

// errStreaming marks a failure after the +OK line went out.
var errStreaming = errors.New("pop3: failure while streaming")

func (s *session) stream(ctx context.Context, user engine.UserID, mb engine.MailboxID, m *message, lines int) error {
	var meta *engine.MessageMeta
	err := s.h.e.Messages(ctx, user, mb, roaring.BitmapOf(uint32(m.uid)), func(mm *engine.MessageMeta) error {
		c := *mm
		meta = &c
		return nil
	})
	if err != nil {
		return fmt.Errorf("pop3: message row: %w", err)
	}
	if meta == nil {
		return errGone
	}
	msg, err := s.h.e.OpenMessage(ctx, user, mb, meta)
	if err != nil {
		return fmt.Errorf("pop3: open message: %w", err)
	}
	defer msg.Close()
	sec, err := msg.Section(engine.Section{})
	if err != nil {
		return fmt.Errorf("pop3: message body: %w", err)
	}
	sb := s.h.bufs.Get().(*streamBuffers)
	w := sb.w
	w.Reset(s.c.Writer(ctx))
	defer func() {
		w.Reset(nil)
		s.h.bufs.Put(sb)
	}()
	var body io.Writer
	var end func() error
	if lines < 0 {
		_, _ = w.Write(pop3.AppendOK(nil, itoa64(sec.Length)+" octets"))
		dw := pop3.NewDotWriter(w)
		body, end = dw, dw.Close
	} else {
		_, _ = w.Write(pop3.AppendOK(nil, "Top of message follows"))
		tw := pop3.NewTopWriter(w, lines)
		body, end = tw, tw.Close
	}
	if _, err := io.CopyBuffer(body, sec.Body, sb.copy); err != nil && !errors.Is(err, pop3.ErrTopDone) {
		return fmt.Errorf("%w: %w", errStreaming, err)
	}
	if err := end(); err != nil {
		return fmt.Errorf("%w: %w", errStreaming, err)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("%w: %w", errStreaming, err)
	}
	return nil
}
