// Package imapload drives IMAP servers over the wire: a mixed stress run
// in the spirit of Dovecot's ImapTest that checks every response against
// a model of the mailbox (Run), a full mailbox download (RunFetch) and a
// partial-section fetch of every message (RunPartial).
//
// It speaks only the protocol, so it can be pointed at any IMAP server.
// Responses are read by its own small reader (wire.go), so the client sees
// every unsolicited response in order and measures each command from the
// first byte sent to its tagged response.
package imapload

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/eidermail/eider/bench/load"
)

// Config is a stress run.
type Config struct {
	Target     load.Target
	Users      int    // users bench0..bench<Users-1> (by UserFormat)
	UserFormat string // "bench%d"
	Password   string
	Clients    int // sessions; client i logs in as user i % Users
	// Duration ends the run; Ops, when set, ends it after about that many
	// commands in total, whichever comes first. One of them is required.
	Duration time.Duration
	Ops      int64
	Mix      Mix    // zero: DefaultMix
	Mailbox  string // default INBOX
	Seed     uint64
	// MinMessages and MaxMessages keep the mailbox within a band (APPEND
	// refills it, EXPUNGE trims it) so long runs stay comparable. Defaults
	// 50 and 500.
	MinMessages, MaxMessages int
	MessageSize              int       // size of appended messages; default 2048
	Progress                 io.Writer // a progress line per second; nil: none
}

func (cfg *Config) setDefaults() error {
	if err := cfg.Target.Validate(); err != nil {
		return err
	}
	if cfg.Users <= 0 || cfg.Clients <= 0 {
		return fmt.Errorf("--users and --clients must be positive")
	}
	if err := load.CheckNameFormat("--user-format", cfg.UserFormat); err != nil {
		return err
	}
	if cfg.Duration <= 0 && cfg.Ops <= 0 {
		return fmt.Errorf("give --duration or --ops")
	}
	if cfg.Mix.total == 0 {
		m, err := ParseMix(DefaultMix)
		if err != nil {
			return err
		}
		cfg.Mix = m
	}
	if cfg.Mailbox == "" {
		cfg.Mailbox = "INBOX"
	}
	if cfg.MinMessages <= 0 {
		cfg.MinMessages = 50
	}
	if cfg.MaxMessages <= 0 {
		cfg.MaxMessages = 500
	}
	if cfg.MaxMessages < cfg.MinMessages {
		return fmt.Errorf("message band %d..%d is empty", cfg.MinMessages, cfg.MaxMessages)
	}
	if cfg.MessageSize <= 0 {
		cfg.MessageSize = 2048
	}
	return nil
}

// Run runs the stress test and reports per-command latency, errors and
// consistency errors. It returns an error only when the run cannot start
// (bad configuration, the first login fails); failures during the run are
// in the report.
func Run(ctx context.Context, cfg Config) (*load.Report, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	rec := load.NewRecorder()
	if err := preflight(ctx, cfg.Target, load.Name(cfg.UserFormat, 0), cfg.Password, rec); err != nil {
		return nil, err
	}
	stopProgress := load.Progress(ctx, cfg.Progress, "imap", rec)
	start := time.Now()
	run := &stressRun{cfg: &cfg, rec: rec}
	if cfg.Duration > 0 {
		run.stopAt = start.Add(cfg.Duration)
	}
	var wg sync.WaitGroup
	for i := range cfg.Clients {
		cl := &client{
			run:     run,
			id:      i,
			user:    load.Name(cfg.UserFormat, i%cfg.Users),
			keyword: "$bench" + strconv.Itoa(i),
			r:       rand.New(rand.NewPCG(cfg.Seed, uint64(i))),
			gen:     load.NewMessageGen(cfg.Seed, uint64(i)),
			gone:    map[uint32]bool{},
		}
		cl.who = fmt.Sprintf("client %d (%s)", i, cl.user)
		wg.Go(func() { cl.loop(ctx) })
	}
	wg.Wait()
	elapsed := time.Since(start)
	stopProgress()
	return rec.Report("imap", cfg.Target.Addr, start, elapsed, cfg.Clients), nil
}

