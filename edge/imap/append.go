package imap

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sync"

	imap "github.com/eidermail/eider/codec/imap"
	"github.com/eidermail/eider/engine"
)

// errMultiAppend ends the first message's stream when a second message
// follows: the first one must then be committed with the others.
var errMultiAppend = errors.New("another message follows (MULTIAPPEND)")

// appendCmd is an APPEND being received. Its messages stream from the
// parser (on the event loop or a worker) into a job that stores them: the
// first straight into the engine, and, if more follow, all of them from a
// spool so that AppendMany commits them at once (RFC 3502).
type appendCmd struct {
	s       *session
	tag     string
	mailbox string
	target  *engine.Mailbox // checked before a synchronizing literal was accepted
	done    chan appendResult

	mu       sync.Mutex
	pipes    []*appendPipe
	closed   bool // no more messages: the command ended or was refused
	finished bool // the store job returned
	err      error
	wake     chan struct{}
}

type appendResult struct {
	mb  engine.Mailbox
	res []engine.AppendResult
	err error
}

// appendMessage is a message announced by APPEND: check it, accept its
// literal, and start the store job with the first one.
func (s *session) appendMessage(ctx context.Context, ev imap.Event) {
	m := ev.Message
	refuse := func(st status) {
		if s.app != nil {
			s.abortAppend(fmt.Errorf("APPEND refused: %s", st.text))
		}
		s.p.Reject()
		s.w.StatusResponse(ev.Tag, st.res, st.code, st.text)
		s.answered(ev.Tag, st.res)
	}
	switch {
	case s.state < stateAuth:
		refuse(bad("log in first"))
		return
	case m.Size > s.h.cfg.AppendLimit:
		refuse(no(imap.CodeTooBig, fmt.Sprintf("message larger than APPENDLIMIT (%d bytes)", s.h.cfg.AppendLimit)))
		return
	case m.UTF8 && s.ext&(extUTF8|extRev2) == 0:
		refuse(bad("UTF8 APPEND needs ENABLE UTF8=ACCEPT"))
		return
	}
	if s.app == nil {
		a := &appendCmd{s: s, tag: ev.Tag, mailbox: ev.Mailbox, done: make(chan appendResult, 1), wake: make(chan struct{}, 1)}
		if ev.Literal.Sync && ctx != nil {
			// Refuse before the client sends the bytes.
			mb, st := s.appendTarget(ctx, ev.Mailbox, m.Size)
			if st.res != "" {
				refuse(st)
				return
			}
			a.target = &mb
		}
		// The store job gets its own goroutine rather than a pool worker:
		// it lives as long as the upload, and the command's worker waits
		// for it, so on a busy pool the two could wait for each other.
		jobCtx := s.conn.Context()
		go a.run(jobCtx)
		s.app = a
	} else if first := s.app.pipe(0); first != nil {
		first.settle(errMultiAppend)
	}
	flags := make([]string, 0, len(m.Flags))
	for _, f := range m.Flags {
		if f != imap.FlagRecent {
			flags = append(flags, f)
		}
	}
	p := &appendPipe{s: s, index: len(s.app.pipes), wake: make(chan struct{}, 1),
		opts: engine.AppendOptions{Flags: flags, InternalDate: m.Date}}
	s.app.add(p)
	s.p.Accept()
	if ev.Literal.Sync {
		s.w.Continue("Ready for literal data")
	}
}

// appendTarget looks up APPEND's mailbox and checks the quota before the
// message is read.
func (s *session) appendTarget(ctx context.Context, name string, size int64) (engine.Mailbox, status) {
	mb, err := s.e.Mailbox(ctx, s.user.ID, name)
	if err != nil {
		if errors.Is(err, engine.ErrNotFound) {
			return mb, no(imap.CodeTryCreate, "no such mailbox")
		}
		return mb, s.storeError(ctx, "append", err)
	}
	if q, err := s.e.Quota(ctx, s.user.ID); err == nil && q.Limit > 0 && q.Used+size > q.Limit {
		return mb, no(imap.CodeOverQuota, "quota exceeded")
	}
	return mb, status{}
}

