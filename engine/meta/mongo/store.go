package mongo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"github.com/eidermail/eider/engine"
)

// Options configure a Store.
type Options struct {
	// URI is the mongodb:// or mongodb+srv:// URI of the cluster; ignored
	// when Client is set.
	URI string
	// Database holds every collection of the store. Default "eider".
	Database string
	// ReadPreference applies to the reads that may lag behind writes (see
	// the package documentation): "primary" (default), "primaryPreferred",
	// "secondaryPreferred" or "nearest".
	ReadPreference string
	// JournalTTL is how long journal entries are kept (a TTL index on
	// their time). Default 7 days.
	JournalTTL time.Duration
	// RecoveryGrace is how old an unfinished operation must be before
	// Recover finishes or rolls it back; every operation runs with a
	// deadline well inside it. Default 2 minutes.
	RecoveryGrace time.Duration
	// RecoveryInterval is how often a background pass runs Recover.
	// Default 1 minute; negative disables the pass (Open still recovers once).
	RecoveryInterval time.Duration
	// Logger receives index and recovery reports. Default slog.Default().
	Logger *slog.Logger
	// Client shares an existing client (URI, write concern and retryable
	// writes are then the caller's); Close leaves it connected.
	Client *mongo.Client
	// Now is the clock. Default time.Now.
	Now func() time.Time

	// failpoint, when set, is called after each step of an operation;
	// an error stops the operation there, as a crash of the node would.
	failpoint func(step string) error
}