// preflight logs in once so that a wrong address or password is one clear
// error, not thousands of failed commands. Its LOGIN and LOGOUT are
// recorded like every other command sent, so the report counts exactly
// what the server saw.
func preflight(ctx context.Context, t load.Target, user, password string, rec *load.Recorder) error {
	c, err := Dial(ctx, t, nil)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", t.Addr, err)
	}
	defer c.Close()
	start := time.Now()
	resp, err := c.Login(ctx, user, password)
	if err != nil {
		return fmt.Errorf("login as %s: %w", user, err)
	}
	if resp.Status != "OK" {
		return fmt.Errorf("login as %s: %s %s", user, resp.Status, resp.Text)
	}
	rec.Done("LOGIN", time.Since(start))
	start = time.Now()
	if resp, err := c.Logout(ctx); err == nil && resp.Status == "OK" {
		rec.Done("LOGOUT", time.Since(start))
	}
	return nil
}

type stressRun struct {
	cfg    *Config
	rec    *load.Recorder
	stopAt time.Time
}

func (r *stressRun) over(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	if !r.stopAt.IsZero() && time.Now().After(r.stopAt) {
		return true
	}
	return r.cfg.Ops > 0 && r.rec.Totals().Ops >= r.cfg.Ops
}

// client is one session of a stress run with its model of the mailbox.
type client struct {
	run     *stressRun
	id      int
	user    string
	who     string
	keyword string
	r       *rand.Rand
	gen     *load.MessageGen
	conn    *Conn
	mb      *mailbox
	gone    map[uint32]bool // UIDs this client expunged or moved away: absent after the next SELECT

	// Collected while a command runs.
	fetches  []FetchData
	copyUIDs []CopyUID
	codes    map[string]string
	search   *searchCheck
}

// searchCheck is how the SEARCH response of a running command is checked.
type searchCheck struct {
	criteria string
	keyword  bool // results must carry the client's keyword where known
	results  int
}

