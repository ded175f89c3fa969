package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// dovecot is a private Dovecot instance: its own config file, base_dir,
// state_dir, logs, users and maildirs in a temporary directory. The system's
// /etc/dovecot is never read or written (`dovecot -c FILE`).
type dovecot struct {
	dir     string
	ports   ports
	opts    dovecotOptions
	version string
	proc    *child
}

// dovecotOptions are the parts of the config that depend on the run.
type dovecotOptions struct {
	Hibernate bool // move idle IMAP sessions to imap-hibernate after 5 s
	// MaxIMAP is the number of concurrent IMAP sessions the config must
	// allow (the idle scenario's connections plus some room).
	MaxIMAP int
}

func newDovecot(dir string, p ports, o dovecotOptions) *dovecot {
	return &dovecot{dir: dir, ports: p, opts: o}
}

func (d *dovecot) Name() string       { return "Dovecot" }
func (d *dovecot) Ports() ports       { return d.ports }
func (d *dovecot) MailStore() string  { return filepath.Join(d.dir, "mail") }
func (d *dovecot) ConfigFile() string { return filepath.Join(d.dir, "dovecot.conf") }

// WarningLog is log_path; routine lines go to info_log_path.
func (d *dovecot) WarningLog() string { return filepath.Join(d.dir, "dovecot.log") }

func (d *dovecot) PID() int {
	if d.proc == nil {
		return 0
	}
	return d.proc.pid()
}

func (d *dovecot) Version() string {
	if d.version == "" {
		out, err := exec.Command("dovecot", "--version").Output()
		if err != nil {
			return "unknown"
		}
		d.version = strings.TrimSpace(string(out))
		if pkg, err := exec.Command("dpkg-query", "-W", "-f=${Version}", "dovecot-core").Output(); err == nil {
			d.version += " (Debian package " + strings.TrimSpace(string(pkg)) + ")"
		}
	}
	return d.version
}

func (d *dovecot) Describe() string {
	mode := "default process-per-connection IMAP"
	if d.opts.Hibernate {
		mode = "IMAP sessions idle for 5 s move to imap-hibernate (`imap_hibernate_timeout = 5s`)"
	}
	return "Dovecot with a private config (`dovecot -F -c FILE`), maildir with its indexes inside it " +
		"(`mail_location = maildir:~/Maildir`), passwd-file users, `ssl = no`, " +
		"`disable_plaintext_auth = no`, login processes in high-performance mode (`service_count = 0`), " +
		mode + ". Defaults otherwise, including `mail_fsync = optimized` (every delivered maildir file is " +
		"fsynced before LMTP's 250)."
}