func (s *session) appendData(data []byte) {
	if a := s.app; a != nil {
		if p := a.last(); p != nil {
			p.push(data)
		}
	}
}

func (s *session) appendMessageEnd() {
	if a := s.app; a != nil {
		if p := a.last(); p != nil {
			p.end()
		}
	}
}

// abortAppend drops the APPEND being received: nothing is committed.
func (s *session) abortAppend(err error) {
	a := s.app
	s.app = nil
	if a != nil {
		a.abort(err)
	}
}

// cmdAppend is the end of APPEND: wait for the store and answer with
// APPENDUID (RFC 4315).
func (s *session) cmdAppend(ctx context.Context, tag string, _ *imap.AppendCommand) status {
	a := s.app
	s.app = nil
	if a == nil || a.tag != tag {
		if a != nil {
			a.abort(errors.New("APPEND out of order"))
		}
		return bad("APPEND without message")
	}
	a.finish()
	var r appendResult
	select {
	case r = <-a.done:
	case <-ctx.Done():
		return no(imap.CodeUnavailable, "connection closing")
	}
	switch {
	case r.err == nil:
	case errors.Is(r.err, engine.ErrNotFound):
		return no(imap.CodeTryCreate, "no such mailbox")
	default:
		return s.storeError(ctx, "append", r.err)
	}
	uids := make([]engine.UID, len(r.res))
	for i, x := range r.res {
		uids[i] = x.UID
	}
	var validity uint32
	if len(r.res) > 0 {
		validity = r.res[0].UIDValidity
	}
	if s.sel != nil && s.sel.mb.ID == r.mb.ID {
		s.dirty.Store(true)
	}
	return okCode(imap.CodeAppendUID(validity, uidSet(uids)), "APPEND completed")
}

func (a *appendCmd) add(p *appendPipe) {
	a.mu.Lock()
	a.pipes = append(a.pipes, p)
	finished := a.finished
	a.mu.Unlock()
	if finished {
		p.abandon() // the store job already gave up: drop the bytes
	}
	a.signal()
}

func (a *appendCmd) pipe(i int) *appendPipe {
	a.mu.Lock()
	defer a.mu.Unlock()
	if i < len(a.pipes) {
		return a.pipes[i]
	}
	return nil
}

func (a *appendCmd) last() *appendPipe {
	a.mu.Lock()
	defer a.mu.Unlock()
	if n := len(a.pipes); n > 0 {
		return a.pipes[n-1]
	}
	return nil
}

func (a *appendCmd) signal() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// finish marks the end of the command: a single message's stream ends.
func (a *appendCmd) finish() {
	a.mu.Lock()
	a.closed = true
	pipes := a.pipes
	a.mu.Unlock()
	if len(pipes) == 1 {
		pipes[0].settle(io.EOF)
	}
	a.signal()
}

// abort ends every stream with err; the job commits nothing.
func (a *appendCmd) abort(err error) {
	a.mu.Lock()
	a.closed = true
	if a.err == nil {
		a.err = err
	}
	pipes := a.pipes
	a.mu.Unlock()
	for _, p := range pipes {
		p.settle(err)
	}
	a.signal()
}

