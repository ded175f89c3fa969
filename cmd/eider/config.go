package main

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/eidermail/eider/engine"
)

// Config is eider.toml. Every key has a default (defaultConfig); the README
// documents each one.
type Config struct {
	DataDir   string          `toml:"data_dir"`
	Notify    string          `toml:"notify"` // local | redis
	Redis     RedisConfig     `toml:"redis"`
	Log       LogConfig       `toml:"log"`
	Storage   StorageConfig   `toml:"storage"`
	Ingest    IngestConfig    `toml:"ingest"`
	Addresses AddressesConfig `toml:"addresses"`
	Users     UsersConfig     `toml:"users"`
	Journal   JournalConfig   `toml:"journal"`
	GC        GCConfig        `toml:"gc"`
	TLS       TLSConfig       `toml:"tls"`
	Network   NetworkConfig   `toml:"network"`
	IMAP      IMAPConfig      `toml:"imap"`
	POP3      POP3Config      `toml:"pop3"`
	LMTP      LMTPConfig      `toml:"lmtp"`
	API       APIConfig       `toml:"api"`
	Metrics   MetricsConfig   `toml:"metrics"`
	Runtime   RuntimeConfig   `toml:"runtime"`

	// metrics is the registry serve measures into; nil for the operator
	// commands, which export nothing.
	metrics *prometheus.Registry
}

// APIConfig is the HTTP side: the JSON API, /healthz and, unless
// metrics.listen moves it, /metrics.
type APIConfig struct {
	Listen string `toml:"listen"` // host:port; "" turns the HTTP side off
	Pprof  bool   `toml:"pprof"`  // serve Go's profiler at /debug/pprof/ (keep api.listen private)
}

// MetricsConfig places the Prometheus endpoint.
type MetricsConfig struct {
	Listen string `toml:"listen"` // host:port of its own for /metrics; "" serves it on api.listen
}

// NetworkConfig is shared by every protocol listener.
type NetworkConfig struct {
	TrustedProxies      []string `toml:"trusted_proxies"` // CIDRs whose PROXY v1/v2 headers are believed
	MaxConnections      int      `toml:"max_connections"` // per protocol; 0 = unlimited
	MaxConnectionsPerIP int      `toml:"max_connections_per_ip"`
	MaxSessionsPerUser  int      `toml:"max_sessions_per_user"` // IMAP sessions of one user
	Workers             int      `toml:"workers"`               // store calls in flight; 0 = 8 per CPU
}

type IMAPConfig struct {
	Listen             []string `toml:"listen"`     // plaintext with STARTTLS
	ListenTLS          []string `toml:"listen_tls"` // implicit TLS
	AllowPlaintextAuth bool     `toml:"allow_plaintext_auth"`
}

type POP3Config struct {
	Listen             []string `toml:"listen"`
	ListenTLS          []string `toml:"listen_tls"`
	AllowPlaintextAuth bool     `toml:"allow_plaintext_auth"`
	MaxMessages        int      `toml:"max_messages"`    // newest INBOX messages in the maildrop
	DeleteToTrash      bool     `toml:"delete_to_trash"` // DELE moves to Trash instead of expunging
	MaildropLease      Duration `toml:"maildrop_lease"`  // cluster-wide maildrop lock, freed this long after a node dies
}

type LMTPConfig struct {
	Listen         []string `toml:"listen"`
	QuotaTemporary bool     `toml:"quota_temporary"` // over quota: 452 4.2.2 (retry) instead of 552 5.2.2
	MaxRecipients  int      `toml:"max_recipients"`
	// JunkHeaders are spam verdicts, "Header: substring" (case-insensitive):
	// a delivered message whose top-level header matches one is filed into
	// the recipient's Junk mailbox. [] files everything into INBOX.
	JunkHeaders []string `toml:"junk_headers"`
}

// junkRules parses lmtp.junk_headers.
func (c LMTPConfig) junkRules() ([]engine.JunkRule, error) {
	rules := make([]engine.JunkRule, 0, len(c.JunkHeaders))
	for i, h := range c.JunkHeaders {
		name, value, ok := strings.Cut(h, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" || value == "" || strings.ContainsAny(name, " \t") {
			return nil, fmt.Errorf("config: lmtp.junk_headers[%d]: %q is not \"Header: substring\"", i, h)
		}
		rules = append(rules, engine.JunkRule{Header: name, Contains: value})
	}
	return rules, nil
}

func defaultJunkHeaders() []string {
	var hs []string
	for _, r := range engine.DefaultJunkRules() {
		hs = append(hs, r.Header+": "+r.Contains)
	}
	return hs
}

