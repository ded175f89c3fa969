package lmtp

import (
	"context"
	"errors"
	"time"

	"github.com/eidermail/eider/codec/smtp"
	"github.com/eidermail/eider/engine"
)

// maxRcptBatch bounds how many pipelined RCPT commands one job looks up.
const maxRcptBatch = 256

// rcptJob is one batch of recipient lookups on a worker.
type rcptJob struct {
	done     chan struct{} // closed once accepted is final
	finished bool          // under session.mu; set with done
	accepted []recipient   // written by the job only, read after done
}

// rcptItem is one RCPT of a batch: either answered on the loop already
// (reply set) or waiting for the store (path set).
type rcptItem struct {
	reply *smtp.Reply
	path  smtp.Path
}

// rcpt answers a RCPT command and every complete RCPT pipelined behind it
// in one job: recipients resolve through the store, which may block.
func (s *session) rcpt(first smtp.Command) {
	start := time.Now()
	batch := []rcptItem{s.checkRcpt(first)}
	for len(batch) < maxRcptBatch && s.nextIsRcpt() {
		ev, err := s.parser.Next()
		switch {
		case err != nil:
			var ce *smtp.CommandError
			r := smtp.SyntaxError("Syntax error")
			if errors.As(err, &ce) {
				r = ce.Reply
			}
			batch = append(batch, rcptItem{reply: &r})
		case ev.Kind == smtp.EventCommand && ev.Command.Verb == smtp.VerbRCPT:
			batch = append(batch, s.checkRcpt(ev.Command))
		default:
			// nextIsRcpt saw "RCPT ...\n", so the parser cannot return
			// anything else; answer rather than lose the event silently.
			s.logger().Error("lmtp: unexpected event in a RCPT batch", "kind", ev.Kind)
			r := smtp.LocalError()
			batch = append(batch, rcptItem{reply: &r})
		}
	}
	lookups := 0
	for _, it := range batch {
		if it.reply == nil {
			lookups++
		}
	}
	if lookups == 0 {
		for _, it := range batch {
			s.reply(*it.reply)
			s.observe(smtp.VerbRCPT, it.reply.Code, start)
		}
		return
	}
	s.flush()
	job := &rcptJob{done: make(chan struct{})}
	s.job = job
	tx := s.tx // the job reads its own copy; the loop keeps the transaction
	ctx := s.c.Context()
	run := func() {
		var out []byte
		for _, it := range batch {
			r := it.reply
			if r == nil {
				rr := s.resolve(ctx, &tx, job, it.path)
				r = &rr
			}
			out = r.AppendTo(out)
			s.observe(smtp.VerbRCPT, r.Code, start)
		}
		s.jobDone(job, out)
	}
	// The job runs even if the connection closes meanwhile, so that done is
	// always closed; its lookups then fail fast on the cancelled context.
	if err := s.h.pool.Submit(context.WithoutCancel(ctx), run); err != nil {
		s.logger().Warn("lmtp: worker pool refused a job", "err", err)
		var out []byte
		for _, it := range batch {
			r := it.reply
			if r == nil {
				r = &smtp.Reply{Code: 451, Enhanced: "4.3.2", Lines: []string{"System busy, try again later"}}
			}
			out = r.AppendTo(out)
			s.observe(smtp.VerbRCPT, r.Code, start)
		}
		s.jobDone(job, out)
	}
}

// jobDone writes a lookup's replies and, when the loop deferred an event
// behind it, handles that event in the loop's place.
func (s *session) jobDone(job *rcptJob, replies []byte) {
	s.write(replies)
	s.mu.Lock()
	job.finished = true
	close(job.done)
	p := s.deferred
	s.deferred = nil
	s.mu.Unlock()
	if p != nil {
		s.finishDeferred(p)
	}
	// Otherwise the loop collects the result when it next needs it.
}

// checkRcpt answers what can be answered without the store.
func (s *session) checkRcpt(cmd smtp.Command) rcptItem {
	var r smtp.Reply
	switch {
	case !s.tx.active:
		r = smtp.BadSequence("Need MAIL command")
	case s.tx.bdat:
		r = smtp.BadSequence("RCPT not allowed after BDAT")
	case cmd.Path.UTF8 && !s.tx.utf8:
		r = smtp.Reply{Code: 553, Enhanced: "5.6.7", Lines: []string{"Non-ASCII recipient address requires SMTPUTF8"}}
	case cmd.Path.Domain == "":
		// "<Postmaster>" without a domain: the MTA in front answers for it.
		r = smtp.NoSuchUser(cmd.Path.Address())
	default:
		return rcptItem{path: cmd.Path}
	}
	return rcptItem{reply: &r}
}

// resolve looks a recipient up on a worker and, when it is accepted, adds
// it to the job's list.
func (s *session) resolve(ctx context.Context, tx *transaction, job *rcptJob, path smtp.Path) smtp.Reply {
	addr := path.Address()
	if len(tx.rcpts)+len(job.accepted) >= s.h.cfg.MaxRecipients {
		return smtp.Reply{Code: 452, Enhanced: "4.5.3", Lines: []string{"Too many recipients"}}
	}
	start := time.Now()
	rc, err := s.h.e.ResolveRecipient(ctx, addr)
	switch {
	case errors.Is(err, engine.ErrNotFound):
		return smtp.NoSuchUser(addr)
	case errors.Is(err, engine.ErrInvalidName):
		return smtp.Reply{Code: 553, Enhanced: "5.1.3", Lines: []string{"<" + addr + "> Bad recipient address"}}
	case err != nil:
		s.logger().Warn("lmtp: recipient lookup failed", "rcpt", addr, "err", err)
		return smtp.LocalError()
	}
	// Refuse now when the message cannot fit, so the MTA does not send it
	// at all; the store checks again when it commits.
	if q, err := s.h.e.Quota(ctx, rc.User); err != nil {
		s.logger().Warn("lmtp: quota lookup failed, checking at delivery", "rcpt", addr, "err", err)
	} else if q.Limit > 0 {
		need := int64(len(deliveryPrefix(tx.from, addr)))
		if tx.size > 0 {
			need += tx.size
		}
		if q.Used+need > q.Limit {
			s.logger().Info("lmtp: recipient over quota", "rcpt", addr, "used", q.Used, "limit", q.Limit, "size", tx.size)
			return s.overQuota()
		}
	}
	job.accepted = append(job.accepted, recipient{given: addr, to: rc})
	s.logger().Debug("lmtp: recipient accepted", "rcpt", addr, "user", rc.User, "label", rc.Label, "took", time.Since(start))
	return smtp.RecipientOK()
}

func (s *session) overQuota() smtp.Reply {
	if s.h.cfg.QuotaTemporary {
		return smtp.MailboxFull(452)
	}
	return smtp.MailboxFull(552)
}
