// Package lmtpload floods an LMTP server with generated messages: several
// connections, each delivering one message per transaction to one or more
// recipients taken round robin from the bench users. Messages come from a
// seed (load.MessageGen), so two runs deliver the same corpus.
package lmtpload

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eidermail/eider/bench/load"
)

// Config is an LMTP flood.
type Config struct {
	Target      load.Target
	Users       int
	RcptFormat  string // "bench%d@example.test"
	Size        int    // bytes of headers and text per message
	AttachSize  int    // bytes of a base64 attachment (part 2); 0: none
	Messages    int    // messages to deliver in total
	Conns       int
	RcptsPerMsg int    // default 1
	From        string // envelope sender; default bench@example.org
	Seed        uint64
	Hostname    string // LHLO name; default eider-bench
	Progress    io.Writer
}

func (cfg *Config) setDefaults() error {
	if err := cfg.Target.Validate(); err != nil {
		return err
	}
	if cfg.Users <= 0 || cfg.Conns <= 0 || cfg.Messages <= 0 {
		return fmt.Errorf("--users, --conns and --messages must be positive")
	}
	if err := load.CheckNameFormat("--rcpt-format", cfg.RcptFormat); err != nil {
		return err
	}
	if cfg.Size < 0 || cfg.AttachSize < 0 {
		return fmt.Errorf("--size and --attach-size cannot be negative")
	}
	if cfg.RcptsPerMsg <= 0 {
		cfg.RcptsPerMsg = 1
	}
	if cfg.RcptsPerMsg > cfg.Users {
		return fmt.Errorf("--rcpts-per-msg %d exceeds --users %d", cfg.RcptsPerMsg, cfg.Users)
	}
	if cfg.From == "" {
		cfg.From = "bench@example.org"
	}
	if cfg.Hostname == "" {
		cfg.Hostname = "eider-bench"
	}
	return nil
}

// Run delivers cfg.Messages messages and reports per-command latency;
// "DATA" runs from the DATA command to the last recipient's reply after
// the message. Bytes are message bytes sent (once per message, whatever
// the number of recipients).
func Run(ctx context.Context, cfg Config) (*load.Report, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	probe, err := dial(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", cfg.Target.Addr, err)
	}
	probe.close()
	rec := load.NewRecorder()
	stopProgress := load.Progress(ctx, cfg.Progress, "lmtp", rec)
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range cfg.Conns {
		wg.Go(func() { deliverLoop(ctx, cfg, rec, &next) })
	}
	wg.Wait()
	elapsed := time.Since(start)
	stopProgress()
	return rec.Report("lmtp", cfg.Target.Addr, start, elapsed, cfg.Conns), nil
}

func deliverLoop(ctx context.Context, cfg Config, rec *load.Recorder, next *atomic.Int64) {
	var c *conn
	defer func() {
		if c != nil {
			c.quit(ctx, rec)
			c.close()
		}
	}()
	failures := 0
	for ctx.Err() == nil {
		i := next.Add(1) - 1
		if i >= int64(cfg.Messages) {
			return
		}
		if c == nil {
			start := time.Now()
			var err error
			if c, err = dial(ctx, cfg); err != nil {
				if ctx.Err() == nil {
					rec.Failed("CONNECT", time.Since(start), err.Error())
				}
				c = nil
				if failures++; failures > 10 {
					return // the server is gone; the errors say so
				}
				sleepCtx(ctx, 100*time.Millisecond)
				continue
			}
			rec.Done("CONNECT", time.Since(start))
			failures = 0
		}
		if err := c.deliver(ctx, cfg, rec, int(i)); err != nil {
			c.close()
			c = nil
		}
	}
}

// conn is one LMTP connection.
type conn struct {
	nc   net.Conn
	br   *bufio.Reader
	bw   *bufio.Writer
	stop func() bool
}

func dial(ctx context.Context, cfg Config) (*conn, error) {
	nc, err := cfg.Target.Dial(ctx, nil)
	if err != nil {
		return nil, err
	}
	c := &conn{nc: nc, br: bufio.NewReader(nc), bw: bufio.NewWriterSize(nc, 32<<10)}
	c.stop = context.AfterFunc(ctx, func() { nc.Close() })
	fail := func(err error) (*conn, error) {
		c.close()
		return nil, err
	}
	nc.SetDeadline(time.Now().Add(time.Minute))
	if code, text, err := c.reply(); err != nil || code != 220 {
		return fail(fmt.Errorf("greeting: %d %s %v", code, text, err))
	}
	if code, text, err := c.cmd("LHLO " + cfg.Hostname); err != nil || code != 250 {
		return fail(fmt.Errorf("LHLO: %d %s %v", code, text, err))
	}
	if cfg.Target.StartTLS {
		if code, text, err := c.cmd("STARTTLS"); err != nil || code != 220 {
			return fail(fmt.Errorf("STARTTLS: %d %s %v", code, text, err))
		}
		tc, err := cfg.Target.Handshake(ctx, nc)
		if err != nil {
			return fail(err)
		}
		c.stop()
		c.nc = tc
		c.br.Reset(tc)
		c.bw.Reset(tc)
		c.stop = context.AfterFunc(ctx, func() { tc.Close() })
		if code, text, err := c.cmd("LHLO " + cfg.Hostname); err != nil || code != 250 {
			return fail(fmt.Errorf("LHLO after STARTTLS: %d %s %v", code, text, err))
		}
	}
	return c, nil
}

func (c *conn) close() {
	c.stop()
	c.nc.Close()
}

func (c *conn) reply() (int, string, error) { return readReply(c.br) }

