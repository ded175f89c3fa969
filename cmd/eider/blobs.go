package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	blobfs "github.com/eidermail/eider/engine/blob/fs"
	"github.com/eidermail/eider/tools/blobcheck"
)

const blobsUsage = `Usage:
  eider blobs gc   [--dry-run] [--grace 1h]    delete blobs no message references
  eider blobs fsck [--repair]                  check containers, reference counts and quota usage
  eider blobs tier [--min-size 1MiB] [--min-age 30d]   move blobs to storage.blobs.cold_path
`

func cmdBlobs(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, blobsUsage)
		return errors.New("blobs: missing subcommand")
	}
	sub := args[0]
	fs, cf := newFlagSet("blobs "+sub, stderr)
	dry := fs.Bool("dry-run", false, "gc: report what would be deleted")
	grace := fs.String("grace", "", "gc: keep blobs younger than this (default gc.grace)")
	repair := fs.Bool("repair", false, "fsck: fix reference counts and quota usage")
	minSize := fs.String("min-size", "", "tier: smallest blob to move (default storage.blobs.cold.min_size)")
	minAge := fs.String("min-age", "", "tier: youngest blob to move (default storage.blobs.cold.min_age)")
	if _, err := parseInterleaved(fs, args[1:]); err != nil {
		return err
	}
	cfg, err := cf.load()
	if err != nil {
		return err
	}
	e, st, err := openEngine(cfg, newLogger(cfg.Log, stderr))
	if err != nil {
		return err
	}
	defer st.close(e)
	switch sub {
	case "gc":
		g := cfg.GC.Grace
		if *grace != "" {
			if err := g.UnmarshalText([]byte(*grace)); err != nil {
				return fmt.Errorf("--grace: %w", err)
			}
		}
		res, err := blobcheck.CollectBlobs(ctx, e, blobcheck.GCOptions{Grace: g.std(), DryRun: *dry})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "scanned %d blobs, deleted %d, freed %d bytes\n", res.Scanned, res.Deleted, res.BytesFreed)
	case "fsck":
		rep, err := blobcheck.Fsck(ctx, e, *repair)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "blobs: %d, corrupt: %d, missing: %d, reference drift: %d, quota drift: %d\n",
			rep.Blobs, len(rep.Corrupt), len(rep.Missing), len(rep.RefDrift), len(rep.QuotaDrift))
		for _, id := range rep.Corrupt {
			fmt.Fprintln(stdout, "corrupt", id)
		}
		for _, id := range rep.Missing {
			fmt.Fprintln(stdout, "missing", id)
		}
		for _, d := range rep.RefDrift {
			fmt.Fprintf(stdout, "refs %s stored %d actual %d\n", d.ID, d.Stored, d.Actual)
		}
		for _, d := range rep.QuotaDrift {
			fmt.Fprintf(stdout, "quota user %d stored %d actual %d\n", d.User, d.Stored, d.Actual)
		}
		if *repair && (len(rep.RefDrift) > 0 || len(rep.QuotaDrift) > 0) {
			fmt.Fprintln(stdout, "repaired")
		}
		if len(rep.Corrupt) > 0 || len(rep.Missing) > 0 || (!*repair && (len(rep.RefDrift) > 0 || len(rep.QuotaDrift) > 0)) {
			return errors.New("fsck found problems")
		}
	case "tier":
		if st.fs == nil {
			return errors.New("blobs tier: the cold tier is for the fs blob backend; with gridfs, place storage.blobs.gridfs on another database or cluster")
		}
		if cfg.Storage.Blobs.ColdPath == "" {
			return errors.New("blobs tier: storage.blobs.cold_path is not configured")
		}
		pol := blobfs.Policy{MinSize: int64(cfg.Storage.Blobs.Cold.MinSize), MinAge: cfg.Storage.Blobs.Cold.MinAge.std()}
		if *minSize != "" {
			if pol.MinSize, err = parseByteSize(*minSize); err != nil {
				return fmt.Errorf("--min-size: %w", err)
			}
		}
		if *minAge != "" {
			var d Duration
			if err := d.UnmarshalText([]byte(*minAge)); err != nil {
				return fmt.Errorf("--min-age: %w", err)
			}
			pol.MinAge = time.Duration(d)
		}
		res, err := st.fs.Migrate(ctx, pol)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "moved %d blobs (%d bytes) to the cold tier\n", res.Moved, res.Bytes)
	default:
		fmt.Fprint(stderr, blobsUsage)
		return fmt.Errorf("blobs: unknown subcommand %q", sub)
	}
	return nil
}
