package lmtp

import (
	"cmp"
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/eidermail/eider/codec/smtp"
	"github.com/eidermail/eider/engine"
)

// delivery is one message on its way into the store: the loop writes its
// bytes into the spool while a goroutine runs Engine.Deliver over them.
type delivery struct {
	s     *session
	sp    *spool
	from  smtp.Path
	prior []recipient // recipients accepted before the message started
	job   *rcptJob    // lookups still in flight when it started (BDAT pipelined behind RCPT)
	start time.Time
	// Set by the loop at each end of data, read once ended is closed.
	endAt   time.Time
	chunked bool

	mu         sync.Mutex
	ended      chan struct{} // closed by finish or abandon
	refusal    *smtp.Reply   // every recipient gets this instead of a delivery
	silent     bool          // dropped: write nothing
	closeAfter bool          // close the connection after the replies
}

// deliveryPrefix is what each recipient's copy gets in front of the message:
// the envelope sender and the address the message was delivered to, so that
// a user+label@ address stays visible and searchable.
func deliveryPrefix(from smtp.Path, rcpt string) []byte {
	b := make([]byte, 0, 40+len(from.Address())+len(rcpt))
	b = append(b, "Return-Path: <"...)
	b = append(b, from.Address()...)
	b = append(b, ">\r\nDelivered-To: "...)
	b = append(b, rcpt...)
	return append(b, "\r\n"...)
}

// data answers DATA and starts receiving the message. No lookup is in
// flight here: DATA waits for them.
func (s *session) data() {
	switch {
	case !s.tx.active:
		s.reply(smtp.BadSequence("Need MAIL command"))
		return
	case s.tx.bdat:
		s.reply(smtp.BadSequence("DATA not allowed after BDAT"))
		return
	case len(s.tx.rcpts) == 0:
		// RFC 2033 4.2: no successful RCPT, so DATA fails with 503.
		s.reply(smtp.BadSequence("No valid recipients"))
		return
	}
	if err := s.parser.BeginData(); err != nil {
		s.logger().Error("lmtp: cannot start DATA", "err", err)
		s.reply(smtp.LocalError())
		return
	}
	s.reply(smtp.StartMailInput())
	s.startDelivery()
}

// bdat decides about a BDAT chunk, which the parser reads in any case. With
// lookups in flight the chunk is taken provisionally: its bytes stream into
// the spool and the answer comes at its end, once the recipients are known.
func (s *session) bdat() {
	switch {
	case !s.tx.active:
		r := smtp.BadSequence("Need MAIL command")
		s.chunkRefusal = &r
	case s.job == nil && len(s.tx.rcpts) == 0:
		r := smtp.BadSequence("No valid recipients")
		s.chunkRefusal = &r
	default:
		s.chunkRefusal = nil
		if s.tx.d == nil {
			s.tx.bdat = true
			s.startDelivery()
		}
	}
}

func (s *session) startDelivery() {
	d := &delivery{
		s:     s,
		sp:    newSpool(s.h.cfg.SpoolMemory, s.h.cfg.SpoolDir),
		from:  s.tx.from,
		prior: append([]recipient(nil), s.tx.rcpts...),
		job:   s.job,
		start: time.Now(),
		ended: make(chan struct{}),
	}
	s.tx.d = d
	// Not a pool job: it lives as long as the client takes to send the
	// message, and must not hold a worker that short commands need.
	go d.run(s.c.Context())
}

// dataEnd handles the end of a DATA message or of a BDAT chunk. No lookup
// is in flight here: the event waited for them.
func (s *session) dataEnd(end smtp.DataEnd) {
	if end.Chunked {
		if r := s.chunkRefusal; r != nil {
			s.chunkRefusal = nil
			s.reply(*r)
			return
		}
		switch {
		case s.tx.d == nil:
			s.reply(smtp.BadSequence("Need MAIL command"))
			return
		case len(s.tx.rcpts) == 0:
			// Taken provisionally behind RCPTs that all failed.
			s.tx.d.abandon()
			s.tx.d, s.tx.bdat = nil, false
			s.reply(smtp.BadSequence("No valid recipients"))
			return
		case end.TooBig && !end.Last:
			// The sender must stop after a failed chunk (RFC 3030 4.2);
			// the transaction is over.
			s.reset()
			s.reply(smtp.MessageTooBig())
			return
		case !end.Last:
			s.reply(smtp.OK(strconv.FormatInt(end.Size, 10) + " octets received"))
			return
		}
	}
	d := s.tx.d
	if d == nil {
		// DATA was refused, so the parser never entered DATA mode: unreachable.
		s.reply(smtp.LocalError())
		return
	}
	var refusal *smtp.Reply
	switch {
	case end.TooBig:
		r := smtp.MessageTooBig()
		refusal = &r
	case end.BareLF && !s.h.cfg.AllowBareLFTerminator:
		r := smtp.ContentRejected("Message ended with a bare LF; refused (SMTP smuggling pattern)")
		refusal = &r
		d.closeAfter = true
		s.logger().Warn("lmtp: DATA ended by a dot line next to a bare LF; message refused, closing",
			"from", d.from.Address(), "rcpts", len(s.tx.rcpts))
		// Pipelined input after a smuggling pattern must not run as commands.
		s.quit = true
	}
	s.tx = transaction{}
	s.pauseForReplies()
	d.finish(refusal)
}

