package imap

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The protocol suite: each testdata/scenarios/*.txt file is a scripted
// exchange with a fresh server over real sockets.
//
//	# comment
//	!appendlimit N          server option (before the first step)
//	!quota N                the user's quota in bytes (before the first step)
//	!login-disabled         keep LOGINDISABLED on plaintext (before the first step)
//	!login [N]              connect session N (default 1), read the greeting, log in
//	!append MBOX FILE [FLAG...]  store testdata/messages/FILE through the engine
//	C: line                 session 1 sends line and CRLF; C2: for session 2, ...
//	CR: text                sends text without CRLF; \r \n \\ \xHH are escapes
//	S: pattern              session 1's next line must match pattern
//	S: <closed>             the server closes session 1
//
// A pattern is literal text except {{regexp}} and {{name:regexp}}, which
// also captures; ${name} in later lines is replaced by what was captured.
//
// To write a scenario, run it with IMAP_SCENARIO_RECORD=1 and -v: lines
// that do not match are printed instead of failing, and "S: ?" prints
// everything up to the next tagged response.
func TestScenarios(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "scenarios", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".txt")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			runScenario(t, f)
		})
	}
}

type scenarioStep struct {
	line    int
	kind    string // C, CR, S, !login, !append
	session int
	text    string
}

var stepRE = regexp.MustCompile(`^(CR|C|S)(\d*):(?: (.*))?$`)

func runScenario(t *testing.T, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var opt serverOptions
	var steps []scenarioStep
	for i, raw := range strings.Split(string(data), "\n") {
		line := strings.TrimRight(raw, "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "!") {
			f := strings.Fields(line)
			switch f[0] {
			case "!appendlimit":
				n, _ := strconv.ParseInt(f[1], 10, 64)
				opt.cfg.AppendLimit = n
			case "!quota":
				opt.quota, _ = strconv.ParseInt(f[1], 10, 64)
			case "!login-disabled":
				opt.noPlain = true
			case "!login", "!append":
				steps = append(steps, scenarioStep{line: i + 1, kind: f[0], text: strings.Join(f[1:], " ")})
			default:
				t.Fatalf("%s:%d: unknown directive %s", path, i+1, f[0])
			}
			continue
		}
		m := stepRE.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("%s:%d: cannot parse %q", path, i+1, line)
		}
		n := 1
		if m[2] != "" {
			n, _ = strconv.Atoi(m[2])
		}
		steps = append(steps, scenarioStep{line: i + 1, kind: m[1], session: n, text: m[3]})
	}

	ts := newTestServer(t, opt)
	r := &scenarioRun{t: t, ts: ts, path: path, clients: map[int]*rawClient{}, vars: map[string]string{}}
	for _, st := range steps {
		switch st.kind {
		case "!login":
			n := 1
			if st.text != "" {
				n, _ = strconv.Atoi(st.text)
			}
			r.client(n).login()
		case "!append":
			f := strings.Fields(st.text)
			ts.appendMessage(f[0], readMessage(t, f[1]), f[2:]...)
		case "C":
			r.client(st.session).send(r.expand(st.text))
		case "CR":
			r.client(st.session).sendRaw([]byte(unescape(r.expand(st.text))))
		case "S":
			r.expectLine(st)
		}
	}
}

type scenarioRun struct {
	t       *testing.T
	ts      *testServer
	path    string
	clients map[int]*rawClient
	vars    map[string]string
}

func (r *scenarioRun) client(n int) *rawClient {
	c := r.clients[n]
	if c == nil {
		c = dialRaw(r.t, r.ts.addr)
		r.clients[n] = c
	}
	return c
}

var varRE = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`)

func (r *scenarioRun) expand(s string) string {
	return varRE.ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-1]
		v, ok := r.vars[name]
		if !ok {
			r.t.Fatalf("%s: variable %s not captured", r.path, name)
		}
		return v
	})
}

// compile turns a pattern into an anchored regexp and its capture names.
func (r *scenarioRun) compile(pattern string) (*regexp.Regexp, []string) {
	var b strings.Builder
	var names []string
	b.WriteString("^")
	rest := r.expand(pattern)
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			b.WriteString(regexp.QuoteMeta(rest))
			break
		}
		j := strings.Index(rest[i:], "}}")
		if j < 0 {
			r.t.Fatalf("%s: unclosed {{ in %q", r.path, pattern)
		}
		b.WriteString(regexp.QuoteMeta(rest[:i]))
		inner := rest[i+2 : i+j]
		if k := strings.Index(inner, ":"); k > 0 && regexp.MustCompile(`^[A-Za-z0-9_]+$`).MatchString(inner[:k]) {
			names = append(names, inner[:k])
			b.WriteString("(" + inner[k+1:] + ")")
		} else {
			b.WriteString("(?:" + inner + ")")
		}
		rest = rest[i+j+2:]
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	if err != nil {
		r.t.Fatalf("%s: pattern %q: %v", r.path, pattern, err)
	}
	return re, names
}

func (r *scenarioRun) match(pattern, line string) bool {
	re, names := r.compile(pattern)
	m := re.FindStringSubmatch(line)
	if m == nil {
		return false
	}
	for i, n := range names {
		r.vars[n] = m[i+1]
	}
	return true
}

func (r *scenarioRun) expectLine(st scenarioStep) {
	c := r.client(st.session)
	if st.text == "<closed>" {
		line, err := c.readLine(5 * time.Second)
		for err == nil {
			line, err = c.readLine(5 * time.Second)
		}
		if strings.Contains(err.Error(), "timeout") {
			r.t.Fatalf("%s:%d: session %d was not closed (last %q)", r.path, st.line, st.session, line)
		}
		return
	}
	if st.text == "?" && os.Getenv("IMAP_SCENARIO_RECORD") != "" {
		// Writing a scenario: print everything up to the tagged response.
		for {
			line, err := c.readLine(2 * time.Second)
			if err != nil {
				return
			}
			fmt.Printf("%s:%d: S%d: %s\n", filepath.Base(r.path), st.line, st.session, line)
			if tagged := line != "" && line[0] != '*' && line[0] != '+'; tagged &&
				(strings.Contains(line, " OK ") || strings.Contains(line, " NO ") || strings.Contains(line, " BAD ")) {
				return
			}
		}
	}
	line, err := c.readLine(5 * time.Second)
	if err != nil {
		r.t.Fatalf("%s:%d: session %d: waiting for %q: %v (partial %q)", r.path, st.line, st.session, st.text, err, line)
	}
	if os.Getenv("IMAP_SCENARIO_RECORD") != "" {
		// Writing a scenario: show what the server says instead of judging it.
		if !r.match(st.text, line) {
			fmt.Printf("%s:%d: S%d: %s\n", filepath.Base(r.path), st.line, st.session, line)
		}
		return
	}
	if !r.match(st.text, line) {
		r.t.Fatalf("%s:%d: session %d:\n got  %q\n want %q%s", r.path, st.line, st.session, line, st.text, r.drain(c))
	}
}

// drain shows what else the server sent, to make a failure readable.
func (r *scenarioRun) drain(c *rawClient) string {
	var b strings.Builder
	for {
		line, err := c.readLine(200 * time.Millisecond)
		if err != nil {
			break
		}
		fmt.Fprintf(&b, "\n then %q", line)
	}
	return b.String()
}

func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 'r':
			b.WriteByte('\r')
		case 'n':
			b.WriteByte('\n')
		case 'x':
			if i+2 < len(s) {
				if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
					b.WriteByte(byte(v))
					i += 2
					continue
				}
			}
			b.WriteByte('x')
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
