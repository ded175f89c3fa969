package redis

import (
	"slices"
	"strings"
	"testing"
)

func TestClientOption(t *testing.T) {
	for _, tc := range []struct {
		url       string
		addrs     []string
		masterSet string
		tls       bool
		user, pw  string
		db        int
	}{
		{url: "redis://127.0.0.1:6380", addrs: []string{"127.0.0.1:6380"}},
		{url: "redis://cache", addrs: []string{"cache:6379"}},
		{url: "redis://u:p%40ss@cache:6390/2", addrs: []string{"cache:6390"}, user: "u", pw: "p@ss", db: 2},
		{url: "rediss://cache.example:6390", addrs: []string{"cache.example:6390"}, tls: true},
		{url: "redis://n1:7000,n2:7001,n3", addrs: []string{"n1:7000", "n2:7001", "n3:6379"}},
		{url: "n1:7000,n2:7001", addrs: []string{"n1:7000", "n2:7001"}},
		{url: "redis://n1:7000?addr=n2:7001&addr=n3", addrs: []string{"n1:7000", "n2:7001", "n3:6379"}},
		{url: "redis://[::1]:7000,[::1]", addrs: []string{"[::1]:7000", "[::1]:6379"}},
		{url: "redis-sentinel://s1,s2:26380/mymaster", addrs: []string{"s1:26379", "s2:26380"}, masterSet: "mymaster"},
		{url: "redis-sentinel://:pw@s1/mymaster?db=3&sentinel_password=spw", addrs: []string{"s1:26379"}, masterSet: "mymaster", pw: "pw", db: 3},
		{url: "rediss-sentinel://s1:26379/m", addrs: []string{"s1:26379"}, masterSet: "m", tls: true},
	} {
		opt, err := clientOption(tc.url)
		if err != nil {
			t.Errorf("%s: %v", tc.url, err)
			continue
		}
		if !slices.Equal(opt.InitAddress, tc.addrs) || opt.Sentinel.MasterSet != tc.masterSet ||
			(opt.TLSConfig != nil) != tc.tls || opt.Username != tc.user || opt.Password != tc.pw || opt.SelectDB != tc.db {
			t.Errorf("%s: addrs %v master set %q tls %v user %q password %q db %d", tc.url, opt.InitAddress,
				opt.Sentinel.MasterSet, opt.TLSConfig != nil, opt.Username, opt.Password, opt.SelectDB)
		}
		if !opt.DisableCache {
			t.Errorf("%s: client-side caching left on", tc.url)
		}
		if tc.masterSet != "" && opt.Sentinel.TopologyRefreshInterval <= 0 {
			t.Errorf("%s: no sentinel topology refresh", tc.url)
		}
	}
	if opt, _ := clientOption("redis-sentinel://:pw@s1/m?sentinel_username=su&sentinel_password=spw"); opt.Sentinel.Username != "su" || opt.Sentinel.Password != "spw" {
		t.Errorf("sentinel credentials: %q %q", opt.Sentinel.Username, opt.Sentinel.Password)
	}
	for _, bad := range []string{
		"", "http://cache:6379", "redis://a,,b", "redis-sentinel://s1:26379", "redis-sentinel://s1/a/b",
		"redis://:secretpw@cache/notanumber",
	} {
		_, err := clientOption(bad)
		if err == nil {
			t.Errorf("%q accepted", bad)
			continue
		}
		if strings.Contains(err.Error(), "secretpw") {
			t.Errorf("%q: error repeats the password: %v", bad, err)
		}
	}
}

func FuzzClientOption(f *testing.F) {
	for _, s := range []string{
		"redis://127.0.0.1:6379", "rediss://u:secret@h:1/2?dial_timeout=1s", "h1:7000,h2",
		"redis-sentinel://:pw@s1,s2:26380/master?sentinel_password=x", "redis://[::1]:7000,[::1]",
		"redis://h?addr=a&addr=b:1", "redis://:@/", "redis-sentinel:///", "redis://h:99999",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		opt, err := clientOption(raw)
		if err != nil {
			return
		}
		if len(opt.InitAddress) == 0 {
			t.Fatalf("%q: accepted without an address", raw)
		}
		for _, a := range opt.InitAddress {
			if a == "" {
				t.Fatalf("%q: empty address in %v", raw, opt.InitAddress)
			}
		}
		scheme, _, hasScheme := strings.Cut(strings.TrimSpace(raw), "://")
		if hasScheme && strings.HasSuffix(strings.ToLower(scheme), "-sentinel") && opt.Sentinel.MasterSet == "" {
			t.Fatalf("%q: sentinel URL without a master set", raw)
		}
	})
}
