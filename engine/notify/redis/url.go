package redis

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/redis/rueidis"
)

// clientOption turns a configured Redis URL into rueidis options. The forms
// are listed in the package comment. Errors never repeat the URL: it may
// carry a password.
func clientOption(raw string) (rueidis.ClientOption, error) {
	var opt rueidis.ClientOption
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return opt, errors.New("redis notifier: no URL")
	}
	if !strings.Contains(raw, "://") {
		// A bare address list: cluster seed nodes (or one server).
		raw = "redis://" + raw
	}
	scheme, rest, _ := strings.Cut(raw, "://")
	scheme = strings.ToLower(scheme)
	sentinel := false
	switch scheme {
	case "redis", "rediss":
	case "redis-sentinel":
		sentinel, scheme = true, "redis"
	case "rediss-sentinel":
		sentinel, scheme = true, "rediss"
	default:
		return opt, fmt.Errorf("redis notifier: unsupported URL scheme %q (want redis, rediss, redis-sentinel or rediss-sentinel)", scheme)
	}

	// Split the authority by hand: url.Parse rejects a comma-separated host
	// list, which is how cluster seeds and sentinels are given.
	authority, tail := rest, ""
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		authority, tail = rest[:i], rest[i:]
	}
	userinfo, hosts := "", authority
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		userinfo, hosts = authority[:i+1], authority[i+1:]
	}
	// ?addr= adds hosts in rueidis' own syntax; they join the host list
	// here so that a host without a port gets the default port, not the
	// first host's name.
	path, rawQuery, _ := strings.Cut(tail, "?")
	query, err := url.ParseQuery(rawQuery)
	if err != nil {
		return opt, fmt.Errorf("redis notifier: URL query: %w", err)
	}
	hostList := strings.Split(hosts, ",")
	hostList = append(hostList, query["addr"]...)
	query.Del("addr")
	tail = path
	if len(query) > 0 {
		tail += "?" + query.Encode()
	}
	var addrs []string
	for _, h := range hostList {
		h = strings.TrimSpace(h)
		if h == "" {
			return opt, errors.New("redis notifier: empty host in URL")
		}
		if _, _, err := net.SplitHostPort(h); err != nil {
			port := "6379"
			if sentinel {
				port = "26379"
			}
			h = net.JoinHostPort(strings.Trim(h, "[]"), port)
		}
		addrs = append(addrs, h)
	}

	masterSet := ""
	if sentinel {
		// The path names the master set: redis-sentinel://h1,h2/mymaster.
		masterSet = strings.Trim(path, "/")
		if masterSet == "" || strings.Contains(masterSet, "/") {
			return opt, errors.New("redis notifier: a sentinel URL names its master set as the path: redis-sentinel://host:26379/mymaster")
		}
		tail = strings.TrimPrefix(tail, path)
	}

	// rueidis parses credentials, database, TLS and query options from a
	// single-host URL; the host list is set afterwards.
	single := scheme + "://" + userinfo + addrs[0] + tail
	o, err := rueidis.ParseURL(single)
	if err != nil {
		return opt, fmt.Errorf("redis notifier: %w", stripURL(err))
	}
	o.InitAddress = addrs
	if sentinel {
		o.Sentinel.MasterSet = masterSet
		o.Sentinel.TLSConfig = o.TLSConfig
		o.Sentinel.Dialer = o.Dialer
		// Catch a missed +switch-master event within a few seconds.
		o.Sentinel.TopologyRefreshInterval = sentinelRefresh
		o.Sentinel.Username = query.Get("sentinel_username")
		o.Sentinel.Password = query.Get("sentinel_password")
	}
	// Beacons are never read back as keys: no client-side caching.
	o.DisableCache = true
	return o, nil
}

// stripURL keeps a *url.Error's cause, not the URL it quotes.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
