package pop3_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eidermail/eider/edge/pop3"
	"github.com/eidermail/eider/internal/testkit"
)

// poplibScript runs a full session with Python's poplib: capabilities,
// login (USER/PASS or AUTH PLAIN), STAT, LIST, UIDL, RETR of every
// message, TOP, DELE of the first, QUIT.
const poplibScript = `
import base64, json, poplib, ssl, sys

cfg = json.load(sys.stdin)
ctx = None
if cfg["mode"] != "plain":
    ctx = ssl.create_default_context(cafile=cfg["cafile"])
if cfg["mode"] == "tls":
    p = poplib.POP3_SSL(cfg["host"], cfg["port"], context=ctx)
else:
    p = poplib.POP3(cfg["host"], cfg["port"])
out = {"welcome": p.getwelcome().decode()}
out["capa"] = sorted(p.capa().keys())
if cfg["mode"] == "stls":
    p.stls(context=ctx)
    out["capa_tls"] = sorted(p.capa().keys())
if cfg["auth"] == "plain":
    tok = base64.b64encode(b"\0" + cfg["user"].encode() + b"\0" + cfg["pass"].encode()).decode()
    out["login"] = p._shortcmd("AUTH PLAIN " + tok).decode()
else:
    p.user(cfg["user"])
    out["login"] = p.pass_(cfg["pass"]).decode()
count, size = p.stat()
out["stat"] = [count, size]
out["list"] = [l.decode() for l in p.list()[1]]
out["uidl"] = [l.decode() for l in p.uidl()[1]]
out["retr"] = []
for i in range(1, count + 1):
    resp, lines, octets = p.retr(i)
    out["retr"].append(base64.b64encode(b"\r\n".join(lines) + b"\r\n").decode())
resp, lines, octets = p.top(1, 1)
out["top"] = base64.b64encode(b"\r\n".join(lines) + b"\r\n").decode()
out["dele"] = p.dele(1).decode()
out["noop"] = p.noop().decode()
out["quit"] = p.quit().decode()
print(json.dumps(out))
`

type poplibRun struct {
	Welcome string   `json:"welcome"`
	Capa    []string `json:"capa"`
	CapaTLS []string `json:"capa_tls"`
	Login   string   `json:"login"`
	Stat    []int64  `json:"stat"`
	List    []string `json:"list"`
	UIDL    []string `json:"uidl"`
	Retr    []string `json:"retr"`
	Top     string   `json:"top"`
	Dele    string   `json:"dele"`
	Noop    string   `json:"noop"`
	Quit    string   `json:"quit"`
}