// next waits for message i; nil when the command has no more.
func (a *appendCmd) next(ctx context.Context, i int) (*appendPipe, error) {
	for {
		a.mu.Lock()
		switch {
		case a.err != nil:
			err := a.err
			a.mu.Unlock()
			return nil, err
		case i < len(a.pipes):
			p := a.pipes[i]
			a.mu.Unlock()
			return p, nil
		case a.closed:
			a.mu.Unlock()
			return nil, nil
		}
		a.mu.Unlock()
		select {
		case <-a.wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// run is the store job of one APPEND.
func (a *appendCmd) run(ctx context.Context) {
	var r appendResult
	defer func() {
		// This goroutine is the session's own: a bug here must not take
		// the server down.
		if p := recover(); p != nil {
			a.s.log().Error("APPEND job panic", "panic", p, "stack", string(debug.Stack()))
			r = appendResult{err: fmt.Errorf("APPEND job failed: %v", p)}
			a.finishRun(r)
		}
	}()
	r = a.store(ctx)
	a.finishRun(r)
}

func (a *appendCmd) finishRun(r appendResult) {
	// Streams nobody reads any more drop what still arrives.
	a.mu.Lock()
	a.finished = true
	pipes := a.pipes
	a.mu.Unlock()
	for _, p := range pipes {
		p.abandon()
	}
	select {
	case a.done <- r:
	default: // already reported
	}
}

func (a *appendCmd) store(ctx context.Context) appendResult {
	s := a.s
	var mb engine.Mailbox
	if a.target != nil {
		mb = *a.target
	} else {
		var err error
		if mb, err = s.e.Mailbox(ctx, s.user.ID, a.mailbox); err != nil {
			return appendResult{err: err}
		}
	}
	first, err := a.next(ctx, 0)
	if err != nil || first == nil {
		return appendResult{mb: mb, err: cmpErr(err, errors.New("APPEND without message"))}
	}
	sp := &spool{dir: s.h.cfg.SpoolDir}
	defer sp.close()
	res, err := s.e.AppendMany(ctx, s.user.ID, mb.ID, []engine.AppendSource{{Body: io.TeeReader(first, sp), Options: first.opts}})
	if !first.multi() {
		return appendResult{mb: mb, res: res, err: err}
	}
	// MULTIAPPEND: the first message was read into the spool; the engine
	// refused to commit it alone. Spool the others, then commit all.
	if _, err := io.Copy(sp, first); err != nil && !errors.Is(err, errMultiAppend) {
		return appendResult{mb: mb, err: err}
	}
	srcs := []engine.AppendSource{{Body: sp.reader(), Options: first.opts}}
	var spools []*spool
	defer func() {
		for _, x := range spools {
			x.close()
		}
	}()
	for i := 1; ; i++ {
		p, err := a.next(ctx, i)
		if err != nil {
			return appendResult{mb: mb, err: err}
		}
		if p == nil {
			break
		}
		x := &spool{dir: s.h.cfg.SpoolDir}
		spools = append(spools, x)
		if _, err := io.Copy(x, p); err != nil {
			return appendResult{mb: mb, err: err}
		}
		srcs = append(srcs, engine.AppendSource{Body: x.reader(), Options: p.opts})
	}
	res, err = s.e.AppendMany(ctx, s.user.ID, mb.ID, srcs)
	return appendResult{mb: mb, res: res, err: err}
}

func cmpErr(err, fallback error) error {
	if err != nil {
		return err
	}
	return fallback
}

// appendPipe carries one message's bytes from the parser to the store
// job without ever blocking the parser's side. netloop cannot stop reading
// a socket (Pause only holds bytes in memory, up to a limit), so a client
// that sends faster than the store takes is not slowed down; instead what
// waits beyond appendMemory spills to an unlinked temporary file, and
// memory stays bounded whatever the message size.
type appendPipe struct {
	s     *session
	index int
	opts  engine.AppendOptions
	wake  chan struct{}

	mu        sync.Mutex
	chunks    [][]byte
	queued    int      // bytes in chunks
	spill     *os.File // once set, every later byte goes here, in order
	spillW    int64
	spillR    int64
	ended     bool  // every byte was pushed
	verdict   error // what Read returns after the last byte: io.EOF, errMultiAppend, or an abort
	settled   bool
	wasMulti  bool
	abandoned bool
	err       error // the spill file failed
}

// appendMemory is how much of a message may wait in memory for the store.
const appendMemory = 1 << 20

func (p *appendPipe) aborted() bool {
	return p.settled && p.verdict != io.EOF && p.verdict != errMultiAppend
}

// push queues a copy of data (the parser reuses its buffer).
func (p *appendPipe) push(data []byte) {
	p.mu.Lock()
	defer p.signal()
	defer p.mu.Unlock()
	if p.abandoned || p.aborted() || p.err != nil {
		return
	}
	if p.spill == nil && p.queued+len(data) > appendMemory {
		f, err := os.CreateTemp(p.s.h.cfg.SpoolDir, "eider-upload-*")
		if err != nil {
			p.err = fmt.Errorf("upload spill: %w", err)
			return
		}
		_ = os.Remove(f.Name()) // lives as long as it is open
		p.spill = f
	}
	if p.spill != nil {
		if _, err := p.spill.WriteAt(data, p.spillW); err != nil {
			p.err = fmt.Errorf("upload spill: %w", err)
			return
		}
		p.spillW += int64(len(data))
		return
	}
	p.chunks = append(p.chunks, append([]byte(nil), data...))
	p.queued += len(data)
}

// end marks that every byte was pushed. Only the first message waits
// for a verdict: the others end where their bytes end.
func (p *appendPipe) end() {
	p.mu.Lock()
	p.ended = true
	if p.index > 0 && !p.settled {
		p.settled, p.verdict = true, io.EOF
	}
	p.mu.Unlock()
	p.signal()
}

// settle decides how the stream ends: io.EOF (commit), errMultiAppend
// (commit later with the others) or an abort error (commit nothing,
// effective at once).
func (p *appendPipe) settle(err error) {
	p.mu.Lock()
	if p.settled && (err == io.EOF || err == errMultiAppend) {
		p.mu.Unlock()
		return
	}
	p.settled, p.verdict = true, err
	p.mu.Unlock()
	p.signal()
}

// multi reports whether the stream ended because more messages followed.
func (p *appendPipe) multi() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.wasMulti || p.settled && p.verdict == errMultiAppend
}

func (p *appendPipe) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Read hands the queued bytes to the store: memory first, then the spill.
func (p *appendPipe) Read(b []byte) (int, error) {
	ctx := p.s.conn.Context()
	for {
		p.mu.Lock()
		switch {
		case p.aborted():
			err := p.verdict
			p.mu.Unlock()
			return 0, err
		case p.err != nil:
			err := p.err
			p.mu.Unlock()
			return 0, err
		case len(p.chunks) > 0:
			n := copy(b, p.chunks[0])
			if n == len(p.chunks[0]) {
				p.chunks[0] = nil
				p.chunks = p.chunks[1:]
			} else {
				p.chunks[0] = p.chunks[0][n:]
			}
			p.queued -= n
			p.mu.Unlock()
			return n, nil
		case p.spillR < p.spillW:
			f, off, n := p.spill, p.spillR, min(int64(len(b)), p.spillW-p.spillR)
			p.mu.Unlock()
			// Only this reader moves spillR; the writer appends past spillW.
			m, err := f.ReadAt(b[:n], off)
			p.mu.Lock()
			p.spillR += int64(m)
			p.mu.Unlock()
			if err != nil && err != io.EOF {
				return m, fmt.Errorf("upload spill: %w", err)
			}
			return m, nil
		case p.ended && p.settled:
			err := p.verdict
			if err == errMultiAppend {
				p.wasMulti = true
			}
			p.mu.Unlock()
			return 0, err
		}
		p.mu.Unlock()
		select {
		case <-p.wake:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// abandon stops the stream: later bytes are dropped and the spill closed.
func (p *appendPipe) abandon() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.abandoned = true
	p.chunks, p.queued = nil, 0
	if p.spill != nil {
		_ = p.spill.Close()
		p.spill = nil
		p.spillR, p.spillW = 0, 0
	}
}
