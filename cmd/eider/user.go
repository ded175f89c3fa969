package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

const userUsage = `Usage:
  eider user add USER [--password-stdin | --password-hash HASH] [--quota SIZE]
  eider user list
  eider user passwd USER            (new password read from stdin)
  eider user delete USER
  eider user alias USER ADDRESS     (add a delivery address)
`

func cmdUser(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, userUsage)
		return errors.New("user: missing subcommand")
	}
	sub := args[0]
	fs, cf := newFlagSet("user "+sub, stderr)
	hash := fs.String("password-hash", "", "import an existing argon2id or bcrypt hash instead of a password")
	quota := fs.String("quota", "", "storage quota, e.g. 2GiB (default: users.default_quota)")
	fs.Bool("password-stdin", true, "read the password from the first line of stdin (the default)")
	pos, err := parseInterleaved(fs, args[1:])
	if err != nil {
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
	need := func(n int) error {
		if len(pos) != n {
			fmt.Fprint(stderr, userUsage)
			return fmt.Errorf("user %s: expected %d argument(s)", sub, n)
		}
		return nil
	}
	switch sub {
	case "add":
		if err := need(1); err != nil {
			return err
		}
		q := int64(cfg.Users.DefaultQuota)
		if *quota != "" {
			if q, err = parseByteSize(*quota); err != nil {
				return fmt.Errorf("--quota: %w", err)
			}
		}
		if *hash != "" {
			u, err := e.ImportUser(ctx, pos[0], *hash, q)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "added %s (id %d)\n", u.Name, u.ID)
			return nil
		}
		pw, err := readPassword(stdin)
		if err != nil {
			return err
		}
		u, err := e.CreateUser(ctx, pos[0], pw, q)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "added %s (id %d)\n", u.Name, u.ID)
	case "list":
		users, err := e.Meta().Users(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tUSER\tQUOTA USED\tQUOTA\tMESSAGES\tADDRESSES")
		for _, u := range users {
			q, err := e.Quota(ctx, u.ID)
			if err != nil {
				return err
			}
			addrs, err := e.Meta().Addresses(ctx, u.ID)
			if err != nil {
				return err
			}
			names := make([]string, len(addrs))
			for i, a := range addrs {
				names[i] = a.Address
			}
			limit := "unlimited"
			if q.Limit > 0 {
				limit = ByteSize(q.Limit).String()
			}
			fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%d\t%s\n", u.ID, u.Name, q.Used, limit, q.Messages, strings.Join(names, ","))
		}
		return tw.Flush()
	case "passwd":
		if err := need(1); err != nil {
			return err
		}
		pw, err := readPassword(stdin)
		if err != nil {
			return err
		}
		if err := e.SetPassword(ctx, pos[0], pw); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "password changed")
	case "delete":
		if err := need(1); err != nil {
			return err
		}
		if err := e.DeleteUser(ctx, pos[0]); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "deleted", pos[0])
	case "alias":
		if err := need(2); err != nil {
			return err
		}
		u, err := e.UserByName(ctx, pos[0])
		if err != nil {
			return err
		}
		if err := e.AddAlias(ctx, u.ID, pos[1]); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "alias added")
	default:
		fmt.Fprint(stderr, userUsage)
		return fmt.Errorf("user: unknown subcommand %q", sub)
	}
	return nil
}

// readPassword reads the first line of r: scripts pipe passwords in, and a
// password never appears in a process list.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && line == "" {
		return "", errors.New("password: expected one line on stdin")
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", errors.New("password: empty")
	}
	return pw, nil
}
