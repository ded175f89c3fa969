// Package pop3load downloads every bench user's maildrop over POP3 (USER,
// PASS, STAT, UIDL, RETR of every message, QUIT) on several connections
// and reports the rate and per-command latency.
package pop3load

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/eidermail/eider/bench/load"
)

// Config is a POP3 download run.
type Config struct {
	Target     load.Target
	Users      int
	UserFormat string
	Password   string
	Conns      int
	Progress   io.Writer
}

func (cfg *Config) setDefaults() error {
	if err := cfg.Target.Validate(); err != nil {
		return err
	}
	if cfg.Users <= 0 || cfg.Conns <= 0 {
		return fmt.Errorf("--users and --conns must be positive")
	}
	return load.CheckNameFormat("--user-format", cfg.UserFormat)
}

// Run downloads every user's messages once. Bytes are the message bytes
// retrieved (dot-stuffing undone); the sum per user must equal what STAT
// announced and UIDL must list as many messages as STAT counts, else the
// run reports a consistency error.
func Run(ctx context.Context, cfg Config) (*load.Report, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	probe, err := dial(ctx, cfg.Target)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", cfg.Target.Addr, err)
	}
	probe.close()
	rec := load.NewRecorder()
	run := load.UserRun{Mode: "pop3", Addr: cfg.Target.Addr, Users: cfg.Users, UserFormat: cfg.UserFormat, Conns: cfg.Conns, Progress: cfg.Progress}
	return run.EachUser(ctx, rec, func(ctx context.Context, user string) { download(ctx, cfg, rec, user) }), nil
}

type conn struct {
	nc   net.Conn
	br   *bufio.Reader
	stop func() bool
}

func dial(ctx context.Context, t load.Target) (*conn, error) {
	nc, err := t.Dial(ctx, nil)
	if err != nil {
		return nil, err
	}
	c := &conn{nc: nc, br: bufio.NewReaderSize(nc, 32<<10)}
	c.stop = context.AfterFunc(ctx, func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(time.Minute))
	if line, err := c.status(); err != nil {
		c.close()
		return nil, fmt.Errorf("greeting: %w", err)
	} else if !strings.HasPrefix(line, "+OK") {
		c.close()
		return nil, fmt.Errorf("greeting: %q", line)
	}
	if t.StartTLS {
		line, err := c.cmd("STLS")
		if err != nil || !strings.HasPrefix(line, "+OK") {
			c.close()
			return nil, fmt.Errorf("STLS: %q %v", line, err)
		}
		tc, err := t.Handshake(ctx, nc)
		if err != nil {
			c.close()
			return nil, err
		}
		c.stop()
		c.nc = tc
		c.br.Reset(tc)
		c.stop = context.AfterFunc(ctx, func() { tc.Close() })
	}
	return c, nil
}

func (c *conn) close() {
	c.stop()
	c.nc.Close()
}

// status reads a one-line reply.
func (c *conn) status() (string, error) {
	line, err := c.br.ReadString('\n')
	if err != nil {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func (c *conn) cmd(line string) (string, error) {
	c.nc.SetDeadline(time.Now().Add(time.Minute))
	if _, err := io.WriteString(c.nc, line+"\r\n"); err != nil {
		return "", err
	}
	return c.status()
}

// multiline reads the lines of a multi-line reply up to the lone dot and
// calls each with a line, dot-stuffing undone, CRLF kept.
func (c *conn) multiline(each func(line []byte)) error { return readMultiline(c.br, each) }

// readMultiline reads a multi-line reply's lines (RFC 1939 3) up to the
// terminating dot, calling each with every line or, for lines longer than
// br's buffer, every piece of it.
func readMultiline(br *bufio.Reader, each func(line []byte)) error {
	for {
		line, err := br.ReadSlice('\n')
		if err != nil && err != bufio.ErrBufferFull {
			return err
		}
		whole := err == nil
		if whole && (string(line) == ".\r\n" || string(line) == ".\n") {
			return nil
		}
		if line[0] == '.' {
			line = line[1:]
		}
		each(line)
		// A line longer than the buffer comes in pieces.
		for !whole {
			line, err = br.ReadSlice('\n')
			if err != nil && err != bufio.ErrBufferFull {
				return err
			}
			whole = err == nil
			each(line)
		}
	}
}

// timed sends a command, records it and returns its status line.
func (c *conn) timed(ctx context.Context, rec *load.Recorder, name, line string) (string, error) {
	start := time.Now()
	resp, err := c.cmd(line)
	record(ctx, rec, name, start, resp, err)
	return resp, err
}

func record(ctx context.Context, rec *load.Recorder, name string, start time.Time, resp string, err error) {
	d := time.Since(start)
	switch {
	case ctx.Err() != nil:
	case err != nil:
		rec.Failed(name, d, err.Error())
	case !strings.HasPrefix(resp, "+OK"):
		rec.Failed(name, d, resp)
	default:
		rec.Done(name, d)
	}
}

func download(ctx context.Context, cfg Config, rec *load.Recorder, user string) {
	start := time.Now()
	c, err := dial(ctx, cfg.Target)
	if err != nil {
		if ctx.Err() == nil {
			rec.Failed("CONNECT", time.Since(start), err.Error())
		}
		return
	}
	defer c.close()
	rec.Done("CONNECT", time.Since(start))
	ok := func(resp string, err error) bool { return err == nil && strings.HasPrefix(resp, "+OK") }
	if !ok(c.timed(ctx, rec, "USER", "USER "+user)) || !ok(c.timed(ctx, rec, "PASS", "PASS "+cfg.Password)) {
		return
	}
	resp, err := c.timed(ctx, rec, "STAT", "STAT")
	if !ok(resp, err) {
		return
	}
	var count, octets int64
	if f := strings.Fields(resp); len(f) >= 3 {
		count, _ = strconv.ParseInt(f[1], 10, 64)
		octets, _ = strconv.ParseInt(f[2], 10, 64)
	} else {
		rec.Inconsistent("%s: STAT reply %q", user, resp)
		return
	}
	start = time.Now()
	resp, err = c.cmd("UIDL")
	var ids []int
	if err == nil && strings.HasPrefix(resp, "+OK") {
		err = c.multiline(func(line []byte) {
			if n, err := strconv.Atoi(strings.Fields(string(line) + " x")[0]); err == nil {
				ids = append(ids, n)
			}
		})
	}
	record(ctx, rec, "UIDL", start, resp, err)
	if err != nil || !strings.HasPrefix(resp, "+OK") {
		return
	}
	if int64(len(ids)) != count {
		rec.Inconsistent("%s: UIDL lists %d messages, STAT %d", user, len(ids), count)
	}
	var total int64
	for _, n := range ids {
		start := time.Now()
		resp, err := c.cmd("RETR " + strconv.Itoa(n))
		var size int64
		if err == nil && strings.HasPrefix(resp, "+OK") {
			err = c.multiline(func(line []byte) { size += int64(len(line)) })
		}
		record(ctx, rec, "RETR", start, resp, err)
		if err != nil {
			return
		}
		if strings.HasPrefix(resp, "+OK") {
			total += size
			rec.AddBytes(size)
			rec.AddMessages(1)
		}
	}
	if total != octets {
		rec.Inconsistent("%s: RETR returned %d bytes, STAT announced %d", user, total, octets)
	}
	c.timed(ctx, rec, "QUIT", "QUIT")
}