func (o Options) withDefaults() Options {
	if o.Database == "" {
		o.Database = "eider"
	}
	if o.ReadPreference == "" {
		o.ReadPreference = "primary"
	}
	if o.JournalTTL <= 0 {
		o.JournalTTL = 7 * 24 * time.Hour
	}
	if o.RecoveryGrace <= 0 {
		o.RecoveryGrace = 2 * time.Minute
	}
	if o.RecoveryInterval == 0 {
		o.RecoveryInterval = time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Collection names.
const (
	collCounters  = "counters"
	collUsers     = "users"
	collUserNames = "usernames"
	collAddresses = "addresses"
	collMailboxes = "mailboxes"
	collMessages  = "messages"
	collJournal   = "journal"
	collTexts     = "texts"
	collBlobRefs  = "blobrefs"
	collOps       = "ops"
	collLeases    = "leases"
	collDicts     = "dictionaries"
)

// Store is the MongoDB MetaStore. It is safe for concurrent use, also by
// many processes against one cluster.
type Store struct {
	opt      Options
	client   *mongo.Client
	own      bool // Close disconnects the client
	db       *mongo.Database
	ferretDB bool
	// bulkChunk bounds the operations of one bulk write. FerretDB takes
	// time quadratic in the statements of one update command (and stops
	// answering at a few hundred), so it gets short ones.
	bulkChunk int

	counters, users, userNames, addresses, mailboxes, messages, journal, texts, blobRefs, ops, leases, dicts *mongo.Collection
	// lagging reads (user listings) honour Options.ReadPreference.
	usersLagging *mongo.Collection

	text *textCodec

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

var (
	_ engine.MetaStore = (*Store)(nil)
	_ engine.Dumper    = (*Store)(nil)
	_ engine.Loader    = (*Store)(nil)
	_ engine.Leaser    = (*Store)(nil)
)

func parseReadPref(name string) (*readpref.ReadPref, error) {
	switch strings.ToLower(name) {
	case "primary":
		return readpref.Primary(), nil
	case "primarypreferred":
		return readpref.PrimaryPreferred(), nil
	case "secondarypreferred":
		return readpref.SecondaryPreferred(), nil
	case "nearest":
		return readpref.Nearest(), nil
	}
	return nil, fmt.Errorf("read preference %q: want primary, primaryPreferred, secondaryPreferred or nearest", name)
}

// Open connects to the cluster (unless opt.Client is given), creates the
// collections' indexes when missing and recovers operations a crashed
// node left unfinished.
func Open(ctx context.Context, opt Options) (*Store, error) {
	opt = opt.withDefaults()
	lagging, err := parseReadPref(opt.ReadPreference)
	if err != nil {
		return nil, fmt.Errorf("mongo: %w", err)
	}
	text, err := newTextCodec()
	if err != nil {
		return nil, fmt.Errorf("mongo: %w", err)
	}
	s := &Store{opt: opt, client: opt.Client, text: text, stop: make(chan struct{}), done: make(chan struct{})}
	if s.client == nil {
		if opt.URI == "" {
			text.close()
			return nil, errors.New("mongo: no URI")
		}
		co := options.Client().ApplyURI(opt.URI).
			SetWriteConcern(writeconcern.Majority()).
			SetRetryWrites(true).
			SetReadPreference(readpref.Primary())
		s.client, err = mongo.Connect(co)
		if err != nil {
			text.close()
			return nil, fmt.Errorf("mongo: connect: %w", err)
		}
		s.own = true
	}
	fail := func(err error) (*Store, error) {
		if s.own {
			s.client.Disconnect(context.Background())
		}
		text.close()
		return nil, fmt.Errorf("mongo: open: %w", err)
	}
	// Everything the session reads back right after writing it stays on
	// the primary, whatever the client's default.
	primary := options.Collection().SetReadPreference(readpref.Primary())
	s.db = s.client.Database(opt.Database)
	for _, c := range []struct {
		p    **mongo.Collection
		name string
	}{
		{&s.counters, collCounters}, {&s.users, collUsers}, {&s.userNames, collUserNames}, {&s.addresses, collAddresses},
		{&s.mailboxes, collMailboxes}, {&s.messages, collMessages}, {&s.journal, collJournal}, {&s.texts, collTexts},
		{&s.blobRefs, collBlobRefs}, {&s.ops, collOps}, {&s.leases, collLeases}, {&s.dicts, collDicts},
	} {
		*c.p = s.db.Collection(c.name, primary)
	}
	s.usersLagging = s.db.Collection(collUsers, options.Collection().SetReadPreference(lagging))
	if s.ferretDB, err = isFerretDB(ctx, s.db); err != nil {
		return fail(err)
	}
	s.bulkChunk = 1000
	if s.ferretDB {
		s.bulkChunk = 16
	}
	if err := s.ensureIndexes(ctx); err != nil {
		return fail(err)
	}
	if err := s.Recover(ctx); err != nil {
		return fail(fmt.Errorf("recover: %w", err))
	}
	go s.worker()
	return s, nil
}

// Client is the store's connection pool, for a blob store on the same
// cluster to share (the store disconnects it on Close if it opened it).
func (s *Store) Client() *mongo.Client { return s.client }

// isFerretDB asks the server what it is: FerretDB answers buildInfo with
// ferretdb fields. Only then are index options it lacks skipped.
func isFerretDB(ctx context.Context, db *mongo.Database) (bool, error) {
	var info bson.M
	if err := db.RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		return false, fmt.Errorf("buildInfo: %w", err)
	}
	for k := range info {
		if strings.HasPrefix(strings.ToLower(k), "ferretdb") {
			return true, nil
		}
	}
	return false, nil
}

// Close stops the recovery pass and, when Open connected, disconnects.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		<-s.done
		if s.own {
			s.closeErr = s.client.Disconnect(context.Background())
		}
		s.text.close()
	})
	return s.closeErr
}

func (s *Store) worker() {
	defer close(s.done)
	if s.opt.RecoveryInterval < 0 {
		return
	}
	t := time.NewTicker(s.opt.RecoveryInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), s.opt.RecoveryGrace)
			if err := s.Recover(ctx); err != nil {
				s.opt.Logger.Error("mongo: recovery pass", "err", err)
			}
			cancel()
		}
	}
}

// index is one index of a collection.
type index struct {
	coll  *mongo.Collection
	model mongo.IndexModel
	// optional marks an index whose options (TTL) a server may lack;
	// on FerretDB only, its failure is logged and skipped.
	optional bool
}

