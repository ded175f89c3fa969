package lmtp_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/eidermail/eider/engine"
	"github.com/eidermail/eider/internal/testkit"
)

// lmtpScript drives one transaction with Python's smtplib.LMTP. smtplib's
// data() reads only the first reply after the message; the others (RFC 2033
// 4.2: one per accepted recipient) are read with getreply().
const lmtpScript = `
import base64, json, smtplib, sys

cfg = json.load(sys.stdin)
msg = base64.b64decode(cfg["message"])
s = smtplib.LMTP()
s.connect(cfg["host"], cfg["port"])
out = {}
code, _ = s.ehlo("client.test")
out["lhlo"] = code
out["features"] = sorted(s.esmtp_features.keys())
opts = []
if cfg.get("size"):
    opts.append("SIZE=%d" % len(msg))
if cfg.get("smtputf8"):
    opts.append("SMTPUTF8")
code, text = s.mail(cfg["from"], opts)
out["mail"] = [code, text.decode("utf-8", "replace")]
out["rcpt"] = []
accepted = 0
for r in cfg["rcpts"]:
    code, text = s.rcpt(r)
    out["rcpt"].append([code, text.decode("utf-8", "replace")])
    if code == 250:
        accepted += 1
out["data"] = []
if accepted:
    code, text = s.data(msg)
    out["data"].append([code, text.decode("utf-8", "replace")])
    for _ in range(accepted - 1):
        code, text = s.getreply()
        out["data"].append([code, text.decode("utf-8", "replace")])
code, _ = s.docmd("QUIT")
out["quit"] = code
s.close()
print(json.dumps(out))
`

type lmtpRun struct {
	LHLO     int      `json:"lhlo"`
	Features []string `json:"features"`
	Mail     []any    `json:"mail"`
	Rcpt     [][]any  `json:"rcpt"`
	Data     [][]any  `json:"data"`
	Quit     int      `json:"quit"`
}

func runLMTP(t *testing.T, v *env, from string, rcpts []string, msg []byte, size, smtputf8 bool) lmtpRun {
	t.Helper()
	host, port, _ := strings.Cut(v.lmtpAddr, ":")
	var p int
	fmt.Sscan(port, &p)
	var out lmtpRun
	testkit.Python(t, lmtpScript, map[string]any{
		"host": host, "port": p, "from": from, "rcpts": rcpts,
		"message": base64.StdEncoding.EncodeToString(msg), "size": size, "smtputf8": smtputf8,
	}, &out)
	return out
}

// replyCode checks a [code, text] pair from the script.
func replyCode(t *testing.T, what string, r []any, code int, enhanced string) {
	t.Helper()
	got := int(r[0].(float64))
	text := r[1].(string)
	if got != code || !strings.HasPrefix(text, enhanced) {
		t.Errorf("%s: got %d %q, want %d %s", what, got, text, code, enhanced)
	}
}