// TLSConfig names the server certificate. With neither file set, a
// self-signed certificate is generated into <data_dir>/tls on first start.
type TLSConfig struct {
	Cert     string `toml:"cert"`
	Key      string `toml:"key"`
	Hostname string `toml:"hostname"` // for the self-signed certificate and greetings; default: the host name
}

type LogConfig struct {
	Level  string `toml:"level"`  // debug, info, warn, error
	Format string `toml:"format"` // text or json
	// Access logs one line per IMAP, POP3 and LMTP command (name, result,
	// duration) at info level.
	Access bool `toml:"access"`
	// AccessFetchBodies includes IMAP FETCHes of message content and POP3
	// RETR/TOP in the access log; off, downloads do not flood it.
	AccessFetchBodies bool `toml:"access_fetch_bodies"`
}

type StorageConfig struct {
	Meta    string        `toml:"meta"` // sqlite | mongodb
	Path    string        `toml:"path"` // SQLite file; default <data_dir>/meta.db
	MongoDB MongoDBConfig `toml:"mongodb"`
	Blobs   BlobsConfig   `toml:"blobs"`
}

// MongoDBConfig is the cluster's metadata store (storage.meta = "mongodb").
type MongoDBConfig struct {
	URI            string `toml:"uri"`
	Database       string `toml:"database"`
	ReadPreference string `toml:"read_preference"` // primary | primaryPreferred | secondaryPreferred | nearest
}

type BlobsConfig struct {
	Backend  string       `toml:"backend"`   // fs | gridfs
	Path     string       `toml:"path"`      // hot tier; default <data_dir>/blobs
	ColdPath string       `toml:"cold_path"` // cold tier; "" = no cold tier
	Sync     bool         `toml:"sync"`      // fsync each blob before its message commits
	Cold     ColdTier     `toml:"cold"`
	GridFS   GridFSConfig `toml:"gridfs"`
}

// GridFSConfig is the cluster's blob store (storage.blobs.backend =
// "gridfs"); empty uri and database mean storage.mongodb's, so blobs may
// live in another database or on another cluster (a cheaper disk tier).
type GridFSConfig struct {
	URI       string   `toml:"uri"`
	Database  string   `toml:"database"`
	Bucket    string   `toml:"bucket"`
	ChunkSize ByteSize `toml:"chunk_size"` // of new objects; a 256 KiB zstd frame spans one or two
}

// RedisConfig carries change beacons between nodes (notify = "redis").
type RedisConfig struct {
	URL            string   `toml:"url"`             // redis://, rediss://, redis-sentinel://, or cluster addresses
	Prefix         string   `toml:"prefix"`          // of every channel name
	PollInterval   Duration `toml:"poll_interval"`   // sessions poll their journal this often while Redis is down
	PublishTimeout Duration `toml:"publish_timeout"` // bound of one beacon on the commit path
}

// ColdTier is the policy that moves blobs to cold_path.
type ColdTier struct {
	MinSize  ByteSize `toml:"min_size"`
	MinAge   Duration `toml:"min_age"`
	Interval Duration `toml:"interval"` // how often serve migrates; 0 = never (run `eider blobs tier`)
}

// RuntimeConfig tunes Go's garbage collector for serve.
type RuntimeConfig struct {
	// GCPercent is the heap growth over the live heap that starts a
	// collection (GOGC); 0 keeps Go's (the GOGC variable, or 100). The
	// default 25 holds an idle IMAP connection in under 2 KB instead of
	// 3 KB for no CPU cost measured on mixed IMAP or LMTP load: Eider's live
	// heap is small and it allocates little per byte it moves.
	GCPercent int `toml:"gc_percent"`
	// MemoryLimit is a soft limit on the process's memory (GOMEMLIMIT):
	// the collector works harder as it nears it. 0 = none.
	MemoryLimit ByteSize `toml:"memory_limit"`
}

type IngestConfig struct {
	InlineMax      ByteSize `toml:"inline_max"`
	FrameSize      ByteSize `toml:"frame_size"`
	MaxMessageSize ByteSize `toml:"max_message_size"`
	MaxTextExtract ByteSize `toml:"max_text_extract"`
	// DictionarySamples is how many messages a store without a compression
	// dictionary samples to train one; 0 never trains.
	DictionarySamples int `toml:"dictionary_samples"`
}

type AddressesConfig struct {
	CaseSensitiveLocal bool   `toml:"case_sensitive_local"`
	LabelSeparator     string `toml:"label_separator"`
	Labels             bool   `toml:"labels"`
}

