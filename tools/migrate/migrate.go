// Package migrate copies a whole mail store from one pair of backends to
// another (the embedded SQLite and file store into MongoDB and GridFS, and
// back) keeping everything an IMAP or POP3 client caches: UIDVALIDITY,
// UIDs, UIDNEXT, MODSEQs, HIGHESTMODSEQ, flags and EmailIDs. Clients see
// the same mailboxes after the move and do not download anything again.
//
// The copy is resumable: it can be interrupted at any point (Ctrl-C, a
// crash, a lost connection) and run again with the same arguments; it
// continues after the highest UID each destination mailbox already holds
// and never loads a message twice. Blobs are copied before the messages
// that reference them, so an interruption leaves at most unreferenced
// blobs, which the next run reuses and blob GC would collect.
//
// Neither store may be serving mail while it runs: a message delivered to
// the source meanwhile may be missed, and one delivered to the destination
// makes the resumed copy refuse that mailbox.
package migrate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/eidermail/eider/engine"
)

// Stores is one side of a migration.
type Stores struct {
	Meta  engine.MetaStore
	Blobs engine.BlobStore
}

// Options tune Run. The zero value copies in batches of 500 messages,
// silently, without verification.
type Options struct {
	// Batch is how many messages one load writes (one transaction in the
	// destination). Default 500.
	Batch int
	// BlobWorkers is how many blobs are copied at once. Default 4.
	BlobWorkers int
	// Progress receives a progress bar over the messages and a summary
	// line at the end; nil is silent.
	Progress io.Writer
	// Verify compares the two stores after copying: users, addresses,
	// subscriptions, quota, every mailbox's identity and counters, and
	// every message's UID, MODSEQ, flags, EmailID, dates, size, envelope
	// and structure.
	Verify bool
	// ContentSample is the share of messages (0 to 1, spread evenly over
	// each mailbox) that Verify also rebuilds byte for byte on both sides
	// through the engine, as a FETCH BODY[] would. 0 rebuilds none, 1 all.
	ContentSample float64
	// Logger receives a line per mailbox copied (at debug level while a
	// progress bar is drawn). Default: discard.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Batch <= 0 {
		o.Batch = 500
	}
	if o.BlobWorkers <= 0 {
		o.BlobWorkers = 4
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.ContentSample = min(max(o.ContentSample, 0), 1)
	return o
}

// Result says what a run did.
type Result struct {
	Users     int
	Mailboxes int
	// Messages were loaded by this run; Present were already in the
	// destination from an earlier, interrupted run.
	Messages int64
	Present  int64
	// Blobs and BlobBytes count the blob objects this run copied.
	Blobs     int64
	BlobBytes int64
	// Verified and ContentVerified count the messages Verify compared and
	// rebuilt byte for byte.
	Verified        int64
	ContentVerified int64
	Elapsed         time.Duration
}

// Run copies every user of src, with its addresses, subscriptions,
// mailboxes and messages, into dst. src.Meta must implement engine.Dumper
// and dst.Meta engine.Loader.
//
// A user already in dst with the same name is taken to be the same
// account, from an earlier run, only if its password hash is the same; a
// mailbox already there is resumed only if its UIDVALIDITY, UIDNEXT and
// HIGHESTMODSEQ are the source's. Anything else is an error that names the
// user or mailbox and stops the run before it changes that mailbox or
// anything after it. The Result counts what was done until then.
func Run(ctx context.Context, src, dst Stores, opt Options) (Result, error) {
	opt = opt.withDefaults()
	m := &migration{src: src, dst: dst, opt: opt, start: time.Now()}
	var ok bool
	if m.dumper, ok = src.Meta.(engine.Dumper); !ok {
		return Result{}, fmt.Errorf("migrate: the source metadata store (%T) cannot dump messages", src.Meta)
	}
	if m.loader, ok = dst.Meta.(engine.Loader); !ok {
		return Result{}, fmt.Errorf("migrate: the destination metadata store (%T) cannot load messages", dst.Meta)
	}
	if err := copyDictionaries(ctx, src.Meta, dst.Meta); err != nil {
		return Result{}, err
	}
	users, err := src.Meta.Users(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("migrate: list users: %w", err)
	}
	plans := make([]userPlan, len(users))
	var total int64
	for i, u := range users {
		p, err := m.plan(ctx, u)
		if err != nil {
			return Result{}, err
		}
		plans[i] = p
		total += p.messages
	}
	if opt.Progress != nil && total > 0 {
		m.bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(opt.Progress),
			progressbar.OptionSetDescription("messages"),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("msg"),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionFullWidth(),
		)
	}
	err = m.copyAll(ctx, plans)
	if err == nil && opt.Verify {
		err = m.verify(ctx, plans)
	}
	m.res.Elapsed = time.Since(m.start)
	if m.bar != nil {
		if err == nil {
			m.bar.Finish()
		}
		fmt.Fprintln(opt.Progress)
	}
	if opt.Progress != nil {
		fmt.Fprintln(opt.Progress, m.res.summary(err))
	}
	return m.res, err
}