func (cl *client) loop(ctx context.Context) {
	defer func() {
		if cl.conn != nil {
			cl.logout(ctx)
		}
	}()
	for !cl.run.over(ctx) {
		if cl.conn == nil {
			if err := cl.connect(ctx); err != nil {
				if cl.conn != nil {
					cl.conn.Close()
					cl.conn = nil
				}
				sleep(ctx, 200*time.Millisecond)
				continue
			}
		}
		if err := cl.step(ctx); err != nil {
			cl.conn.Close()
			cl.conn = nil
			if !cl.run.over(ctx) {
				sleep(ctx, 100*time.Millisecond)
			}
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// finish records a command's outcome.
func (cl *client) finish(ctx context.Context, name string, start time.Time, resp *Response, err error) {
	d := time.Since(start)
	switch {
	case ctx.Err() != nil:
		// Interrupted: what failed now says nothing about the server.
	case err != nil:
		cl.run.rec.Failed(name, d, err.Error())
	case resp.Status == "NO" && resp.Code == "EXPUNGEISSUED":
		// Another client expunged a message this one asked for: a correct
		// answer among concurrent sessions (RFC 5530), not a failure.
		cl.run.rec.Done(name, d)
	case resp.Status != "OK":
		cl.run.rec.Failed(name, d, resp.Status+" "+resp.Text)
	default:
		cl.run.rec.Done(name, d)
	}
}

// do sends one command, records it and returns its tagged response.
func (cl *client) do(ctx context.Context, cmd string) (*Response, error) {
	cl.fetches, cl.copyUIDs = cl.fetches[:0], cl.copyUIDs[:0]
	clear(cl.codes)
	start := time.Now()
	resp, err := cl.conn.Do(ctx, cmd)
	cl.finish(ctx, verb(cmd), start, resp, err)
	return resp, err
}

func (cl *client) connect(ctx context.Context) error {
	start := time.Now()
	c, err := Dial(ctx, cl.run.cfg.Target, nil)
	if err != nil {
		cl.finish(ctx, "CONNECT", start, nil, err)
		return err
	}
	cl.run.rec.Done("CONNECT", time.Since(start))
	cl.conn = c
	c.Untagged = cl.onUntagged
	if cl.codes == nil {
		cl.codes = map[string]string{}
	}
	resp, err := cl.do(ctx, "LOGIN "+quote(cl.user)+" "+quote(cl.run.cfg.Password))
	if err != nil {
		return err
	}
	if resp.Status != "OK" {
		return fmt.Errorf("login: %s %s", resp.Status, resp.Text)
	}
	if len(c.caps) == 0 {
		if _, err := cl.do(ctx, "CAPABILITY"); err != nil {
			return err
		}
	}
	return cl.selectMailbox(ctx)
}

func (cl *client) logout(ctx context.Context) {
	if ctx.Err() == nil {
		start := time.Now()
		resp, err := cl.conn.Logout(ctx)
		cl.finish(ctx, "LOGOUT", start, resp, err)
	}
	cl.conn.Close()
	cl.conn = nil
}

// selectMailbox selects the mailbox afresh and learns every UID and the
// flags, checking them against what the client knew before.
func (cl *client) selectMailbox(ctx context.Context) error {
	old := cl.mb
	mb := newMailbox(cl.run.cfg.Mailbox, cl.who, cl.keyword, cl.run.rec)
	cl.mb = mb
	resp, err := cl.do(ctx, "SELECT "+quote(mb.name))
	if err != nil {
		return err
	}
	if resp.Status != "OK" {
		return fmt.Errorf("select: %s %s", resp.Status, resp.Text)
	}
	if v, ok := cl.codes["UIDVALIDITY"]; ok {
		n, _ := strconv.ParseUint(v, 10, 32)
		mb.uidValidity = uint32(n)
	}
	if v, ok := cl.codes["UIDNEXT"]; ok {
		n, _ := strconv.ParseUint(v, 10, 32)
		mb.uidNext = max(mb.uidNext, uint32(n))
	}
	if old != nil {
		if old.uidValidity != 0 && mb.uidValidity != old.uidValidity {
			mb.inconsistent("UIDVALIDITY changed from %d to %d without the mailbox being recreated", old.uidValidity, mb.uidValidity)
		} else {
			// The keyword and sizes outlive the selection.
			for u, v := range old.mine {
				mb.mine[u] = v
			}
			for u, v := range old.sizes {
				mb.sizes[u] = v
			}
		}
		if old.uidNext > mb.uidNext && mb.uidValidity == old.uidValidity {
			mb.inconsistent("UIDNEXT %d below UID %d already seen", mb.uidNext, old.uidNext-1)
		}
	}
	if mb.count() > 0 {
		if _, err := cl.do(ctx, "FETCH 1:* (UID FLAGS)"); err != nil {
			return err
		}
		for u := range cl.gone {
			if mb.present[u] {
				mb.inconsistent("UID %d is still in the mailbox after this client expunged or moved it", u)
			}
		}
	}
	clear(cl.gone)
	return nil
}

// onUntagged applies every untagged response to the model as it arrives.
func (cl *client) onUntagged(r *Response) {
	mb := cl.mb
	if r.Status != "" {
		if r.Code == "" {
			return
		}
		cl.codes[r.Code] = r.CodeArg
		if r.Code == "COPYUID" {
			cu, err := parseCopyUID(r.CodeArg, 1<<20)
			if err != nil {
				mb.inconsistent("%v", err)
				return
			}
			cl.copyUIDs = append(cl.copyUIDs, cu)
		}
		return
	}
	switch r.Name {
	case "EXISTS":
		if r.HasNum {
			mb.exists(r.Num)
		}
	case "EXPUNGE":
		if r.HasNum {
			mb.expunge(r.Num)
		}
	case "FETCH":
		fd, err := ParseFetch(r)
		if err != nil {
			mb.inconsistent("%v", err)
			return
		}
		mb.fetch(fd)
		cl.fetches = append(cl.fetches, fd)
	case "VANISHED":
		if len(r.Args) == 0 || r.Args[0].Kind == KindList { // (EARLIER): not a change
			return
		}
		uids, err := parseUIDSet(r.Args[0].String(), 1<<20)
		if err != nil {
			mb.inconsistent("%v", err)
			return
		}
		mb.vanished(uids)
	case "SEARCH":
		uids, err := searchUIDs(r)
		if err != nil {
			mb.inconsistent("%v", err)
			return
		}
		cl.checkSearch(uids)
	}
}

// checkSearch checks SEARCH results as they arrive, against the mailbox
// as the session sees it at that point of the response stream.
func (cl *client) checkSearch(uids []uint32) {
	sc, mb := cl.search, cl.mb
	if sc == nil {
		mb.inconsistent("unsolicited SEARCH response")
		return
	}
	sc.results += len(uids)
	for _, u := range uids {
		if !mb.plausible(u) {
			mb.inconsistent("UID SEARCH %s returned UID %d, which this session has not been told of", sc.criteria, u)
			continue
		}
		if sc.keyword {
			if want, ok := mb.mine[u]; ok && !want {
				mb.inconsistent("UID SEARCH %s returned UID %d, whose keyword this client cleared", sc.criteria, u)
			}
		}
	}
}

// step runs one operation of the mix, bending the choice to keep the
// mailbox within its band.
func (cl *client) step(ctx context.Context) error {
	cfg := cl.run.cfg
	op := cfg.Mix.pick(cl.r)
	n := cl.mb.count() - cl.mb.unknown
	switch {
	case n < cfg.MinMessages && op != opSelect && op != opLogout && op != opIdle:
		op = opAppend
	case n > cfg.MaxMessages && (op == opAppend || op == opCopy):
		op = opExpunge
	}
	if op == opMove && !cl.conn.HasCap("MOVE") {
		op = opCopy
	}
	switch op {
	case opSelect:
		return cl.selectMailbox(ctx)
	case opFetch:
		return cl.fetchMeta(ctx)
	case opFetchBody:
		return cl.fetchBody(ctx)
	case opPartial:
		return cl.fetchPartial(ctx)
	case opStore:
		return cl.store(ctx)
	case opSearch:
		return cl.searchOp(ctx)
	case opAppend:
		return cl.appendOp(ctx)
	case opCopy:
		return cl.copyOp(ctx, "COPY")
	case opMove:
		return cl.copyOp(ctx, "MOVE")
	case opExpunge:
		k := 1 + cl.r.IntN(5)
		if n > cfg.MaxMessages {
			k = 10 + n - cfg.MaxMessages
		}
		return cl.expungeOp(ctx, k)
	case opIdle:
		return cl.idleOp(ctx)
	case opLogout:
		cl.logout(ctx)
		if cl.run.over(ctx) {
			return nil
		}
		return cl.connect(ctx)
	}
	return fmt.Errorf("unknown operation %q", op)
}

// pickUIDs returns up to k distinct known UIDs, ascending.
func (cl *client) pickUIDs(k int) []uint32 {
	known := cl.mb.knownUIDs()
	if len(known) <= k {
		return known
	}
	cl.r.Shuffle(len(known), func(i, j int) { known[i], known[j] = known[j], known[i] })
	out := known[:k]
	slices.Sort(out)
	return out
}

func uidList(uids []uint32) string {
	var b strings.Builder
	for i, u := range uids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatUint(uint64(u), 10))
	}
	return b.String()
}

func (cl *client) fetchMeta(ctx context.Context) error {
	mb := cl.mb
	if mb.count() == 0 {
		return cl.appendOp(ctx)
	}
	var cmd string
	if fu := mb.firstUnknown(); fu > 0 {
		cmd = fmt.Sprintf("FETCH %d:* (UID FLAGS RFC822.SIZE)", fu)
	} else {
		a := 1 + cl.r.IntN(mb.count())
		b := min(mb.count(), a+cl.r.IntN(20))
		cmd = fmt.Sprintf("FETCH %d:%d (UID FLAGS RFC822.SIZE INTERNALDATE ENVELOPE)", a, b)
	}
	_, err := cl.do(ctx, cmd)
	return err
}

func (cl *client) fetchBody(ctx context.Context) error {
	uids := cl.pickUIDs(1)
	if len(uids) == 0 {
		return cl.appendOp(ctx)
	}
	resp, err := cl.do(ctx, fmt.Sprintf("UID FETCH %d (UID RFC822.SIZE BODY.PEEK[])", uids[0]))
	if err != nil || resp.Status != "OK" {
		return err
	}
	for _, fd := range cl.fetches {
		if fd.UID != uids[0] {
			continue
		}
		for _, s := range fd.Sections {
			cl.run.rec.AddBytes(int64(s.Len))
			if s.Nil || (fd.Size >= 0 && int64(s.Len) != fd.Size) {
				cl.mb.inconsistent("UID %d: BODY[] is %d bytes, RFC822.SIZE %d", fd.UID, s.Len, fd.Size)
			}
		}
	}
	return nil
}

// partialLen is the length of the partial fetches of the stress mix.
const partialLen = 1024

func (cl *client) fetchPartial(ctx context.Context) error {
	uids := cl.pickUIDs(1)
	if len(uids) == 0 {
		return cl.appendOp(ctx)
	}
	u := uids[0]
	off := 0
	if size, ok := cl.mb.sizes[u]; ok && size > 0 {
		off = cl.r.IntN(int(size))
	}
	resp, err := cl.do(ctx, fmt.Sprintf("UID FETCH %d (UID RFC822.SIZE BODY.PEEK[]<%d.%d>)", u, off, partialLen))
	if err != nil || resp.Status != "OK" {
		return err
	}
	for _, fd := range cl.fetches {
		if fd.UID != u || fd.Size < 0 {
			continue
		}
		want := max(0, min(int64(partialLen), fd.Size-int64(off)))
		for _, s := range fd.Sections {
			cl.run.rec.AddBytes(int64(s.Len))
			if s.Nil || int64(s.Len) != want {
				cl.mb.inconsistent("UID %d: BODY[]<%d.%d> is %d bytes of a %d-byte message, want %d", u, off, partialLen, s.Len, fd.Size, want)
			}
		}
	}
	return nil
}

// store changes flags of a few messages: half the time the client's own
// keyword, whose state the responses must then show, otherwise \Seen or
// \Flagged, which other clients change too.
func (cl *client) store(ctx context.Context) error {
	mb := cl.mb
	uids := cl.pickUIDs(1 + cl.r.IntN(10))
	if len(uids) == 0 {
		return cl.appendOp(ctx)
	}
	add := cl.r.IntN(2) == 0
	sign := "-"
	if add {
		sign = "+"
	}
	var flag string
	switch cl.r.IntN(4) {
	case 0:
		flag = `\Seen`
	case 1:
		flag = `\Flagged`
	default:
		flag = cl.keyword
	}
	own := flag == cl.keyword
	if own {
		mb.inFlight = make(map[uint32]bool, len(uids))
		for _, u := range uids {
			mb.inFlight[u] = true
		}
		mb.lastFlags = map[uint32]string{}
	}
	resp, err := cl.do(ctx, fmt.Sprintf("UID STORE %s %sFLAGS (%s)", uidList(uids), sign, flag))
	if !own {
		return err
	}
	inFlight, last := mb.inFlight, mb.lastFlags
	mb.inFlight, mb.lastFlags = nil, nil
	if err != nil {
		for u := range inFlight {
			delete(mb.mine, u)
		}
		return err
	}
	for u := range inFlight {
		if st, ok := last[u]; ok && st != flagState(add) {
			mb.inconsistent("UID STORE %sFLAGS (%s) answered FLAGS without the change for UID %d", sign, flag, u)
		}
		if resp.Status == "OK" && mb.present[u] {
			mb.mine[u] = add
		} else {
			delete(mb.mine, u)
		}
	}
	return nil
}

func (cl *client) searchOp(ctx context.Context) error {
	sc := &searchCheck{}
	switch cl.r.IntN(6) {
	case 0, 1:
		sc.criteria, sc.keyword = "KEYWORD "+cl.keyword, true
	case 2:
		sc.criteria = "UNSEEN"
	case 3:
		sc.criteria = "FLAGGED"
	case 4:
		sc.criteria = "SUBJECT " + quote(cl.gen.Word())
	default:
		sc.criteria = "BODY " + quote(cl.gen.Word())
	}
	cl.search = sc
	defer func() { cl.search = nil }()
	_, err := cl.do(ctx, "UID SEARCH "+sc.criteria)
	return err
}

func (cl *client) appendOp(ctx context.Context) error {
	mb := cl.mb
	var flags string
	switch cl.r.IntN(3) {
	case 1:
		flags = `\Seen`
	case 2:
		flags = cl.keyword
	}
	msg := cl.gen.Message(cl.user, cl.run.cfg.MessageSize, 0)
	floor := mb.uidNext
	cl.fetches, cl.copyUIDs = cl.fetches[:0], cl.copyUIDs[:0]
	clear(cl.codes)
	start := time.Now()
	resp, err := cl.conn.Append(ctx, mb.name, flags, msg)
	cl.finish(ctx, "APPEND", start, resp, err)
	if err != nil || resp.Status != "OK" {
		return err
	}
	cl.run.rec.AddBytes(int64(len(msg)))
	if resp.Code != "APPENDUID" {
		return nil
	}
	au, err := parseAppendUID(resp.CodeArg, 1)
	if err != nil {
		mb.inconsistent("%v", err)
		return nil
	}
	if mb.uidValidity != 0 && au.UIDValidity != mb.uidValidity {
		mb.inconsistent("APPENDUID UIDVALIDITY %d, mailbox has %d", au.UIDValidity, mb.uidValidity)
	}
	for _, u := range au.UIDs {
		if u < floor {
			mb.inconsistent("APPENDUID UID %d below UIDNEXT %d known before", u, floor)
		}
		if !mb.present[u] {
			mb.mine[u] = flags == cl.keyword
			mb.sizes[u] = int64(len(msg))
		}
		mb.uidNext = max(mb.uidNext, u+1)
	}
	return nil
}

// copyOp copies or moves a few messages into the same mailbox, which keeps
// its size in the band and lets the client check the new UIDs.
func (cl *client) copyOp(ctx context.Context, verbName string) error {
	mb := cl.mb
	uids := cl.pickUIDs(1 + cl.r.IntN(5))
	if len(uids) == 0 {
		return cl.appendOp(ctx)
	}
	floor := mb.uidNext
	resp, err := cl.do(ctx, fmt.Sprintf("UID %s %s %s", verbName, uidList(uids), quote(mb.name)))
	if err != nil || resp.Status != "OK" {
		return err
	}
	if resp.Code == "COPYUID" {
		cu, err := parseCopyUID(resp.CodeArg, 1<<20)
		if err != nil {
			mb.inconsistent("%v", err)
		} else {
			cl.copyUIDs = append(cl.copyUIDs, cu)
		}
	}
	asked := map[uint32]bool{}
	for _, u := range uids {
		asked[u] = true
	}
	for _, cu := range cl.copyUIDs {
		if mb.uidValidity != 0 && cu.UIDValidity != mb.uidValidity {
			mb.inconsistent("COPYUID UIDVALIDITY %d, mailbox has %d", cu.UIDValidity, mb.uidValidity)
		}
		for i, src := range cu.Source {
			dst := cu.Dest[i]
			if !asked[src] {
				mb.inconsistent("UID %s: COPYUID names source UID %d, not asked for", verbName, src)
			}
			if dst < floor {
				mb.inconsistent("UID %s: COPYUID destination UID %d below UIDNEXT %d known before", verbName, dst, floor)
			}
			if want, ok := mb.mine[src]; ok && !mb.present[dst] {
				mb.mine[dst] = want // flags travel with the copy
			}
			if size, ok := mb.sizes[src]; ok && !mb.present[dst] {
				mb.sizes[dst] = size
			}
			mb.uidNext = max(mb.uidNext, dst+1)
		}
	}
	if verbName == "MOVE" {
		for _, u := range uids {
			cl.gone[u] = true
		}
	}
	return nil
}

func (cl *client) expungeOp(ctx context.Context, k int) error {
	uids := cl.pickUIDs(k)
	if len(uids) == 0 {
		return cl.appendOp(ctx)
	}
	set := uidList(uids)
	resp, err := cl.do(ctx, "UID STORE "+set+` +FLAGS.SILENT (\Deleted)`)
	if err != nil || resp.Status != "OK" {
		return err
	}
	if cl.conn.HasCap("UIDPLUS") {
		resp, err = cl.do(ctx, "UID EXPUNGE "+set)
	} else {
		resp, err = cl.do(ctx, "EXPUNGE")
	}
	if err != nil || resp.Status != "OK" {
		return err
	}
	for _, u := range uids {
		cl.gone[u] = true
	}
	return nil
}

func (cl *client) idleOp(ctx context.Context) error {
	hold := time.Duration(100+cl.r.IntN(400)) * time.Millisecond
	start := time.Now()
	resp, tm, err := cl.conn.Idle(ctx, hold)
	switch {
	case ctx.Err() != nil:
	case err != nil:
		cl.run.rec.Failed("IDLE", time.Since(start), err.Error())
	case resp.Status != "OK":
		cl.run.rec.Failed("IDLE", tm.Enter, resp.Status+" "+resp.Text)
	default:
		// The hold is the client's choice, not the server's latency.
		cl.run.rec.Done("IDLE", tm.Enter+tm.Leave)
	}
	return err
}
