// Command eider is the one binary of the Eider mail store: the server and its
// operator commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `eider — a mail store with IMAP, POP3 and LMTP edges

Usage:
  eider serve   [--config FILE] [--data DIR] [--log-level L]   start every service
  eider user    add|list|passwd|delete|alias ...                manage users
  eider mailbox list|create|delete USER [NAME]                  manage a user's mailboxes
  eider blobs   gc|fsck|tier ...                               blob store maintenance
  eider migrate --to FILE [--verify]                            copy the whole store into another backend
  eider version

Every command takes --config FILE and --data DIR. Run "eider COMMAND -h" for its flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "eider:", err)
		}
		os.Exit(1)
	}
}

// run executes one command; tests call it directly.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return cmdServe(ctx, rest, stderr)
	case "user":
		return cmdUser(ctx, rest, stdin, stdout, stderr)
	case "mailbox":
		return cmdMailbox(ctx, rest, stdout, stderr)
	case "blobs":
		return cmdBlobs(ctx, rest, stdout, stderr)
	case "migrate":
		return cmdMigrate(ctx, rest, stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "eider", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

// commonFlags are the flags every command has.
type commonFlags struct {
	config   string
	data     string
	logLevel string
}

func newFlagSet(name string, stderr io.Writer) (*flag.FlagSet, *commonFlags) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cf := &commonFlags{}
	fs.StringVar(&cf.config, "config", "", "TOML configuration file (default: eider.toml in the data directory, if present)")
	fs.StringVar(&cf.data, "data", "", "data directory (overrides data_dir)")
	fs.StringVar(&cf.logLevel, "log-level", "", "debug, info, warn or error (overrides log.level)")
	return fs, cf
}

// config loads the configuration the flags point at and applies the flags over it.
func (cf *commonFlags) load() (Config, error) {
	path := cf.config
	if path == "" {
		dir := cf.data
		if dir == "" {
			dir = defaultConfig().DataDir
		}
		if p := dir + "/eider.toml"; fileExists(p) {
			path = p
		}
	}
	cfg, err := loadConfig(path)
	if err != nil {
		return cfg, err
	}
	if cf.data != "" {
		cfg.DataDir = cf.data
	}
	if cf.logLevel != "" {
		cfg.Log.Level = cf.logLevel
	}
	return cfg, cfg.finish()
}

func newLogger(cfg LogConfig, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Level))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