// copyDictionaries gives dst every compression dictionary of src, before
// any message: messages name the dictionary that decodes them. One dst
// already has (an earlier run) must be the same bytes.
func copyDictionaries(ctx context.Context, src, dst engine.MetaStore) error {
	from, ok := src.(engine.DictionaryStore)
	if !ok {
		return nil
	}
	dicts, err := from.Dictionaries(ctx)
	if err != nil || len(dicts) == 0 {
		return err
	}
	into, ok := dst.(engine.DictionaryStore)
	if !ok {
		return fmt.Errorf("migrate: the destination metadata store (%T) keeps no compression dictionaries, and the source's messages need %d", dst, len(dicts))
	}
	have, err := into.Dictionaries(ctx)
	if err != nil {
		return fmt.Errorf("migrate: dictionaries: %w", err)
	}
	for _, d := range dicts {
		i := slices.IndexFunc(have, func(h engine.Dictionary) bool { return h.ID == d.ID })
		switch {
		case i >= 0 && !bytes.Equal(have[i].Data, d.Data):
			return fmt.Errorf("migrate: the destination has another compression dictionary %d", d.ID)
		case i >= 0:
		default:
			if err := into.AddDictionary(ctx, d); err != nil {
				return fmt.Errorf("migrate: dictionary %d: %w", d.ID, err)
			}
		}
	}
	return nil
}

// summary is the line printed at the end of a run.
func (r Result) summary(err error) string {
	s := fmt.Sprintf("%d users, %d mailboxes, %d messages copied (%d already present), %d blobs (%s) in %s",
		r.Users, r.Mailboxes, r.Messages, r.Present, r.Blobs, byteCount(r.BlobBytes), r.Elapsed.Round(time.Millisecond))
	if r.Verified > 0 {
		s += fmt.Sprintf("; verified %d messages, %d byte for byte", r.Verified, r.ContentVerified)
	}
	switch {
	case errors.Is(err, context.Canceled):
		s += "; interrupted: run again to resume"
	case err != nil:
		s += "; stopped by an error: " + err.Error()
	}
	return s
}