type UsersConfig struct {
	DefaultQuota    ByteSize `toml:"default_quota"`    // 0 = unlimited
	AuthCacheTTL    Duration `toml:"auth_cache_ttl"`   // how long a verified login is remembered; 0 = never
	AuthConcurrency int      `toml:"auth_concurrency"` // password hashes computed at once; 0 = one per CPU
}

type JournalConfig struct {
	Retention Duration `toml:"retention"`
}

type GCConfig struct {
	Interval Duration `toml:"interval"` // 0 = only on demand (`eider blobs gc`)
	Grace    Duration `toml:"grace"`
}

func defaultConfig() Config {
	return Config{
		DataDir: "./eider-data",
		Log:     LogConfig{Level: "info", Format: "text"},
		Notify:  "local",
		Redis:   RedisConfig{Prefix: "eider:", PollInterval: Duration(2 * time.Second), PublishTimeout: Duration(time.Second)},
		Storage: StorageConfig{
			Meta:    "sqlite",
			MongoDB: MongoDBConfig{Database: "eider", ReadPreference: "primary"},
			Blobs: BlobsConfig{Backend: "fs", Sync: true, Cold: ColdTier{MinSize: 1 << 20, MinAge: Duration(30 * 24 * time.Hour)},
				GridFS: GridFSConfig{Bucket: "blobs", ChunkSize: 255 << 10}},
		},
		Ingest: IngestConfig{
			InlineMax:         64 << 10,
			FrameSize:         256 << 10,
			MaxMessageSize:    64 << 20,
			MaxTextExtract:    1 << 20,
			DictionarySamples: 64,
		},
		Runtime:   RuntimeConfig{GCPercent: 25},
		Addresses: AddressesConfig{LabelSeparator: "+", Labels: true},
		Users:     UsersConfig{AuthCacheTTL: Duration(10 * time.Minute)},
		Journal:   JournalConfig{Retention: Duration(7 * 24 * time.Hour)},
		GC:        GCConfig{Interval: Duration(6 * time.Hour), Grace: Duration(time.Hour)},
		IMAP:      IMAPConfig{Listen: []string{"127.0.0.1:1143"}, ListenTLS: []string{"127.0.0.1:1993"}},
		POP3:      POP3Config{Listen: []string{"127.0.0.1:1110"}, ListenTLS: []string{"127.0.0.1:1995"}, MaxMessages: 1000, MaildropLease: Duration(30 * time.Minute)},
		LMTP:      LMTPConfig{Listen: []string{"127.0.0.1:2424"}, MaxRecipients: 1000, JunkHeaders: defaultJunkHeaders()},
		API:       APIConfig{Listen: "127.0.0.1:8080"},
	}
}

// loadConfig reads path (if not empty) over the defaults. Unknown keys and bad
// values are errors that name the key.
func loadConfig(path string) (Config, error) {
	cfg := defaultConfig()
	if path != "" {
		md, err := toml.DecodeFile(path, &cfg)
		if err != nil {
			return cfg, fmt.Errorf("config %s: %w", path, err)
		}
		if und := md.Undecoded(); len(und) > 0 {
			keys := make([]string, len(und))
			for i, k := range und {
				keys[i] = k.String()
			}
			return cfg, fmt.Errorf("config %s: unknown key %s", path, strings.Join(keys, ", "))
		}
	}
	return cfg, nil
}

