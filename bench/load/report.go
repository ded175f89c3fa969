package load

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"text/tabwriter"
)

// Report is the result of one run, in the JSON form perf/ scripts read.
// Field names are a contract: add fields, never rename them.
//
// Rates are over DurationS. MB is 10^6 bytes. Commands are keyed by the
// verb as sent on the wire: "UID FETCH" and "FETCH" are separate entries,
// as are "UID STORE", "UID SEARCH", "UID COPY", "UID MOVE" and
// "UID EXPUNGE"; LMTP and POP3 verbs are upper case ("RCPT", "RETR").
// "CONNECT" is not a verb: it is the TCP connect, the TLS handshake, the
// greeting and what the client says before its first counted command
// (STARTTLS with --starttls; LMTP's LHLO).
type Report struct {
	Mode               string                  `json:"mode"`
	Target             string                  `json:"target"`
	Started            string                  `json:"started"` // RFC 3339, UTC
	DurationS          float64                 `json:"duration_s"`
	Clients            int                     `json:"clients"`
	Ops                int64                   `json:"ops"`
	Errors             int64                   `json:"errors"`
	ConsistencyErrors  int64                   `json:"consistency_errors"`
	ConsistencySamples []string                `json:"consistency_samples"`
	Bytes              int64                   `json:"bytes"`
	OpsPerS            float64                 `json:"ops_per_s"`
	MBPerS             float64                 `json:"mb_per_s"`
	Commands           map[string]CommandStats `json:"commands"`
	RSSBeforeBytes     int64                   `json:"rss_before_bytes"`
	RSSAfterBytes      int64                   `json:"rss_after_bytes"`
	RSSPerConnBytes    int64                   `json:"rss_per_conn_bytes"`
	Conns              int                     `json:"conns"`

	// Beyond the base schema.
	WarmConns    int      `json:"warm_conns,omitempty"` // connections opened before RSSBeforeBytes was read
	Messages     int64    `json:"messages"`             // whole messages delivered or downloaded
	MsgsPerS     float64  `json:"msgs_per_s"`           // Messages over DurationS
	ErrorSamples []string `json:"error_samples"`
}

// CommandStats is the latency and outcome of one command name.
type CommandStats struct {
	Count  int64   `json:"count"`
	Errors int64   `json:"errors"`
	PerS   float64 `json:"per_s"`
	P50    float64 `json:"p50_ms"`
	P90    float64 `json:"p90_ms"`
	P99    float64 `json:"p99_ms"`
	P999   float64 `json:"p999_ms"`
	Max    float64 `json:"max_ms"`
}

// WriteTable prints the report for people: one line per command, then the
// totals and any samples of what went wrong.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "command\tcount\terrors\tops/s\tp50 ms\tp90 ms\tp99 ms\tp999 ms\tmax ms\t\n")
	names := make([]string, 0, len(r.Commands))
	for n := range r.Commands {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		c := r.Commands[n]
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t\n",
			n, c.Count, c.Errors, c.PerS, c.P50, c.P90, c.P99, c.P999, c.Max)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "%s %s: %.1f s, %d clients, %d ops (%.1f/s), %d errors, %d consistency errors",
		r.Mode, r.Target, r.DurationS, r.Clients, r.Ops, r.OpsPerS, r.Errors, r.ConsistencyErrors)
	if r.Bytes > 0 {
		fmt.Fprintf(w, ", %.1f MB (%.2f MB/s)", float64(r.Bytes)/1e6, r.MBPerS)
	}
	if r.Messages > 0 {
		fmt.Fprintf(w, ", %d messages (%.1f/s)", r.Messages, r.MsgsPerS)
	}
	fmt.Fprintln(w)
	if r.RSSAfterBytes > 0 {
		fmt.Fprintf(w, "server RSS %d -> %d bytes over %d connections (after %d warm-up ones): %d bytes per connection\n",
			r.RSSBeforeBytes, r.RSSAfterBytes, r.Conns-r.WarmConns, r.WarmConns, r.RSSPerConnBytes)
	}
	for _, s := range r.ConsistencySamples {
		fmt.Fprintf(w, "consistency: %s\n", s)
	}
	for _, s := range r.ErrorSamples {
		fmt.Fprintf(w, "error: %s\n", s)
	}
	return nil
}

// WriteJSONFile writes the report as indented JSON to path.
func (r *Report) WriteJSONFile(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