func byteCount(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for v := n / unit; v >= unit; v /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

type migration struct {
	src, dst Stores
	dumper   engine.Dumper
	loader   engine.Loader
	opt      Options
	start    time.Time
	bar      *progressbar.ProgressBar
	res      Result
}

// userPlan is a source user and what it holds.
type userPlan struct {
	user      engine.User
	mailboxes []engine.MailboxStatus
	messages  int64
}

func (m *migration) plan(ctx context.Context, u engine.User) (userPlan, error) {
	p := userPlan{user: u}
	boxes, err := m.src.Meta.Mailboxes(ctx, u.ID)
	if err != nil {
		return p, fmt.Errorf("migrate: user %q: list mailboxes: %w", u.Name, err)
	}
	for _, mb := range boxes {
		st, err := m.src.Meta.Status(ctx, u.ID, mb.ID)
		if err != nil {
			return p, fmt.Errorf("migrate: user %q: mailbox %q: %w", u.Name, mb.Name, err)
		}
		p.mailboxes = append(p.mailboxes, st)
		p.messages += st.Messages
	}
	return p, nil
}

func (m *migration) copyAll(ctx context.Context, plans []userPlan) error {
	for _, p := range plans {
		if err := m.copyUser(ctx, p); err != nil {
			return err
		}
		m.res.Users++
	}
	return nil
}

// copyUser copies one user: the account, its addresses and subscriptions,
// then each mailbox with its messages.
func (m *migration) copyUser(ctx context.Context, p userPlan) error {
	u := p.user
	fail := func(format string, args ...any) error {
		return fmt.Errorf("migrate: user %q: "+format, append([]any{u.Name}, args...)...)
	}
	dstUser, err := m.dstUser(ctx, u)
	if err != nil {
		return fail("%w", err)
	}
	addrs, err := m.src.Meta.Addresses(ctx, u.ID)
	if err != nil {
		return fail("addresses: %w", err)
	}
	for _, a := range addrs {
		owner, err := m.dst.Meta.ResolveAddress(ctx, a.Address)
		switch {
		case errors.Is(err, engine.ErrNotFound):
			if err := m.dst.Meta.AddAddress(ctx, engine.Address{Address: a.Address, UserID: dstUser, Alias: a.Alias}); err != nil {
				return fail("address %q: %w", a.Address, err)
			}
		case err != nil:
			return fail("address %q: %w", a.Address, err)
		case owner != dstUser:
			return fail("address %q belongs to another user in the destination", a.Address)
		}
	}
	subs, err := m.src.Meta.Subscriptions(ctx, u.ID)
	if err != nil {
		return fail("subscriptions: %w", err)
	}
	for _, name := range subs {
		if err := m.dst.Meta.SetSubscribed(ctx, dstUser, name, true); err != nil {
			return fail("subscribe %q: %w", name, err)
		}
	}
	for _, st := range p.mailboxes {
		if err := m.copyMailbox(ctx, u, dstUser, st); err != nil {
			return fail("mailbox %q: %w", st.Name, err)
		}
		m.res.Mailboxes++
	}
	return nil
}

// dstUser returns the destination's account for u, creating it with u's
// name, password hash, quota limit and creation time.
func (m *migration) dstUser(ctx context.Context, u engine.User) (engine.UserID, error) {
	have, err := m.dst.Meta.UserByName(ctx, u.Name)
	if errors.Is(err, engine.ErrNotFound) {
		id, err := m.dst.Meta.CreateUser(ctx, engine.User{Name: u.Name, PasswordHash: u.PasswordHash, QuotaBytes: u.QuotaBytes, Created: u.Created})
		if err != nil {
			return 0, fmt.Errorf("create: %w", err)
		}
		return id, nil
	}
	if err != nil {
		return 0, err
	}
	// A user of that name with another password is someone else's account
	// (or was changed after the first run): merging mail into it is not
	// something to guess about.
	if have.PasswordHash != u.PasswordHash {
		return 0, errors.New("exists in the destination with another password hash: not the account an earlier run created")
	}
	if have.QuotaBytes != u.QuotaBytes {
		if err := m.dst.Meta.SetQuotaLimit(ctx, have.ID, u.QuotaBytes); err != nil {
			return 0, fmt.Errorf("quota limit: %w", err)
		}
	}
	return have.ID, nil
}

// copyMailbox creates or resumes one mailbox and loads the messages it
// does not hold yet, batch by batch.
func (m *migration) copyMailbox(ctx context.Context, u engine.User, dstUser engine.UserID, st engine.MailboxStatus) error {
	mb, err := m.dst.Meta.MailboxByName(ctx, dstUser, st.Name)
	var after engine.UID
	switch {
	case errors.Is(err, engine.ErrNotFound):
		if mb, err = m.loader.LoadMailbox(ctx, dstUser, st.Mailbox); err != nil {
			return err
		}
	case err != nil:
		return err
	case mb.UIDValidity != st.UIDValidity:
		return fmt.Errorf("exists in the destination with UIDVALIDITY %d, the source's is %d: not from an earlier run", mb.UIDValidity, st.UIDValidity)
	case mb.UIDNext != st.UIDNext || mb.HighestModSeq != st.HighestModSeq:
		return fmt.Errorf("the destination's UIDNEXT %d and HIGHESTMODSEQ %d differ from the source's %d and %d: one of them changed since the earlier run",
			mb.UIDNext, mb.HighestModSeq, st.UIDNext, st.HighestModSeq)
	default:
		uids, _, err := m.dst.Meta.UIDs(ctx, dstUser, mb.ID)
		if err != nil {
			return err
		}
		if !uids.IsEmpty() {
			after = engine.UID(uids.Maximum())
		}
		present := int64(uids.GetCardinality())
		m.res.Present += present
		m.progress(present)
	}

	batch := make([]*engine.MessageDump, 0, m.opt.Batch)
	var batchBytes int
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := m.copyBlobs(ctx, batch); err != nil {
			return err
		}
		if err := m.loader.LoadMessages(ctx, dstUser, mb.ID, batch); err != nil {
			return fmt.Errorf("load UIDs %d to %d: %w", batch[0].UID, batch[len(batch)-1].UID, err)
		}
		m.res.Messages += int64(len(batch))
		m.progress(int64(len(batch)))
		clear(batch)
		batch, batchBytes = batch[:0], 0
		return ctx.Err()
	}
	err = m.dumper.DumpMessages(ctx, u.ID, st.ID, after, func(d *engine.MessageDump) error {
		batch = append(batch, cloneDump(d))
		batchBytes += dumpSize(d)
		if len(batch) == m.opt.Batch || batchBytes >= maxBatchBytes {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return err
	}
	// Without a progress bar the log is the progress; with one, lines
	// between its redraws would only break it.
	level := slog.LevelInfo
	if m.bar != nil {
		level = slog.LevelDebug
	}
	m.opt.Logger.Log(ctx, level, "mailbox copied", "user", u.Name, "mailbox", st.Name, "messages", st.Messages, "resumed_after", after)
	return nil
}

func (m *migration) progress(n int64) {
	if m.bar != nil && n > 0 {
		m.bar.Add64(n)
	}
}

// maxBatchBytes bounds the bytes of the messages one load carries, on top
// of Options.Batch: a message row can hold megabytes of inline segments
// and text.
const maxBatchBytes = 32 << 20

// dumpSize is roughly what a dumped message holds in memory.
func dumpSize(d *engine.MessageDump) int {
	return len(d.Inline) + len(d.HeaderText) + len(d.BodyText) + len(d.Envelope) + len(d.Structure) + len(d.Blobs)*len(engine.BlobID{})
}

// cloneDump copies a dump the Dumper may reuse once fn returns.
func cloneDump(d *engine.MessageDump) *engine.MessageDump {
	c := *d
	c.Flags = slices.Clone(d.Flags)
	c.Envelope = slices.Clone(d.Envelope)
	c.Structure = slices.Clone(d.Structure)
	c.Inline = slices.Clone(d.Inline)
	c.Blobs = slices.Clone(d.Blobs)
	return &c
}
