// Command eider-bench is the load generator of the project: it speaks IMAP,
// LMTP and POP3 to any server and reports throughput and latency per
// command as a table and as JSON.
//
//	eider-bench imap    stress: many sessions, a weighted command mix, every response checked
//	eider-bench lmtp    delivery flood of generated messages
//	eider-bench fetch   full mailbox download (UID FETCH 1:* BODY.PEEK[])
//	eider-bench partial BODY.PEEK[section]<partial> of every message
//	eider-bench pop3    maildrop download (RETR of every message)
//	eider-bench idle    memory per idle IMAP connection
//
// Exit status: 0 when the run was clean, 1 when it could not run, 2 for
// bad usage, 3 when the run saw errors or consistency errors.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/eidermail/eider/bench/idlescale"
	"github.com/eidermail/eider/bench/imapload"
	"github.com/eidermail/eider/bench/lmtpload"
	"github.com/eidermail/eider/bench/load"
	"github.com/eidermail/eider/bench/pop3load"
)

const (
	exitOK      = 0
	exitFailed  = 1
	exitUsage   = 2
	exitDiffers = 3
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage: eider-bench <mode> [flags]

modes:
  imap     mixed IMAP stress with consistency checks
  lmtp     LMTP delivery flood
  fetch    full mailbox download over IMAP
  partial  one partial body section of every message over IMAP
  pop3     maildrop download over POP3
  idle     server memory per idle IMAP connection

"eider-bench <mode> -h" lists a mode's flags.
`

// common are the flags every mode has.
type common struct {
	target   load.Target
	jsonPath string
	quiet    bool
}

func (c *common) register(fs *flag.FlagSet, addr string) {
	fs.StringVar(&c.target.Addr, "addr", addr, "server `host:port`")
	fs.BoolVar(&c.target.TLS, "tls", false, "implicit TLS")
	fs.BoolVar(&c.target.StartTLS, "starttls", false, "upgrade to TLS with STARTTLS/STLS")
	fs.BoolVar(&c.target.Insecure, "insecure", false, "do not verify the server certificate")
	fs.StringVar(&c.jsonPath, "json", "", "also write the report as JSON to `file`")
	fs.BoolVar(&c.quiet, "quiet", false, "no progress line on stderr")
}

type users struct {
	count    int
	format   string
	password string
}

func (u *users) register(fs *flag.FlagSet) {
	fs.IntVar(&u.count, "users", 20, "number of users")
	fs.StringVar(&u.format, "user-format", "bench%d", "login name of user `n` (one %d)")
	fs.StringVar(&u.password, "password", "benchpass", "password of every user")
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	mode := args[0]
	fs := flag.NewFlagSet("eider-bench "+mode, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	var u users
	var runMode func(progress io.Writer) (*load.Report, error)
	switch mode {
	case "imap":
		c.register(fs, "127.0.0.1:1143")
		u.register(fs)
		clients := fs.Int("clients", 50, "concurrent sessions (client i logs in as user i % users)")
		duration := fs.Duration("duration", 60*time.Second, "run time")
		ops := fs.Int64("ops", 0, "stop after about this many commands (0: duration only)")
		mix := fs.String("mix", imapload.DefaultMix, "weighted command mix")
		mailbox := fs.String("mailbox", "INBOX", "mailbox every session selects")
		seed := fs.Uint64("seed", 1, "random seed")
		minMsgs := fs.Int("min-messages", 50, "APPEND refills the mailbox below this")
		maxMsgs := fs.Int("max-messages", 500, "EXPUNGE trims the mailbox above this")
		size := fs.Int("message-size", 2048, "size of appended messages in bytes")
		runMode = func(progress io.Writer) (*load.Report, error) {
			m, err := imapload.ParseMix(*mix)
			if err != nil {
				return nil, usageError{err}
			}
			return imapload.Run(ctx, imapload.Config{
				Target: c.target, Users: u.count, UserFormat: u.format, Password: u.password,
				Clients: *clients, Duration: *duration, Ops: *ops, Mix: m, Mailbox: *mailbox, Seed: *seed,
				MinMessages: *minMsgs, MaxMessages: *maxMsgs, MessageSize: *size, Progress: progress,
			})
		}
	case "lmtp":
		c.register(fs, "127.0.0.1:2424")
		count := fs.Int("users", 20, "number of recipients")
		rcpt := fs.String("rcpt-format", "bench%d@example.test", "address of recipient `n` (one %d)")
		size := fs.Int("size", 2048, "bytes of headers and text per message")
		attach := fs.Int("attach-size", 0, "bytes of a base64 attachment as part 2 (0: none)")
		messages := fs.Int("messages", 1000, "messages to deliver")
		conns := fs.Int("conns", 4, "connections")
		rpm := fs.Int("rcpts-per-msg", 1, "recipients per message")
		from := fs.String("from", "bench@example.org", "envelope sender")
		seed := fs.Uint64("seed", 1, "random seed of the generated messages")
		runMode = func(progress io.Writer) (*load.Report, error) {
			return lmtpload.Run(ctx, lmtpload.Config{
				Target: c.target, Users: *count, RcptFormat: *rcpt, Size: *size, AttachSize: *attach,
				Messages: *messages, Conns: *conns, RcptsPerMsg: *rpm, From: *from, Seed: *seed, Progress: progress,
			})
		}
	case "fetch", "partial":
		c.register(fs, "127.0.0.1:1143")
		u.register(fs)
		conns := fs.Int("conns", 4, "connections working through the users")
		mailbox := fs.String("mailbox", "INBOX", "mailbox to download")
		section := fs.String("section", "2", "body section of each message (partial)")
		partial := fs.String("partial", "0.1024", "offset.length of the section (partial)")
		runMode = func(progress io.Writer) (*load.Report, error) {
			cfg := imapload.FetchConfig{
				Target: c.target, Users: u.count, UserFormat: u.format, Password: u.password,
				Conns: *conns, Mailbox: *mailbox, Section: *section, Partial: *partial, Progress: progress,
			}
			if mode == "fetch" {
				return imapload.RunFetch(ctx, cfg)
			}
			return imapload.RunPartial(ctx, cfg)
		}
	case "pop3":
		c.register(fs, "127.0.0.1:1110")
		u.register(fs)
		conns := fs.Int("conns", 4, "connections working through the users")
		runMode = func(progress io.Writer) (*load.Report, error) {
			return pop3load.Run(ctx, pop3load.Config{
				Target: c.target, Users: u.count, UserFormat: u.format, Password: u.password,
				Conns: *conns, Progress: progress,
			})
		}
	case "idle":
		c.register(fs, "127.0.0.1:1143")
		u.register(fs)
		conns := fs.Int("conns", 10000, "idle connections to open")
		sources := fs.String("sources", "", "local addresses, e.g. 127.0.0.1-127.0.0.8 (each gives ~28k ports)")
		hold := fs.Duration("hold", 20*time.Second, "how long all connections stay idle")
		pid := fs.Int("pid", 0, "server process id whose VmRSS is read (0: none)")
		rate := fs.Int("rate", 500, "new connections per second at most")
		conc := fs.Int("concurrency", 32, "connections being opened at once at most")
		mailbox := fs.String("mailbox", "INBOX", "mailbox every connection selects")
		warmup := fs.Int("warmup", 0, "sessions opened before the first RSS reading (0: one per user, at most conns/10; -1: none)")
		runMode = func(progress io.Writer) (*load.Report, error) {
			cfg := idlescale.Config{
				Target: c.target, Conns: *conns, Users: u.count, UserFormat: u.format, Password: u.password,
				Mailbox: *mailbox, Hold: *hold, PID: *pid, Rate: *rate, Concurrency: *conc, Warmup: *warmup, Progress: progress,
			}
			if *sources != "" {
				addrs, err := idlescale.ParseSources(*sources)
				if err != nil {
					return nil, usageError{err}
				}
				cfg.Sources = addrs
			}
			return idlescale.Run(ctx, cfg)
		}
	default:
		fmt.Fprintf(stderr, "eider-bench: unknown mode %q\n\n%s", mode, usage)
		return exitUsage
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "eider-bench %s: unexpected argument %q\n", mode, fs.Arg(0))
		return exitUsage
	}
	var progress io.Writer = stderr
	if c.quiet {
		progress = nil
	}
	rep, err := runMode(progress)
	if err != nil {
		fmt.Fprintf(stderr, "eider-bench %s: %v\n", mode, err)
		if errors.As(err, new(usageError)) {
			return exitUsage
		}
		return exitFailed
	}
	if err := rep.WriteTable(stdout); err != nil {
		fmt.Fprintf(stderr, "eider-bench %s: %v\n", mode, err)
		return exitFailed
	}
	if c.jsonPath != "" {
		if err := rep.WriteJSONFile(c.jsonPath); err != nil {
			fmt.Fprintf(stderr, "eider-bench %s: %v\n", mode, err)
			return exitFailed
		}
	}
	if ctx.Err() != nil {
		fmt.Fprintf(stderr, "eider-bench %s: interrupted; the report covers the run so far\n", mode)
		return exitFailed
	}
	if rep.Errors > 0 || rep.ConsistencyErrors > 0 {
		return exitDiffers
	}
	return exitOK
}

type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }
