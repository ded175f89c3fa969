package imapload

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/eidermail/eider/bench/load"
)

// commandTimeout bounds one command, from sending it to its tagged
// response: a server that stalls longer is counted as failing.
const commandTimeout = 60 * time.Second

// Conn is a client connection that sends one command at a time and hands
// every untagged response it reads to Untagged, so a caller sees the
// unsolicited EXISTS, EXPUNGE and FETCH responses in the order the server
// sent them.
type Conn struct {
	nc       net.Conn
	br       *bufio.Reader
	rd       *Reader
	bw       *bufio.Writer
	tagN     uint64
	caps     map[string]bool
	stop     func() bool
	closing  bool // LOGOUT sent: BYE is expected
	Untagged func(*Response)
}

// Dial connects to t from local (nil: any address), reads the greeting
// and, with t.StartTLS, upgrades the connection. The connection is closed
// when ctx ends.
func Dial(ctx context.Context, t load.Target, local net.Addr) (*Conn, error) {
	return DialBuffered(ctx, t, local, 16<<10)
}

// DialBuffered is Dial with a read buffer of bufSize bytes: connection-
// scale runs hold thousands of connections and keep them small. Longer
// lines are still read whole.
func DialBuffered(ctx context.Context, t load.Target, local net.Addr, bufSize int) (*Conn, error) {
	nc, err := t.Dial(ctx, local)
	if err != nil {
		return nil, err
	}
	c := newConn(nc, bufSize)
	c.stop = context.AfterFunc(ctx, func() { nc.Close() })
	fail := func(err error) (*Conn, error) {
		c.Close()
		return nil, err
	}
	nc.SetDeadline(time.Now().Add(commandTimeout))
	greet, err := c.rd.Read()
	if err != nil {
		return fail(fmt.Errorf("greeting: %w", err))
	}
	if greet.Tag != "*" || (greet.Status != "OK" && greet.Status != "PREAUTH") {
		return fail(fmt.Errorf("greeting: %.100q", greet.Raw))
	}
	c.noteCaps(greet)
	if t.StartTLS {
		resp, err := c.Do(ctx, "STARTTLS")
		if err != nil {
			return fail(err)
		}
		if resp.Status != "OK" {
			return fail(fmt.Errorf("STARTTLS refused: %s %s", resp.Status, resp.Text))
		}
		tc, err := t.Handshake(ctx, nc)
		if err != nil {
			return fail(err)
		}
		c.stop()
		c.nc = tc
		c.br.Reset(tc)
		c.bw.Reset(tc)
		c.caps = nil
		c.stop = context.AfterFunc(ctx, func() { tc.Close() })
	}
	return c, nil
}

func newConn(nc net.Conn, bufSize int) *Conn {
	br := bufio.NewReaderSize(nc, bufSize)
	return &Conn{nc: nc, br: br, rd: NewReader(br), bw: bufio.NewWriterSize(nc, min(bufSize, 4<<10))}
}

// Park drops the buffers of a connection that will only be held open and
// closed (an idling connection of a scale run); nothing may be sent or
// read on it afterwards.
func (c *Conn) Park() {
	c.br, c.rd, c.bw, c.caps = nil, nil, nil, nil
}

// Close closes the connection without LOGOUT.
func (c *Conn) Close() error {
	if c.stop != nil {
		c.stop()
	}
	return c.nc.Close()
}

// HasCap reports whether the server advertised capability name in the
// greeting or since (CAPABILITY responses and response codes).
func (c *Conn) HasCap(name string) bool { return c.caps[upper(name)] }

func (c *Conn) noteCaps(r *Response) {
	var list []string
	switch {
	case r.Code == "CAPABILITY":
		list = strings.Fields(r.CodeArg)
	case r.Name == "CAPABILITY":
		for _, v := range r.Args {
			list = append(list, v.String())
		}
	default:
		return
	}
	c.caps = make(map[string]bool, len(list))
	for _, s := range list {
		c.caps[upper(s)] = true
	}
}

func (c *Conn) nextTag() string {
	c.tagN++
	return "b" + strconv.FormatUint(c.tagN, 10)
}

// Do sends one command line (without tag) and returns its tagged
// response; NO and BAD are responses, not errors. An error means the
// connection is no longer usable.
func (c *Conn) Do(ctx context.Context, cmd string) (*Response, error) {
	return c.command(ctx, cmd, nil)
}

// command sends cmd, and when lit is not nil a literal after it: with
// LITERAL+ at once, otherwise after the server's continuation request.
func (c *Conn) command(ctx context.Context, cmd string, lit []byte) (*Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	tag := c.nextTag()
	c.nc.SetDeadline(time.Now().Add(commandTimeout))
	c.bw.WriteString(tag)
	c.bw.WriteByte(' ')
	c.bw.WriteString(cmd)
	sync := false
	if lit != nil {
		nonSync := c.HasCap("LITERAL+")
		fmt.Fprintf(c.bw, " {%d", len(lit))
		if nonSync {
			c.bw.WriteByte('+')
		}
		c.bw.WriteString("}\r\n")
		if nonSync {
			c.bw.Write(lit)
			c.bw.WriteString("\r\n")
		} else {
			sync = true
		}
	} else {
		c.bw.WriteString("\r\n")
	}
	if err := c.bw.Flush(); err != nil {
		return nil, err
	}
	for {
		resp, err := c.rd.Read()
		if err != nil {
			return nil, err
		}
		switch resp.Tag {
		case tag:
			c.noteCaps(resp)
			return resp, nil
		case "+":
			if !sync {
				return nil, protoErr("unexpected continuation request during %s", verb(cmd))
			}
			sync = false
			c.bw.Write(lit)
			c.bw.WriteString("\r\n")
			if err := c.bw.Flush(); err != nil {
				return nil, err
			}
		case "*":
			if err := c.untagged(resp); err != nil {
				return nil, err
			}
		default:
			return nil, protoErr("response with unknown tag %q during %s", resp.Tag, verb(cmd))
		}
	}
}