// finish fills paths derived from data_dir and validates every key.
func (c *Config) finish() error {
	if c.DataDir == "" {
		return errors.New("config: data_dir: must not be empty")
	}
	if c.TLS.Hostname == "" {
		c.TLS.Hostname, _ = os.Hostname()
	}
	if c.Storage.Path == "" {
		c.Storage.Path = filepath.Join(c.DataDir, "meta.db")
	}
	if c.Storage.Blobs.Path == "" {
		c.Storage.Blobs.Path = filepath.Join(c.DataDir, "blobs")
	}
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config: %s: %s", key, fmt.Sprintf(format, args...)))
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "%q is not one of debug, info, warn, error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		bad("log.format", "%q is not one of text, json", c.Log.Format)
	}
	switch c.Storage.Meta {
	case "sqlite":
	case "mongodb":
		if c.Storage.MongoDB.URI == "" {
			bad("storage.mongodb.uri", "must be set when storage.meta is \"mongodb\"")
		}
		switch c.Storage.MongoDB.ReadPreference {
		case "primary", "primaryPreferred", "secondaryPreferred", "nearest":
		default:
			bad("storage.mongodb.read_preference", "%q is not one of primary, primaryPreferred, secondaryPreferred, nearest", c.Storage.MongoDB.ReadPreference)
		}
		if c.Storage.MongoDB.Database == "" {
			bad("storage.mongodb.database", "must not be empty")
		}
	default:
		bad("storage.meta", "%q is not a metadata backend (sqlite, mongodb)", c.Storage.Meta)
	}
	switch c.Storage.Blobs.Backend {
	case "fs":
	case "gridfs":
		g := &c.Storage.Blobs.GridFS
		if g.URI == "" {
			g.URI = c.Storage.MongoDB.URI
		}
		if g.Database == "" {
			g.Database = c.Storage.MongoDB.Database
		}
		if g.URI == "" {
			bad("storage.blobs.gridfs.uri", "must be set (or storage.mongodb.uri) when storage.blobs.backend is \"gridfs\"")
		}
		if g.Bucket == "" {
			bad("storage.blobs.gridfs.bucket", "must not be empty")
		}
		if g.ChunkSize < 1<<10 || g.ChunkSize > 15<<20 {
			bad("storage.blobs.gridfs.chunk_size", "%s is outside 1KiB..15MiB", g.ChunkSize)
		}
		if c.Storage.Blobs.ColdPath != "" {
			bad("storage.blobs.cold_path", "is for the fs backend; with gridfs, put storage.blobs.gridfs on another database or cluster")
		}
	default:
		bad("storage.blobs.backend", "%q is not a blob backend (fs, gridfs)", c.Storage.Blobs.Backend)
	}
	switch c.Notify {
	case "local":
	case "redis":
		if c.Redis.URL == "" {
			bad("redis.url", "must be set when notify is \"redis\"")
		}
		if c.Redis.PublishTimeout < Duration(10*time.Millisecond) {
			bad("redis.publish_timeout", "%s is below 10ms", c.Redis.PublishTimeout)
		}
		if c.Redis.PollInterval < Duration(100*time.Millisecond) {
			bad("redis.poll_interval", "%s is below 100ms", c.Redis.PollInterval)
		}
		if c.Redis.Prefix == "" || strings.ContainsAny(c.Redis.Prefix, "{}") {
			bad("redis.prefix", "%q must be non-empty, without { or }", c.Redis.Prefix)
		}
	default:
		bad("notify", "%q is not a notifier (local, redis)", c.Notify)
	}

	if c.Ingest.InlineMax < 1<<10 || c.Ingest.InlineMax > 16<<20 {
		bad("ingest.inline_max", "%s is outside 1KiB..16MiB", c.Ingest.InlineMax)
	}
	if c.Ingest.FrameSize < 4<<10 || c.Ingest.FrameSize > 64<<20 {
		bad("ingest.frame_size", "%s is outside 4KiB..64MiB", c.Ingest.FrameSize)
	}
	if c.Ingest.MaxMessageSize < 1<<10 {
		bad("ingest.max_message_size", "%s is below 1KiB", c.Ingest.MaxMessageSize)
	}
	if c.Ingest.MaxTextExtract < 0 {
		bad("ingest.max_text_extract", "must not be negative")
	}
	if c.Runtime.GCPercent < 0 {
		bad("runtime.gc_percent", "must not be negative")
	}
	if c.Runtime.MemoryLimit < 0 {
		bad("runtime.memory_limit", "must not be negative")
	}
	if c.Ingest.DictionarySamples < 0 || c.Ingest.DictionarySamples > 10000 {
		bad("ingest.dictionary_samples", "%d is outside 0..10000", c.Ingest.DictionarySamples)
	}
	if c.Addresses.LabelSeparator == "" || len(c.Addresses.LabelSeparator) > 4 || strings.ContainsAny(c.Addresses.LabelSeparator, "@ \t\"") {
		bad("addresses.label_separator", "%q must be 1-4 characters without @, quotes or spaces", c.Addresses.LabelSeparator)
	}
	if c.Users.DefaultQuota < 0 {
		bad("users.default_quota", "must not be negative")
	}
	if c.Users.AuthCacheTTL < 0 {
		bad("users.auth_cache_ttl", "must not be negative")
	}
	if c.Users.AuthConcurrency < 0 {
		bad("users.auth_concurrency", "must not be negative")
	}
	if c.Journal.Retention < Duration(time.Minute) {
		bad("journal.retention", "%s is below 1m", c.Journal.Retention)
	}
	if c.GC.Interval < 0 {
		bad("gc.interval", "must not be negative")
	}
	if c.GC.Grace < Duration(time.Minute) {
		bad("gc.grace", "%s is below 1m: in-flight deliveries need time to commit", c.GC.Grace)
	}
	if c.Storage.Blobs.Cold.Interval < 0 || c.Storage.Blobs.Cold.MinAge < 0 || c.Storage.Blobs.Cold.MinSize < 0 {
		bad("storage.blobs.cold", "sizes and durations must not be negative")
	}
	if (c.TLS.Cert == "") != (c.TLS.Key == "") {
		bad("tls.cert", "tls.cert and tls.key must be set together")
	}
	for i, p := range c.Network.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err := netip.ParseAddr(p); err != nil {
				bad(fmt.Sprintf("network.trusted_proxies[%d]", i), "%q is not an address or CIDR", p)
			}
		}
	}
	if c.Network.MaxConnections < 0 || c.Network.MaxConnectionsPerIP < 0 || c.Network.MaxSessionsPerUser < 0 || c.Network.Workers < 0 {
		bad("network", "limits must not be negative")
	}
	for key, addrs := range map[string][]string{"imap.listen": c.IMAP.Listen, "imap.listen_tls": c.IMAP.ListenTLS,
		"pop3.listen": c.POP3.Listen, "pop3.listen_tls": c.POP3.ListenTLS, "lmtp.listen": c.LMTP.Listen} {
		for _, a := range addrs {
			if _, _, err := net.SplitHostPort(strings.TrimPrefix(a, "tcp://")); err != nil && !strings.HasPrefix(a, "unix://") {
				bad(key, "%q is not host:port or unix:///path", a)
			}
		}
	}
	for key, a := range map[string]string{"api.listen": c.API.Listen, "metrics.listen": c.Metrics.Listen} {
		if _, _, err := net.SplitHostPort(a); a != "" && err != nil {
			bad(key, "%q is not host:port", a)
		}
	}
	if c.POP3.MaxMessages < 0 {
		bad("pop3.max_messages", "must not be negative")
	}
	if c.POP3.MaildropLease < Duration(time.Minute) {
		bad("pop3.maildrop_lease", "%s is below 1m", c.POP3.MaildropLease)
	}
	if c.LMTP.MaxRecipients < 0 {
		bad("lmtp.max_recipients", "must not be negative")
	}
	if _, err := c.LMTP.junkRules(); err != nil {
		errs = append(errs, err)
	}
	if c.Storage.Blobs.Cold.Interval > 0 && c.Storage.Blobs.ColdPath == "" {
		bad("storage.blobs.cold.interval", "set, but storage.blobs.cold_path is empty")
	}
	return errors.Join(errs...)
}

