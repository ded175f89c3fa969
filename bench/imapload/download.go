package imapload

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/eidermail/eider/bench/load"
)

// FetchConfig is a download run: every user's INBOX fetched whole
// (RunFetch) or one partial section of each message (RunPartial).
type FetchConfig struct {
	Target     load.Target
	Users      int
	UserFormat string
	Password   string
	Conns      int // connections working through the users in parallel
	Mailbox    string
	// Section and Partial select what RunPartial fetches of each message:
	// BODY.PEEK[<Section>]<<Partial>>, e.g. "2" and "0.1024".
	Section  string
	Partial  string
	Progress io.Writer
}

func (cfg *FetchConfig) setDefaults() error {
	if err := cfg.Target.Validate(); err != nil {
		return err
	}
	if cfg.Users <= 0 || cfg.Conns <= 0 {
		return fmt.Errorf("--users and --conns must be positive")
	}
	if err := load.CheckNameFormat("--user-format", cfg.UserFormat); err != nil {
		return err
	}
	if cfg.Mailbox == "" {
		cfg.Mailbox = "INBOX"
	}
	return nil
}

// partialRange reads "offset.length".
func partialRange(s string) (off, n int64, err error) {
	a, b, ok := strings.Cut(s, ".")
	if ok {
		off, err = strconv.ParseInt(a, 10, 64)
	}
	if ok && err == nil {
		n, err = strconv.ParseInt(b, 10, 64)
	}
	if !ok || err != nil || off < 0 || n <= 0 {
		return 0, 0, fmt.Errorf("--partial %q: want offset.length, such as 0.1024", s)
	}
	return off, n, nil
}

func validSection(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '.') {
			return false
		}
	}
	return true
}

// RunFetch downloads every user's mailbox with one UID FETCH 1:*
// BODY.PEEK[] per user and reports the rate in bytes and messages.
func RunFetch(ctx context.Context, cfg FetchConfig) (*load.Report, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	return perUser(ctx, "fetch", cfg, func(ctx context.Context, s *session, exists uint32) error {
		if exists == 0 {
			return nil
		}
		s.fetches = s.fetches[:0]
		if _, err := s.do(ctx, "UID FETCH 1:* BODY.PEEK[]"); err != nil {
			return err
		}
		got := 0
		for _, fd := range s.fetches {
			if fd.UID == 0 {
				s.rec.Inconsistent("%s: UID FETCH response for message %d without UID", s.user, fd.Seq)
			}
			for _, sec := range fd.Sections {
				if sec.Nil {
					s.rec.Inconsistent("%s: BODY[] of message %d is NIL", s.user, fd.Seq)
					continue
				}
				got++
				s.rec.AddBytes(int64(sec.Len))
			}
		}
		s.rec.AddMessages(int64(got))
		if got < int(exists) {
			s.rec.Inconsistent("%s: UID FETCH 1:* returned %d bodies for %d messages", s.user, got, exists)
		}
		return nil
	})
}

// RunPartial fetches BODY.PEEK[section]<partial> of every message of
// every user, one FETCH per message, and reports per-command latency.
// A message without that section (a single-part message has no part 2)
// answers with NIL or an empty string, as servers differ; only the
// messages that have it count as messages.
func RunPartial(ctx context.Context, cfg FetchConfig) (*load.Report, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if !validSection(cfg.Section) {
		return nil, fmt.Errorf("--section %q: want a part number such as 2 or 1.2", cfg.Section)
	}
	_, length, err := partialRange(cfg.Partial)
	if err != nil {
		return nil, err
	}
	item := fmt.Sprintf("BODY.PEEK[%s]<%s>", cfg.Section, cfg.Partial)
	return perUser(ctx, "partial", cfg, func(ctx context.Context, s *session, exists uint32) error {
		for seq := uint32(1); seq <= exists; seq++ {
			s.fetches = s.fetches[:0]
			resp, err := s.do(ctx, fmt.Sprintf("FETCH %d (%s)", seq, item))
			if err != nil {
				return err
			}
			if resp.Status != "OK" {
				continue
			}
			for _, fd := range s.fetches {
				for _, sec := range fd.Sections {
					if int64(sec.Len) > length {
						s.rec.Inconsistent("%s: %s of message %d is %d bytes, at most %d expected", s.user, item, fd.Seq, sec.Len, length)
						continue
					}
					s.rec.AddBytes(int64(sec.Len))
					if sec.Len > 0 {
						s.rec.AddMessages(1)
					}
				}
			}
		}
		return nil
	})
}

// session is one logged-in connection of a download run.
type session struct {
	conn    *Conn
	rec     *load.Recorder
	user    string
	exists  uint32
	fetches []FetchData
}

func (s *session) do(ctx context.Context, cmd string) (*Response, error) {
	start := time.Now()
	resp, err := s.conn.Do(ctx, cmd)
	d := time.Since(start)
	switch {
	case ctx.Err() != nil:
	case err != nil:
		s.rec.Failed(verb(cmd), d, err.Error())
	case resp.Status != "OK":
		s.rec.Failed(verb(cmd), d, resp.Status+" "+resp.Text)
	default:
		s.rec.Done(verb(cmd), d)
	}
	return resp, err
}

func (s *session) onUntagged(r *Response) {
	switch r.Name {
	case "EXISTS":
		s.exists = r.Num
	case "FETCH":
		fd, err := ParseFetch(r)
		if err != nil {
			s.rec.Inconsistent("%s: %v", s.user, err)
			return
		}
		s.fetches = append(s.fetches, fd)
	}
}

// perUser works through the users on cfg.Conns connections: connect, log
// in, select, work, log out.
func perUser(ctx context.Context, mode string, cfg FetchConfig, work func(context.Context, *session, uint32) error) (*load.Report, error) {
	rec := load.NewRecorder()
	if err := preflight(ctx, cfg.Target, load.Name(cfg.UserFormat, 0), cfg.Password, rec); err != nil {
		return nil, err
	}
	run := load.UserRun{Mode: mode, Addr: cfg.Target.Addr, Users: cfg.Users, UserFormat: cfg.UserFormat, Conns: cfg.Conns, Progress: cfg.Progress}
	return run.EachUser(ctx, rec, func(ctx context.Context, user string) { oneUser(ctx, cfg, rec, user, work) }), nil
}

func oneUser(ctx context.Context, cfg FetchConfig, rec *load.Recorder, user string, work func(context.Context, *session, uint32) error) {
	start := time.Now()
	c, err := Dial(ctx, cfg.Target, nil)
	if err != nil {
		if ctx.Err() == nil {
			rec.Failed("CONNECT", time.Since(start), err.Error())
		}
		return
	}
	defer c.Close()
	rec.Done("CONNECT", time.Since(start))
	s := &session{conn: c, rec: rec, user: user}
	c.Untagged = s.onUntagged
	resp, err := s.do(ctx, "LOGIN "+quote(user)+" "+quote(cfg.Password))
	if err != nil || resp.Status != "OK" {
		return
	}
	resp, err = s.do(ctx, "SELECT "+quote(cfg.Mailbox))
	if err != nil || resp.Status != "OK" {
		return
	}
	if err := work(ctx, s, s.exists); err != nil {
		return
	}
	start = time.Now()
	resp, err = c.Logout(ctx)
	switch {
	case ctx.Err() != nil:
	case err != nil:
		rec.Failed("LOGOUT", time.Since(start), err.Error())
	case resp.Status != "OK":
		rec.Failed("LOGOUT", time.Since(start), resp.Status+" "+resp.Text)
	default:
		rec.Done("LOGOUT", time.Since(start))
	}
}
