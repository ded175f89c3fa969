package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
)

const mailboxUsage = `Usage:
  eider mailbox list USER
  eider mailbox create USER NAME [--special-use \Archive]
  eider mailbox delete USER NAME
`

func cmdMailbox(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, mailboxUsage)
		return errors.New("mailbox: missing subcommand")
	}
	sub := args[0]
	fs, cf := newFlagSet("mailbox "+sub, stderr)
	special := fs.String("special-use", "", `RFC 6154 attribute for create, e.g. \Archive`)
	pos, err := parseInterleaved(fs, args[1:])
	if err != nil {
		return err
	}
	want := map[string]int{"list": 1, "create": 2, "delete": 2}[sub]
	if want == 0 || len(pos) != want {
		fmt.Fprint(stderr, mailboxUsage)
		return fmt.Errorf("mailbox %s: wrong arguments", sub)
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
	u, err := e.UserByName(ctx, pos[0])
	if err != nil {
		return fmt.Errorf("user %q: %w", pos[0], err)
	}
	switch sub {
	case "list":
		mbs, err := e.Mailboxes(ctx, u.ID)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tSPECIAL-USE\tMESSAGES\tUNSEEN\tSIZE\tUIDVALIDITY\tUIDNEXT")
		for _, mb := range mbs {
			st, err := e.Status(ctx, u.ID, mb.ID)
			if err != nil {
				return err
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\n", mb.Name, mb.SpecialUse, st.Messages, st.Unseen, st.Size, st.UIDValidity, st.UIDNext)
		}
		return tw.Flush()
	case "create":
		if _, err := e.CreateMailbox(ctx, u.ID, pos[1], *special); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "created", pos[1])
	case "delete":
		if err := e.DeleteMailbox(ctx, u.ID, pos[1]); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "deleted", pos[1])
	}
	return nil
}

// parseInterleaved parses flags that may come before or after the positional
// arguments ("eider user add bob --quota 1GiB").
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}