// ensureDovecot installs Debian's Dovecot packages when the dovecot binary
// is missing. The packages' own service is never started here (there is no
// init system to start it), and their /etc/dovecot is left as installed.
func ensureDovecot(ctx context.Context, logf func(string, ...any)) error {
	if _, err := exec.LookPath("dovecot"); err == nil {
		return nil
	}
	pkgs := []string{"dovecot-imapd", "dovecot-pop3d", "dovecot-lmtpd"}
	logf("installing %s from Debian's packages", strings.Join(pkgs, " "))
	apt := func(args ...string) error {
		// Wait for a dpkg lock held by another apt-get instead of failing.
		cmd := exec.CommandContext(ctx, "apt-get", append([]string{"-o", "DPkg::Lock::Timeout=300"}, args...)...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("apt-get %s: %w\n%s", strings.Join(args, " "), err, tail(out, 1500))
		}
		return nil
	}
	if err := apt(append([]string{"install", "-y", "-qq"}, pkgs...)...); err != nil {
		if uerr := apt("update", "-qq"); uerr != nil {
			return uerr
		}
		if err := apt(append([]string{"install", "-y", "-qq"}, pkgs...)...); err != nil {
			return err
		}
	}
	if _, err := exec.LookPath("dovecot"); err != nil {
		return fmt.Errorf("dovecot is still not on PATH after installing %v: %w", pkgs, err)
	}
	return nil
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// mailIdentity is the uid/gid Dovecot's mail processes run as. Dovecot
// refuses to access mail as root, so a root run uses nobody.
type mailIdentity struct {
	UID, GID int
	// Internal and Login are the users of Dovecot's own processes; empty
	// keeps the package's dovecot and dovenull users (a root run).
	Internal, Login string
}

func currentMailIdentity() (mailIdentity, error) {
	if os.Geteuid() != 0 {
		u, err := user.Current()
		if err != nil {
			return mailIdentity{}, err
		}
		return mailIdentity{UID: os.Getuid(), GID: os.Getgid(), Internal: u.Username, Login: u.Username}, nil
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		return mailIdentity{}, fmt.Errorf("a root run stores mail as nobody: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return mailIdentity{UID: uid, GID: gid}, nil
}

type dovecotConfigData struct {
	Dir       string
	Ports     ports
	ID        mailIdentity
	Hibernate bool
	// Limits derived from the number of IMAP sessions to allow.
	IMAPProcesses      int
	ClientLimit        int
	HibernateProcesses int
	HibernateClients   int
}

// dovecotConfigTemplate is the whole private configuration. Nothing is
// included from /etc/dovecot.
var dovecotConfigTemplate = template.Must(template.New("dovecot.conf").Parse(`# Private Dovecot instance for perf/run; nothing here comes from /etc/dovecot.
instance_name = eider-perf-dovecot
base_dir = {{.Dir}}/run
state_dir = {{.Dir}}/state
log_path = {{.Dir}}/dovecot.log
info_log_path = {{.Dir}}/dovecot-info.log
{{- if .ID.Internal}}
default_internal_user = {{.ID.Internal}}
default_login_user = {{.ID.Login}}
{{- end}}
protocols = imap pop3 lmtp
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login

mail_location = maildir:~/Maildir
mail_uid = {{.ID.UID}}
mail_gid = {{.ID.GID}}
first_valid_uid = 1
first_valid_gid = 1

# Room for the idle scenario: one imap process per session (until it
# hibernates), and every service that each of them talks to (log, anvil,
# stats, auth) must accept that many clients. Each process stays below the
# per-process open-files limit.
default_process_limit = 100
default_client_limit = {{.ClientLimit}}

passdb {
  driver = passwd-file
  args = username_format=%u {{.Dir}}/users
}
userdb {
  driver = passwd-file
  args = username_format=%u {{.Dir}}/users
}

protocol imap {
  # The bench opens thousands of sessions per user from a few addresses.
  mail_max_userip_connections = 1000000
}

service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = {{.Ports.IMAP}}
  }
  inet_listener imaps {
    port = 0
  }
  # High-performance login mode: a few long-lived login processes instead of
  # a fork per connection, as busy installations run it.
  service_count = 0
  process_min_avail = 2
}

service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = {{.Ports.POP3}}
  }
  inet_listener pop3s {
    port = 0
  }
  service_count = 0
  process_min_avail = 1
}

service lmtp {
  unix_listener lmtp {
    mode = 0600
  }
  inet_listener lmtp {
    address = 127.0.0.1
    port = {{.Ports.LMTP}}
  }
}

service imap {
  process_limit = {{.IMAPProcesses}}
{{- if .Hibernate}}
  # imap-hibernate hands sessions back through imap-master.
  unix_listener imap-master {
    user = $default_internal_user
  }
  extra_groups = $default_internal_group
{{- end}}
}
{{if .Hibernate}}
imap_hibernate_timeout = 5s
service imap-hibernate {
  unix_listener imap-hibernate {
    mode = 0660
    group = $default_internal_group
  }
  # A hibernated session holds its socket and its mailbox's inotify fd:
  # spread them over several processes to stay below the open-files limit.
  client_limit = {{.HibernateClients}}
  process_limit = {{.HibernateProcesses}}
}
{{- end}}
`))

func dovecotConfig(dir string, p ports, id mailIdentity, o dovecotOptions) (string, error) {
	n := max(o.MaxIMAP, 1000)
	data := dovecotConfigData{
		Dir: dir, Ports: p, ID: id, Hibernate: o.Hibernate,
		IMAPProcesses:    n + 200,
		ClientLimit:      n + 1000,
		HibernateClients: 4000,
	}
	data.HibernateProcesses = (n+data.HibernateClients-1)/data.HibernateClients + 1
	var b bytes.Buffer
	if err := dovecotConfigTemplate.Execute(&b, data); err != nil {
		return "", err
	}
	return b.String(), nil
}

// dovecotUsers is a passwd-file: every user gets the same password hash,
// the mail uid/gid and a home under the mail directory.
func dovecotUsers(mailDir string, users []string, passwordHash string, id mailIdentity) string {
	var b strings.Builder
	for _, u := range users {
		fmt.Fprintf(&b, "%s:{BLF-CRYPT}%s:%d:%d::%s::\n", u, passwordHash, id.UID, id.GID, filepath.Join(mailDir, u))
	}
	return b.String()
}

func (d *dovecot) Setup(ctx context.Context, users []string, passwordHash string) error {
	id, err := currentMailIdentity()
	if err != nil {
		return err
	}
	for _, sub := range []string{"run", "state", "mail"} {
		if err := os.MkdirAll(filepath.Join(d.dir, sub), 0o755); err != nil {
			return err
		}
	}
	// Mail processes run as the mail uid and must reach the maildirs.
	if err := os.Chmod(d.dir, 0o755); err != nil {
		return err
	}
	if err := os.Chown(d.MailStore(), id.UID, id.GID); err != nil {
		return err
	}
	conf, err := dovecotConfig(d.dir, d.ports, id, d.opts)
	if err != nil {
		return err
	}
	if err := os.WriteFile(d.ConfigFile(), []byte(conf), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(d.dir, "users"), []byte(dovecotUsers(d.MailStore(), users, passwordHash, id)), 0o644); err != nil {
		return err
	}
	// doveconf parses the file the way the server will; a mistake shows here
	// with a line number rather than as a server that never listens.
	if out, err := exec.CommandContext(ctx, "doveconf", "-c", d.ConfigFile(), "-n").CombinedOutput(); err != nil {
		return fmt.Errorf("doveconf -c %s: %w\n%s", d.ConfigFile(), err, tail(out, 2000))
	}
	return nil
}

func (d *dovecot) Start(ctx context.Context) error {
	p, err := startChild("dovecot", []string{"-F", "-c", d.ConfigFile()}, filepath.Join(d.dir, "dovecot-stderr.log"), nil)
	if err != nil {
		return err
	}
	d.proc = p
	for _, w := range []struct{ addr, greet string }{{d.ports.imap(), "* OK"}, {d.ports.lmtp(), "220"}, {d.ports.pop3(), "+OK"}} {
		if err := waitGreeting(ctx, w.addr, w.greet, 30*time.Second); err != nil {
			d.Stop()
			return fmt.Errorf("dovecot: %w (logs in %s)", err, d.dir)
		}
	}
	return nil
}

func (d *dovecot) Stop() error {
	if d.proc == nil {
		return nil
	}
	err := d.proc.stop(30 * time.Second)
	d.proc = nil
	return err
}