// maxReplyLines bounds a multi-line reply (LHLO lists a dozen extensions).
const maxReplyLines = 1000

// readReply reads one reply, joining the text of a multi-line one
// (RFC 5321 4.2); lines must share the code.
func readReply(br *bufio.Reader) (int, string, error) {
	var text []string
	first := 0
	for range maxReplyLines {
		line, err := br.ReadString('\n')
		if err != nil {
			return 0, "", err
		}
		line = strings.TrimRight(line, "\r\n")
		if len(line) < 3 || line[0] < '1' || line[0] > '5' || line[1] < '0' || line[1] > '9' || line[2] < '0' || line[2] > '9' ||
			(len(line) > 3 && line[3] != ' ' && line[3] != '-') {
			return 0, "", fmt.Errorf("malformed reply %q", line)
		}
		code := int(line[0]-'0')*100 + int(line[1]-'0')*10 + int(line[2]-'0')
		if first == 0 {
			first = code
		} else if code != first {
			return 0, "", fmt.Errorf("reply code changes from %d to %d within a reply", first, code)
		}
		if len(line) > 4 {
			text = append(text, line[4:])
		}
		if len(line) == 3 || line[3] == ' ' {
			return code, strings.Join(text, " "), nil
		}
	}
	return 0, "", fmt.Errorf("reply of more than %d lines", maxReplyLines)
}

func (c *conn) cmd(line string) (int, string, error) {
	c.nc.SetDeadline(time.Now().Add(time.Minute))
	c.bw.WriteString(line)
	c.bw.WriteString("\r\n")
	if err := c.bw.Flush(); err != nil {
		return 0, "", err
	}
	return c.reply()
}

// timed sends a command and records it under name; a reply outside
// 2xx/3xx is a failure.
func (c *conn) timed(ctx context.Context, rec *load.Recorder, name, line string) (int, error) {
	start := time.Now()
	code, text, err := c.cmd(line)
	record(ctx, rec, name, start, code, text, err)
	return code, err
}

func record(ctx context.Context, rec *load.Recorder, name string, start time.Time, code int, text string, err error) {
	d := time.Since(start)
	switch {
	case ctx.Err() != nil:
	case err != nil:
		rec.Failed(name, d, err.Error())
	case code >= 400:
		rec.Failed(name, d, fmt.Sprintf("%d %s", code, text))
	default:
		rec.Done(name, d)
	}
}

// deliver sends message i in one transaction. An error means the
// connection is unusable.
func (c *conn) deliver(ctx context.Context, cfg Config, rec *load.Recorder, i int) error {
	if code, err := c.timed(ctx, rec, "MAIL", "MAIL FROM:<"+cfg.From+">"); err != nil || code != 250 {
		return err
	}
	accepted := 0
	var first string
	for k := range cfg.RcptsPerMsg {
		rcpt := load.Name(cfg.RcptFormat, (i*cfg.RcptsPerMsg+k)%cfg.Users)
		if first == "" {
			first = rcpt
		}
		code, err := c.timed(ctx, rec, "RCPT", "RCPT TO:<"+rcpt+">")
		if err != nil {
			return err
		}
		if code == 250 {
			accepted++
		}
	}
	if accepted == 0 {
		_, err := c.timed(ctx, rec, "RSET", "RSET")
		return err
	}
	msg := load.NewMessageGen(cfg.Seed, uint64(i)).Message(first, cfg.Size, cfg.AttachSize)
	start := time.Now()
	code, text, err := c.cmd("DATA")
	if err != nil || code != 354 {
		if err == nil && code < 400 {
			err = fmt.Errorf("DATA answered %d %s", code, text)
		}
		record(ctx, rec, "DATA", start, code, text, err)
		return err
	}
	c.nc.SetDeadline(time.Now().Add(time.Minute + time.Duration(len(msg)/(1<<20))*time.Second))
	writeStuffed(c.bw, msg)
	c.bw.WriteString(".\r\n")
	if err := c.bw.Flush(); err != nil {
		record(ctx, rec, "DATA", start, 0, "", err)
		return err
	}
	// LMTP answers once per accepted recipient (RFC 2033).
	delivered := false
	var failed []string
	for range accepted {
		code, text, err := c.reply()
		if err != nil {
			record(ctx, rec, "DATA", start, 0, "", err)
			return err
		}
		if code == 250 {
			delivered = true
		} else {
			failed = append(failed, fmt.Sprintf("%d %s", code, text))
		}
	}
	if len(failed) > 0 {
		record(ctx, rec, "DATA", start, 550, strings.Join(failed, "; "), nil)
	} else {
		record(ctx, rec, "DATA", start, 250, "", nil)
	}
	if delivered {
		rec.AddBytes(int64(len(msg)))
		rec.AddMessages(1)
	}
	return nil
}

func (c *conn) quit(ctx context.Context, rec *load.Recorder) {
	if ctx.Err() == nil {
		c.timed(ctx, rec, "QUIT", "QUIT")
	}
}

// writeStuffed writes msg with dot-stuffing (RFC 5321 4.5.2); msg ends
// with CRLF.
func writeStuffed(w *bufio.Writer, msg []byte) {
	atLineStart := true
	for len(msg) > 0 {
		if atLineStart && msg[0] == '.' {
			w.WriteByte('.')
		}
		i := bytes.IndexByte(msg, '\n')
		if i < 0 {
			w.Write(msg)
			w.WriteString("\r\n")
			return
		}
		w.Write(msg[:i+1])
		msg = msg[i+1:]
		atLineStart = true
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