// ByteSize is a size written as an integer (bytes) or with a unit: 64KiB, 10MB, 1GiB.
type ByteSize int64

func (b *ByteSize) UnmarshalText(p []byte) error {
	v, err := parseByteSize(string(p))
	if err != nil {
		return err
	}
	*b = ByteSize(v)
	return nil
}

// UnmarshalTOML accepts a bare integer as well as a string.
func (b *ByteSize) UnmarshalTOML(v any) error {
	switch x := v.(type) {
	case int64:
		*b = ByteSize(x)
		return nil
	case string:
		return b.UnmarshalText([]byte(x))
	}
	return fmt.Errorf("size must be an integer or a string like \"64KiB\", not %T", v)
}

func (b ByteSize) String() string {
	n := int64(b)
	for _, u := range []struct {
		s string
		v int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.v && n%u.v == 0 {
			return strconv.FormatInt(n/u.v, 10) + u.s
		}
	}
	return strconv.FormatInt(n, 10)
}

func parseByteSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9') {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("size %q does not start with a number", s)
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q: %w", s, err)
	}
	units := map[string]int64{"": 1, "b": 1, "k": 1 << 10, "kb": 1000, "kib": 1 << 10, "m": 1 << 20, "mb": 1000 * 1000, "mib": 1 << 20, "g": 1 << 30, "gb": 1000 * 1000 * 1000, "gib": 1 << 30}
	mult, ok := units[strings.ToLower(strings.TrimSpace(s[i:]))]
	if !ok {
		return 0, fmt.Errorf("size %q has an unknown unit (use B, KiB, MiB, GiB, KB, MB, GB)", s)
	}
	if n > (1<<62)/mult {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return n * mult, nil
}

// Duration is a time.Duration written as "90s", "6h", "7d" (d = 24h).
type Duration time.Duration

func (d *Duration) UnmarshalText(p []byte) error {
	s := strings.TrimSpace(string(p))
	if strings.HasSuffix(s, "d") {
		n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
		if err != nil {
			return fmt.Errorf("duration %q: %w", s, err)
		}
		*d = Duration(time.Duration(n) * 24 * time.Hour)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

func (d Duration) String() string { return time.Duration(d).String() }

// fileExists reports whether path names an existing file.
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func (d Duration) std() time.Duration { return time.Duration(d) }