func (s *Store) ensureIndexes(ctx context.Context) error {
	ttl := int32(s.opt.JournalTTL / time.Second)
	asc := func(keys ...string) bson.D {
		d := bson.D{}
		for _, k := range keys {
			d = append(d, bson.E{Key: k, Value: 1})
		}
		return d
	}
	unique := options.Index().SetUnique(true)
	indexes := []index{
		{coll: s.userNames, model: mongo.IndexModel{Keys: asc("user")}},
		{coll: s.addresses, model: mongo.IndexModel{Keys: asc("user")}},
		{coll: s.mailboxes, model: mongo.IndexModel{Keys: asc("user", "name"), Options: unique}},
		{coll: s.mailboxes, model: mongo.IndexModel{Keys: asc("pending.at")}},
		{coll: s.messages, model: mongo.IndexModel{Keys: asc("mailbox", "uid"), Options: unique}},
		{coll: s.journal, model: mongo.IndexModel{Keys: asc("mailbox", "modseq", "uid"), Options: unique}},
		{coll: s.journal, model: mongo.IndexModel{Keys: asc("at"), Options: options.Index().SetExpireAfterSeconds(ttl)}, optional: true},
		{coll: s.texts, model: mongo.IndexModel{Keys: asc("user", "tri")}},
		{coll: s.texts, model: mongo.IndexModel{Keys: asc("user", "big")}},
		{coll: s.ops, model: mongo.IndexModel{Keys: asc("at")}},
	}
	for _, ix := range indexes {
		_, err := ix.coll.Indexes().CreateOne(ctx, ix.model)
		if err == nil {
			continue
		}
		var ce mongo.CommandError
		switch {
		case ix.optional && s.ferretDB && errors.As(err, &ce) && (ce.Code == 238 || strings.Contains(strings.ToLower(ce.Message), "not implemented")):
			s.opt.Logger.Warn("mongo: index option not supported by this server, skipped", "collection", ix.coll.Name(), "keys", ix.model.Keys, "err", err)
		case errors.As(err, &ce) && (ce.Code == 85 || ce.Code == 86) && ix.optional:
			// The TTL changed since the index was made: change it in place.
			err := s.db.RunCommand(ctx, bson.D{{Key: "collMod", Value: ix.coll.Name()}, {Key: "index", Value: bson.D{
				{Key: "keyPattern", Value: ix.model.Keys}, {Key: "expireAfterSeconds", Value: ttl}}}}).Err()
			if err != nil {
				return fmt.Errorf("index %s %v: %w", ix.coll.Name(), ix.model.Keys, err)
			}
		default:
			return fmt.Errorf("index %s %v: %w", ix.coll.Name(), ix.model.Keys, err)
		}
	}
	return nil
}

// step reports that an operation finished step; the test failpoint may stop it there.
func (s *Store) step(name string) error {
	if s.opt.failpoint == nil {
		return nil
	}
	return s.opt.failpoint(name)
}

// nextIDs allocates n consecutive ids from the named counter and returns the first.
func (s *Store) nextIDs(ctx context.Context, name string, n int64) (int64, error) {
	var doc struct {
		Seq int64 `bson:"seq"`
	}
	err := s.counters.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: name}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "seq", Value: n}}}},
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&doc)
	if err != nil {
		return 0, fmt.Errorf("allocate %s ids: %w", name, err)
	}
	return doc.Seq - n + 1, nil
}

// wrap prefixes err with the operation.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("mongo: %s: %w", op, err)
}

// notFound turns ErrNoDocuments into engine.ErrNotFound.
func notFound(err error, what string) error {
	if errors.Is(err, mongo.ErrNoDocuments) {
		return fmt.Errorf("%s: %w", what, engine.ErrNotFound)
	}
	return err
}

// dup reports a duplicate key error (an insert or upsert that clashed).
func dup(err error) bool { return err != nil && mongo.IsDuplicateKeyError(err) }

// ignoreDup drops duplicate key errors: the write had been done already.
func ignoreDup(err error) error {
	if dup(err) {
		return nil
	}
	return err
}

// D is shorthand for one-key documents in filters and updates.
func d(k string, v any) bson.D { return bson.D{{Key: k, Value: v}} }