// finish tells the goroutine that the message is complete (refusal nil) or
// refused; it answers every recipient then.
func (d *delivery) finish(refusal *smtp.Reply) {
	d.mu.Lock()
	defer d.mu.Unlock()
	select {
	case <-d.ended:
		return
	default:
	}
	d.refusal = refusal
	if refusal != nil {
		d.sp.Abort(errAbandoned)
	} else {
		d.sp.CloseWrite()
	}
	close(d.ended)
}

// abandon drops the message: nothing is stored and nothing answered. It
// runs on the loop (RSET, a new transaction) or when the connection closes.
func (d *delivery) abandon() {
	d.mu.Lock()
	defer d.mu.Unlock()
	select {
	case <-d.ended:
		return
	default:
	}
	d.silent = true
	d.sp.Abort(errAbandoned)
	close(d.ended)
}

// run stores the message for every recipient as it arrives, then, once the
// loop has seen its end, writes one reply per recipient (RFC 2033 4.2).
func (d *delivery) run(connCtx context.Context) {
	s := d.s
	// A connection that closes before the message ended stores nothing.
	stop := context.AfterFunc(connCtx, d.abandon)
	defer stop()
	rcpts := d.prior
	if d.job != nil {
		select {
		case <-d.job.done:
			rcpts = append(rcpts, d.job.accepted...)
		case <-d.ended:
		}
	}
	var res []engine.DeliveryResult
	var err error
	if len(rcpts) > 0 {
		deliveries := make([]engine.Delivery, len(rcpts))
		for i, r := range rcpts {
			deliveries[i] = engine.Delivery{User: r.to.User, Prefix: deliveryPrefix(d.from, r.given)}
		}
		// Once the message is complete, the copies are stored for everyone
		// even if the client hangs up: it may have seen some replies.
		res, err = s.h.e.Deliver(context.WithoutCancel(connCtx), d.sp, deliveries, s.h.junk)
	}
	size := d.sp.Written()
	d.sp.Release()
	<-d.ended
	d.mu.Lock()
	silent, refusal, closeAfter := d.silent, d.refusal, d.closeAfter
	d.mu.Unlock()
	log := s.logger().With("from", d.from.Address(), "size", size, "rcpts", len(rcpts), "took", time.Since(d.start))
	if silent {
		if connCtx.Err() != nil {
			log.Info("lmtp: connection closed during message transfer, nothing stored")
		} else {
			log.Debug("lmtp: message transfer abandoned, nothing stored")
		}
		return
	}
	var out []byte
	delivered, failed := 0, 0
	codes := make([]int, 0, len(rcpts))
	for i, r := range rcpts {
		var rr engine.DeliveryResult
		if err == nil && i < len(res) {
			rr = res[i]
		}
		reply := d.reply(refusal, r, rr, err)
		codes = append(codes, reply.Code)
		if reply.Code/100 == 2 {
			delivered++
		} else {
			failed++
			if refusal == nil && (reply.Code/100 == 4 || err == nil) {
				log.Info("lmtp: recipient not delivered", "rcpt", r.given, "reply", reply.Code, "err", cmp.Or(rr.Err, err))
			}
		}
		out = reply.AppendTo(out)
	}
	d.observe(codes, size, refusal != nil)
	switch {
	case refusal != nil:
		log.Info("lmtp: message refused", "reply", refusal.Code)
	case err != nil:
		log.Warn("lmtp: message not stored", "err", err)
	case delivered == 0:
		log.Info("lmtp: message refused for every recipient", "failed", failed)
	default:
		log.Info("lmtp: message delivered", "delivered", delivered, "failed", failed)
	}
	if closeAfter {
		s.endWait(out, false)
		_ = s.c.Close()
		return
	}
	s.endWait(out, true)
}

// reply is the answer for one recipient after the message. err is the
// error of the whole delivery; res is meaningful only without it.
func (d *delivery) reply(refusal *smtp.Reply, r recipient, res engine.DeliveryResult, err error) smtp.Reply {
	if refusal != nil {
		return *refusal
	}
	if err != nil {
		if errors.Is(err, engine.ErrTooBig) {
			return smtp.MessageTooBig()
		}
		// A store failure, not the message's fault: the MTA retries.
		return smtp.LocalError()
	}
	switch e := res.Err; {
	case e == nil:
		return smtp.OK("<" + r.given + "> Saved")
	case errors.Is(e, engine.ErrOverQuota):
		return d.s.overQuota()
	case errors.Is(e, engine.ErrTooBig):
		return smtp.MessageTooBig()
	case errors.Is(e, engine.ErrNotFound):
		return smtp.NoSuchUser(r.given)
	default:
		return smtp.LocalError()
	}
}
