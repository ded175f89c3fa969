// Package redis is the cluster deployment's Notifier: change beacons travel
// between Eider nodes over Redis pub/sub, and reach only the nodes that
// serve the user.
//
// # Channels
//
// Each user has one channel, <prefix>{<bucket>}:user:<id>, with bucket =
// id mod 16. A node subscribes to a user's channel while at least one of
// its sessions is logged in as that user (the first local Subscribe
// subscribes, the last cancel unsubscribes), so a beacon costs Redis one
// fan-out to the nodes that care, never a broadcast to every node.
// Sessions on the committing node get the beacon straight from Publish;
// the node drops its own beacons when Redis echoes them.
//
// Against a Redis Cluster the notifier uses sharded pub/sub (SPUBLISH,
// SSUBSCRIBE; Redis 7 or later): a beacon goes only to the shard that owns
// the channel's slot instead of over the whole cluster bus. The {bucket}
// hash tag puts all channels of a bucket in one slot, so a node holds at
// most 16 subscriber connections however many users it serves. When a slot
// migrates, Redis drops its shard channels; the notifier reconnects that
// bucket to the new owner and has its sessions read their journals once.
// Without a cluster, one dedicated connection carries every subscription
// and PUBLISH/SUBSCRIBE are used.
//
// # Beacons
//
// A beacon is about 20 bytes of binary: a version byte, then varints for
// user, mailbox, MODSEQ and the commit time in Unix microseconds (for
// notifier-lag metrics), then the sending node's id. Decoders skip bytes
// after the fields they know, so later versions may append fields.
//
// # Outages
//
// Redis is an accelerator, not a dependency of correctness: sessions read
// the journal in any case. While Redis cannot be reached Publish still
// delivers to local sessions and returns nil (the outage is logged once,
// not per commit), and every local subscriber receives a ChangeEvent with
// Mailbox = engine.AnyMailbox every PollInterval, so IDLE clients keep
// getting updates within that interval. The notifier retries every
// PollInterval; when Redis answers it resubscribes every active user
// channel and sends every subscriber one AnyMailbox beacon for what may
// have been missed. A node also starts while Redis is down. Subscribe never
// waits for Redis, and subscriber callbacks run on the Redis client's
// reading goroutine, so they must not block.
//
// # URLs
//
//	redis://[user:password@]host[:port][/db]           one server (port 6379)
//	rediss://...                                         the same over TLS
//	redis://host1:7000,host2:7001,host3:7002             cluster seed nodes
//	host1:7000,host2:7001                                the same, scheme omitted
//	redis://host1:7000?addr=host2:7001&addr=host3:7002   rueidis' own form of a list
//	redis-sentinel://[user:password@]s1[:26379],s2/mymaster[?sentinel_password=...]
//	rediss-sentinel://...                                Sentinel, TLS to sentinels and master
//
// A single address may be a cluster node: the client asks the server and
// switches to cluster mode itself. Credentials in the userinfo authenticate
// to the data servers; sentinel_username and sentinel_password
// authenticate to the sentinels. rueidis query options such as
// dial_timeout, protocol=2 and client_name apply to every form.
package redis