// TestPoplib runs full poplib sessions over plaintext, STLS and implicit
// TLS, with USER/PASS and AUTH PLAIN, and checks what the store looks like
// afterwards: the deleted message gone, the retrieved ones \Seen.
func TestPoplib(t *testing.T) {
	for _, mode := range []string{"plain", "stls", "tls"} {
		for _, auth := range []string{"user", "plain"} {
			t.Run(mode+"/"+auth, func(t *testing.T) {
				v := newEnv(t, pop3.Config{AllowPlaintextAuth: mode == "plain"})
				u := v.user("pop@example.com")
				msgs := [][]byte{message(1), message(2), message(3)}
				uids := v.appendMsgs(u, msgs...)
				mb := v.inbox(u)
				addr := v.plain
				if mode == "tls" {
					addr = v.tls
				}
				host, port := hostPort(t, addr)
				var out poplibRun
				testkit.Python(t, poplibScript, map[string]any{
					"host": host, "port": port, "mode": mode, "cafile": v.caFile,
					"user": u.Name, "pass": "secret", "auth": auth,
				}, &out)

				capa := out.Capa
				if mode == "stls" {
					if !slices.Contains(capa, "STLS") || slices.Contains(capa, "USER") {
						t.Errorf("cleartext CAPA %v: want STLS, no USER", capa)
					}
					capa = out.CapaTLS
				}
				for _, c := range []string{"TOP", "UIDL", "USER", "SASL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "UTF8"} {
					if !slices.Contains(capa, c) {
						t.Errorf("CAPA %v lacks %s", capa, c)
					}
				}
				if slices.Contains(capa, "STLS") && mode != "plain" {
					t.Errorf("STLS offered under TLS: %v", capa)
				}
				var total int64
				for _, m := range msgs {
					total += int64(len(m))
				}
				if out.Stat[0] != 3 || out.Stat[1] != total {
					t.Errorf("STAT %v, want 3 %d", out.Stat, total)
				}
				for i, m := range msgs {
					if want := fmt.Sprintf("%d %d", i+1, len(m)); out.List[i] != want {
						t.Errorf("LIST line %q, want %q", out.List[i], want)
					}
					if want := fmt.Sprintf("%d %d.%d", i+1, mb.UIDValidity, uids[i]); out.UIDL[i] != want {
						t.Errorf("UIDL line %q, want %q", out.UIDL[i], want)
					}
					got, _ := base64.StdEncoding.DecodeString(out.Retr[i])
					if !bytes.Equal(got, m) {
						t.Errorf("RETR %d: %q, want %q", i+1, got, m)
					}
				}
				top, _ := base64.StdEncoding.DecodeString(out.Top)
				if want := "From: s@remote.test\r\nTo: u@example.com\r\nSubject: message 1\r\n\r\nfirst body line\r\n"; string(top) != want {
					t.Errorf("TOP 1 1: %q", top)
				}
				if !strings.HasPrefix(out.Quit, "+OK") {
					t.Errorf("QUIT: %q", out.Quit)
				}
				all, seen := v.state(u, "INBOX")
				if !slices.Equal(all, []uint32{uint32(uids[1]), uint32(uids[2])}) || !slices.Equal(seen, all) {
					t.Errorf("after QUIT: messages %v, seen %v", all, seen)
				}
			})
		}
	}
}

// TestCurl runs curl's POP3 client over plaintext, STLS and POP3S, when
// curl is installed.
func TestCurl(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed: command -v curl finds nothing")
	}
	v := newEnv(t, pop3.Config{AllowPlaintextAuth: true})
	u := v.user("curl@example.com")
	msgs := [][]byte{message(1), message(5)}
	uids := v.appendMsgs(u, msgs...)
	mb := v.inbox(u)
	curl := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		args = append([]string{"-sS", "--max-time", "20", "-u", u.Name + ":secret"}, args...)
		out, err := exec.CommandContext(ctx, "curl", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("curl %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	plain := "pop3://" + v.plain
	if got := curl(plain + "/"); got != fmt.Sprintf("1 %d\r\n2 %d\r\n", len(msgs[0]), len(msgs[1])) {
		t.Errorf("curl LIST: %q", got)
	}
	if got := curl(plain + "/2"); got != string(msgs[1]) {
		t.Errorf("curl RETR 2: %q", got)
	}
	if got := curl("-X", "UIDL", plain+"/"); got != fmt.Sprintf("1 %d.%d\r\n2 %d.%d\r\n", mb.UIDValidity, uids[0], mb.UIDValidity, uids[1]) {
		t.Errorf("curl UIDL: %q", got)
	}
	if got := curl("--ssl-reqd", "--cacert", v.caFile, plain+"/1"); got != string(msgs[0]) {
		t.Errorf("curl STLS RETR 1: %q", got)
	}
	if got := curl("--sasl-ir", "--cacert", v.caFile, "pop3s://"+v.tls+"/1"); got != string(msgs[0]) {
		t.Errorf("curl POP3S RETR 1: %q", got)
	}
	// curl ends with QUIT: the retrieved messages are \Seen now.
	if _, seen := v.state(u, "INBOX"); len(seen) != 2 {
		t.Errorf("seen after curl sessions: %v", seen)
	}
}
