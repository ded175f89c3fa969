package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"

	"github.com/eidermail/eider/engine"
	"github.com/eidermail/eider/tools/migrate"
)

const migrateUsage = `Usage:
  eider migrate --to FILE [--config FILE] [--data DIR] [--verify] [--sample SHARE] [--batch N]

Copies every user, address, mailbox and message of the store this
configuration names (--config/--data, as for serve) into the store FILE
names (another eider.toml), keeping UIDVALIDITY, UIDs, MODSEQs and flags.
Interrupted, it resumes where it stopped when run again. Stop serve on the
source first: changes made meanwhile are not copied.
`

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cf := newFlagSet("migrate", stderr)
	fs.Usage = func() { fmt.Fprint(stderr, migrateUsage); fs.PrintDefaults() }
	to := fs.String("to", "", "configuration file of the destination store")
	verify := fs.Bool("verify", false, "compare both stores after copying")
	sample := fs.Float64("sample", 0.01, "with --verify: share of messages (0..1) also rebuilt byte for byte on both sides")
	batch := fs.Int("batch", 500, "messages per load (one destination transaction)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if *to == "" || len(pos) != 0 {
		fmt.Fprint(stderr, migrateUsage)
		return errors.New("migrate: --to FILE is required")
	}
	src, err := cf.load()
	if err != nil {
		return err
	}
	dst, err := loadConfig(*to)
	if err != nil {
		return err
	}
	if err := dst.finish(); err != nil {
		return err
	}
	log := newLogger(src.Log, stderr)
	from, err := openStores(ctx, src, log)
	if err != nil {
		return fmt.Errorf("source: %w", err)
	}
	defer closeStores(from)
	into, err := openStores(ctx, dst, log)
	if err != nil {
		return fmt.Errorf("destination: %w", err)
	}
	defer closeStores(into)
	if _, ok := from.meta.(engine.Dumper); !ok {
		return fmt.Errorf("migrate: the %s metadata backend cannot be read whole", src.Storage.Meta)
	}
	if _, ok := into.meta.(engine.Loader); !ok {
		return fmt.Errorf("migrate: the %s metadata backend cannot be loaded", dst.Storage.Meta)
	}
	var progress io.Writer
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		progress = stderr
	}
	res, err := migrate.Run(ctx,
		migrate.Stores{Meta: from.meta, Blobs: from.blobs},
		migrate.Stores{Meta: into.meta, Blobs: into.blobs},
		migrate.Options{Batch: *batch, Progress: progress, Verify: *verify, ContentSample: *sample, Logger: log})
	if progress != nil {
		return err // the progress output ended with the summary
	}
	fmt.Fprintf(stdout, "users %d, mailboxes %d, messages %d copied (%d already there), blobs %d (%d bytes), verified %d (%d byte for byte) in %s\n",
		res.Users, res.Mailboxes, res.Messages, res.Present, res.Blobs, res.BlobBytes, res.Verified, res.ContentVerified, res.Elapsed.Round(1e6))
	return err
}

// closeStores closes backends opened without an engine.
func closeStores(s *stores) {
	_ = s.notify.Close()
	_ = s.meta.Close()
	_ = s.closeBlobs()
}
