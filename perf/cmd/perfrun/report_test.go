package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sampleJSON follows the schema eider-bench documents.
const sampleJSON = `{"mode":"lmtp","target":"127.0.0.1:2424","started":"2026-11-28T21:00:00Z","duration_s":4.0,
 "clients":4,"ops":1000,"errors":0,"consistency_errors":0,"consistency_samples":[],"bytes":2048000,
 "ops_per_s":250.0,"mb_per_s":0.512,"commands":{"DATA":{"count":1000,"errors":0,"per_s":250,"p50_ms":3.5,
 "p90_ms":5,"p99_ms":9.25,"p999_ms":20,"max_ms":31},"RCPT":{"count":1000,"errors":0,"per_s":250,"p50_ms":0.2,
 "p90_ms":0.3,"p99_ms":0.9,"p999_ms":1,"max_ms":2}},"rss_before_bytes":0,"rss_after_bytes":0,
 "rss_per_conn_bytes":0,"conns":0,"messages":1000,"msgs_per_s":250.0}`

func TestParseBenchReport(t *testing.T) {
	r, err := parseBenchReport([]byte(sampleJSON))
	if err != nil {
		t.Fatal(err)
	}
	if r.Mode != "lmtp" || r.Messages != 1000 || r.messagesPerS() != 250 || r.Commands["DATA"].P99 != 9.25 {
		t.Fatalf("decoded %+v", r)
	}
	if got := r.mainCommand("DATA"); got != "DATA" {
		t.Fatalf("main command %q", got)
	}
	if got := r.mainCommand("NOOP"); got != "DATA" { // a tie goes to the first name
		t.Fatalf("main command without a preference: %q", got)
	}
	for _, bad := range []string{"", "{", `{"ops":3}`, `{"mode":"imap","ops":-1}`} {
		if _, err := parseBenchReport([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestVerdictReadsOneWay(t *testing.T) {
	for _, tc := range []struct {
		e, d float64
		b    better
		want string
	}{
		{180, 100, higher, "Eider is **1.80x faster**"},
		{50, 100, higher, "Eider is **2.00x slower** than Dovecot: it reaches 0.50x"},
		{40, 100, lower, "Eider needs **0.40x** what Dovecot needs"},
		{250, 100, lower, "Eider needs **2.50x** what Dovecot needs"},
	} {
		got := verdict("x", tc.e, tc.d, tc.b)
		if !strings.Contains(got, tc.want) {
			t.Errorf("verdict(%v, %v) = %q; want it to contain %q", tc.e, tc.d, got, tc.want)
		}
	}
	if verdict("x", 1, 0, higher) != "" || ratio(1, 0) != "—" {
		t.Error("a ratio over zero was stated")
	}
}

// TestReportsFromResults renders the files of a small run from recorded
// outcomes and checks what a reader relies on: the ratio, the commands that
// ran, the raw JSON links and a failure stated as such.
func TestReportsFromResults(t *testing.T) {
	e, err := parseBenchReport([]byte(sampleJSON))
	if err != nil {
		t.Fatal(err)
	}
	d := *e
	d.MsgsPerS, d.MBPerS = 125, 0.256
	out := t.TempDir()
	r := &runner{
		o:    options{Out: out, Date: "2026-11-28", Users: 20, BcryptCost: 4, SmallMessages: 1000, SmallSize: 2048, LMTPConns: 4},
		scen: []scenario{{"lmtp-2k", "LMTP ingest, 2 KB messages"}, {"disk", "on-disk size of the delivered corpus"}},
		results: map[string]map[string]*outcome{
			"lmtp-2k": {
				"eider":   {Report: e, RawJSON: "2026-11-28-lmtp-2k-eider.json", Commands: []string{"eider-bench lmtp --addr 127.0.0.1:1"}},
				"dovecot": {Report: &d, RawJSON: "2026-11-28-lmtp-2k-dovecot.json", Commands: []string{"eider-bench lmtp --addr 127.0.0.1:2"}},
			},
			"disk": {
				"eider":   {Disk: &diskResult{Total: diskUsage{Files: 3, Allocated: 3 << 20, Apparent: 3 << 20}, RawBytes: 2 << 20}},
				"dovecot": {Err: errTest("dovecot went away")},
			},
		},
		info: map[string]serverInfo{
			"eider":   {Name: "Eider", Version: "v0-test", ConfigName: "eider.toml", Config: "data_dir = \"x\"\n"},
			"dovecot": {Name: "Dovecot", Version: "2.3.19.1", ConfigName: "dovecot.conf", Config: "ssl = no\n"},
		},
	}
	paths, err := r.writeReports()
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 5 { // two configs, two scenarios, the summary
		t.Fatalf("wrote %v", paths)
	}
	lmtp, err := os.ReadFile(filepath.Join(out, "2026-11-28-lmtp-2k.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Eider is **2.00x faster** than Dovecot (messages/s 250 vs 125)",
		"| messages/s | 250 | 125 | 2.00x | higher |",
		"| DATA p99 ms | 9.25 | 9.25 | 1.00x | lower |",
		"`eider-bench lmtp --addr 127.0.0.1:1`",
		"[raw/2026-11-28-lmtp-2k-dovecot.json](raw/2026-11-28-lmtp-2k-dovecot.json)",
		"[raw/2026-11-28-dovecot.conf]",
	} {
		if !strings.Contains(string(lmtp), want) {
			t.Errorf("lmtp report lacks %q:\n%s", want, lmtp)
		}
	}
	disk, err := os.ReadFile(filepath.Join(out, "2026-11-28-disk.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"no comparison: Dovecot failed", "Dovecot failed: `dovecot went away`", "| allocated / delivered | 1.50 | 0 | — | lower |"} {
		if !strings.Contains(string(disk), want) {
			t.Errorf("disk report lacks %q:\n%s", want, disk)
		}
	}
}

type errTest string

func (e errTest) Error() string { return string(e) }

func TestShellJoin(t *testing.T) {
	got := shellJoin([]string{"eider-bench", "imap", "--user-format", "bench%d@example.test", "--mix", "a=1,b='2'"})
	want := `eider-bench imap --user-format 'bench%d@example.test' --mix 'a=1,b='\''2'\'''`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestThinKeepsTheEndOfTheTrace(t *testing.T) {
	var trace []memSample
	for i := range 100 {
		trace = append(trace, memSample{Conns: i})
	}
	got := thin(trace, 24)
	if len(got) != 24 || got[0].Conns != 0 || got[21].Conns != 97 || got[23].Conns != 99 {
		t.Fatalf("thin kept %v", got)
	}
	if len(thin(trace[:10], 24)) != 10 {
		t.Fatal("a short trace was thinned")
	}
}

func FuzzParseBenchReport(f *testing.F) {
	f.Add([]byte(sampleJSON))
	f.Add([]byte(`{"mode":"idle","conns":10000,"rss_per_conn_bytes":1200}`))
	f.Add([]byte(`{"mode":"imap","commands":{"":{}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := parseBenchReport(data)
		if err != nil {
			return
		}
		if r.Mode == "" || r.Ops < 0 || r.Errors < 0 {
			t.Fatalf("accepted %+v", r)
		}
		r.mainCommand("DATA")
		r.messagesPerS()
	})
}