func (c *Conn) untagged(resp *Response) error {
	c.noteCaps(resp)
	if resp.Status == "BYE" && !c.closing {
		return fmt.Errorf("server closed the session: BYE %s", resp.Text)
	}
	if c.Untagged != nil {
		c.Untagged(resp)
	}
	return nil
}

// Append sends APPEND of msg to mailbox with the flags list (may be empty).
func (c *Conn) Append(ctx context.Context, mailbox, flags string, msg []byte) (*Response, error) {
	cmd := "APPEND " + quote(mailbox)
	if flags != "" {
		cmd += " (" + flags + ")"
	}
	return c.command(ctx, cmd, msg)
}

// Logout sends LOGOUT; the connection is left for Close.
func (c *Conn) Logout(ctx context.Context) (*Response, error) {
	c.closing = true
	return c.Do(ctx, "LOGOUT")
}

// Login authenticates with LOGIN.
func (c *Conn) Login(ctx context.Context, user, password string) (*Response, error) {
	return c.Do(ctx, "LOGIN "+quote(user)+" "+quote(password))
}

// IdleTiming is how long the server took to enter and to leave IDLE.
type IdleTiming struct {
	Enter time.Duration // IDLE sent → continuation request
	Leave time.Duration // DONE sent → tagged response
}

// Idle runs IDLE for hold, passing the responses the server pushes to
// Untagged, then sends DONE. A tagged response instead of the
// continuation (IDLE refused) is returned as is.
func (c *Conn) Idle(ctx context.Context, hold time.Duration) (*Response, IdleTiming, error) {
	var tm IdleTiming
	if err := ctx.Err(); err != nil {
		return nil, tm, err
	}
	tag := c.nextTag()
	c.nc.SetDeadline(time.Now().Add(hold + commandTimeout))
	start := time.Now()
	c.bw.WriteString(tag + " IDLE\r\n")
	if err := c.bw.Flush(); err != nil {
		return nil, tm, err
	}
	var (
		mu     sync.Mutex
		doneAt time.Time
		werr   error
		timer  *time.Timer
	)
	defer func() {
		if timer != nil {
			timer.Stop() // on every error path: no DONE on a connection being dropped
		}
	}()
	for {
		resp, err := c.rd.Read()
		if err != nil {
			return nil, tm, err
		}
		switch resp.Tag {
		case "+":
			if timer != nil {
				return nil, tm, protoErr("second continuation request in IDLE")
			}
			tm.Enter = time.Since(start)
			// DONE goes out from a timer while this goroutine keeps
			// reading what the server pushes.
			timer = time.AfterFunc(hold, func() {
				mu.Lock()
				defer mu.Unlock()
				doneAt = time.Now()
				if _, werr = c.bw.WriteString("DONE\r\n"); werr == nil {
					werr = c.bw.Flush()
				}
			})
		case tag:
			if timer != nil && !timer.Stop() {
				mu.Lock()
				tm.Leave = time.Since(doneAt)
				err := werr
				mu.Unlock()
				if err != nil {
					return nil, tm, err
				}
			} else if timer != nil {
				return nil, tm, protoErr("IDLE ended before DONE: %.80q", resp.Raw)
			}
			return resp, tm, nil
		case "*":
			if err := c.untagged(resp); err != nil {
				return nil, tm, err
			}
		default:
			return nil, tm, protoErr("response with unknown tag %q during IDLE", resp.Tag)
		}
	}
}

// EnterIdle sends IDLE and waits for the continuation request, leaving
// the connection idling (connection-scale runs never read again).
func (c *Conn) EnterIdle(ctx context.Context) error {
	tag := c.nextTag()
	c.nc.SetDeadline(time.Now().Add(commandTimeout))
	c.bw.WriteString(tag + " IDLE\r\n")
	if err := c.bw.Flush(); err != nil {
		return err
	}
	for {
		resp, err := c.rd.Read()
		if err != nil {
			return err
		}
		switch resp.Tag {
		case "+":
			c.nc.SetDeadline(time.Time{})
			return nil
		case "*":
			if err := c.untagged(resp); err != nil {
				return err
			}
		default:
			return fmt.Errorf("IDLE refused: %s %s", resp.Status, resp.Text)
		}
	}
}

// verb returns the command name of a command line, two words for UID
// commands: the name the report uses.
func verb(cmd string) string {
	name, rest, _ := strings.Cut(cmd, " ")
	name = upper(name)
	if name == "UID" {
		sub, _, _ := strings.Cut(rest, " ")
		return "UID " + upper(sub)
	}
	return name
}