// testMessage has CRLF lines, a line starting with a dot (stuffed by the
// client, unstuffed by the server) and UTF-8 in its body.
func testMessage(subject string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: Sender <sender@remote.test>\r\nTo: many@example.com\r\nSubject: %s\r\n", subject)
	b.WriteString("Message-ID: <" + subject + "@remote.test>\r\nMIME-Version: 1.0\r\n")
	b.WriteString("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	b.WriteString("Grüße aus der Testsuite.\r\n.leading dot line\r\n..two dots\r\n")
	for i := range 30 {
		fmt.Fprintf(&b, "line %02d of the body, long enough to make the message a couple of kilobytes\r\n", i)
	}
	return b.Bytes()
}

func prefixed(from, rcpt string, msg []byte) []byte {
	return append([]byte("Return-Path: <"+from+">\r\nDelivered-To: "+rcpt+"\r\n"), msg...)
}

// TestPythonLMTPRecipients delivers to 1, 10 and 100 recipients with
// smtplib.LMTP, some unknown and one over quota, checks every reply, and
// reads the stored copies back byte for byte through the engine and POP3.
func TestPythonLMTPRecipients(t *testing.T) {
	v := newEnv(t, envOptions{})
	const from = "sender@remote.test"
	users := make([]engine.User, 100)
	for i := range users {
		users[i] = v.user(fmt.Sprintf("u%02d@example.com", i), 0)
	}
	tiny := v.user("tiny@example.com", 100)

	type want struct {
		addr  string
		user  *engine.User // nil: unknown
		quota bool         // over quota
	}
	cases := []struct {
		name  string
		size  bool // declare SIZE: over quota is refused at RCPT
		rcpts []want
	}{
		{"one", false, []want{{addr: "u00@example.com", user: &users[0]}}},
		{"ten", false, func() []want {
			w := []want{
				{addr: "nobody@example.com"},
				{addr: "U03+lists@EXAMPLE.com", user: &users[3]}, // label and case
				{addr: "tiny@example.com", user: &tiny, quota: true},
			}
			for i := 4; i < 10; i++ {
				w = append(w, want{addr: fmt.Sprintf("u%02d@example.com", i), user: &users[i]})
			}
			return append(w, want{addr: "ghost@example.com"})
		}()},
		{"hundred", true, func() []want {
			var w []want
			for i := range 95 {
				w = append(w, want{addr: fmt.Sprintf("u%02d@example.com", i+5), user: &users[(i+5)%100]})
			}
			w[10].addr, w[10].user = "u99@example.com", &users[99]
			w = append(w, want{addr: "tiny@example.com", user: &tiny, quota: true})
			for i := range 4 {
				w = append(w, want{addr: fmt.Sprintf("unknown%d@example.com", i)})
			}
			return w
		}()},
	}
	expected := map[engine.UserID][][]byte{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			msg := testMessage(c.name)
			var addrs []string
			for _, r := range c.rcpts {
				addrs = append(addrs, r.addr)
			}
			out := runLMTP(t, v, from, addrs, msg, c.size, false)
			if out.LHLO != 250 || out.Quit != 221 {
				t.Errorf("LHLO %d, QUIT %d", out.LHLO, out.Quit)
			}
			for _, f := range []string{"pipelining", "8bitmime", "smtputf8", "enhancedstatuscodes", "chunking", "size"} {
				if !strings.Contains(strings.Join(out.Features, " "), f) {
					t.Errorf("LHLO does not advertise %s: %v", f, out.Features)
				}
			}
			replyCode(t, "MAIL", out.Mail, 250, "2.1.0")
			var accepted []want
			for i, r := range c.rcpts {
				switch {
				case r.user == nil:
					replyCode(t, "RCPT "+r.addr, out.Rcpt[i], 550, "5.1.1")
				case r.quota && c.size:
					replyCode(t, "RCPT "+r.addr, out.Rcpt[i], 552, "5.2.2")
				default:
					replyCode(t, "RCPT "+r.addr, out.Rcpt[i], 250, "2.1.5")
					accepted = append(accepted, r)
				}
			}
			if len(out.Data) != len(accepted) {
				t.Fatalf("%d replies after DATA for %d accepted recipients", len(out.Data), len(accepted))
			}
			for i, r := range accepted {
				if r.quota {
					replyCode(t, "after DATA "+r.addr, out.Data[i], 552, "5.2.2")
					continue
				}
				replyCode(t, "after DATA "+r.addr, out.Data[i], 250, "2.0.0")
				expected[r.user.ID] = append(expected[r.user.ID], prefixed(from, r.addr, msg))
			}
		})
	}
	if t.Failed() {
		return
	}
	for _, u := range users {
		got := v.messages(u.ID, "INBOX")
		want := expected[u.ID]
		if len(got) != len(want) {
			t.Fatalf("%s has %d messages, want %d", u.Name, len(got), len(want))
		}
		for i := range got {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("%s message %d differs from what was delivered:\n%q\nwant\n%q", u.Name, i+1, got[i], want[i])
			}
		}
	}
	if n := v.count(tiny.ID, "INBOX"); n != 0 {
		t.Fatalf("the over-quota recipient got %d messages", n)
	}
	// The label of u03+lists@ is kept and searchable.
	if hits := v.search(users[3].ID, "delivered-to", "+lists"); hits.GetCardinality() != 1 {
		t.Fatalf("Delivered-To label not searchable: %v", hits)
	}
	// Over POP3, byte for byte.
	for _, u := range []engine.User{users[0], users[3], users[7], users[99]} {
		c := pop3Login(t, v.pop3Addr, u.Name, "secret")
		for i, want := range expected[u.ID] {
			if got := c.retr(i + 1); !bytes.Equal(got, want) {
				t.Fatalf("%s RETR %d differs:\n%q\nwant\n%q", u.Name, i+1, got, want)
			}
		}
		c.send("QUIT\r\n")
		c.line()
	}
}

// TestPythonLMTPSMTPUTF8: a UTF-8 local part is refused without SMTPUTF8
// and delivered with it; the Unicode and punycode spellings of a domain
// reach the same user.
func TestPythonLMTPSMTPUTF8(t *testing.T) {
	v := newEnv(t, envOptions{})
	ctx := t.Context()
	u := v.user("jörg@münchen.example", 0)
	if err := v.e.AddAlias(ctx, u.ID, "info@xn--mnchen-3ya.example"); err != nil {
		t.Fatal(err)
	}
	msg := testMessage("utf8")
	// smtplib itself refuses a UTF-8 address without SMTPUTF8; the raw
	// client below checks the server's side of that rule.
	out := runLMTP(t, v, "sender@remote.test", []string{"jörg@münchen.example", "INFO@xn--mnchen-3ya.example", "info@münchen.example"}, msg, true, true)
	replyCode(t, "MAIL SMTPUTF8", out.Mail, 250, "2.1.0")
	for i := range 3 {
		replyCode(t, "RCPT", out.Rcpt[i], 250, "2.1.5")
		replyCode(t, "after DATA", out.Data[i], 250, "2.0.0")
	}
	got := v.messages(u.ID, "INBOX")
	if len(got) != 3 || !bytes.Equal(got[0], prefixed("sender@remote.test", "jörg@münchen.example", msg)) {
		t.Fatalf("stored %d messages; first %q", len(got), got[0])
	}

	// A raw client sending a UTF-8 local part without SMTPUTF8 gets 553 5.6.7.
	c := dial(t, v.lmtpAddr)
	c.lhlo()
	c.send("MAIL FROM:<sender@remote.test>\r\n")
	c.expect(250, "2.1.0")
	c.send("RCPT TO:<jörg@münchen.example>\r\n")
	c.expect(553, "5.6.7")
	c.send("MAIL FROM:<jörg@münchen.example>\r\n")
	c.expect(503, "5.5.1")
	c.send("RSET\r\nMAIL FROM:<jörg@münchen.example>\r\n")
	c.expect(250, "2.0.0")
	c.expect(553, "5.6.7")
}
