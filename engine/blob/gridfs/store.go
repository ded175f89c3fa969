package gridfs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"github.com/eidermail/eider/engine"
)

const (
	// DefaultBucket is the bucket name when Options.Bucket is empty.
	DefaultBucket = "blobs"
	// DefaultChunkSize is the chunk size when Options.ChunkSize is zero;
	// see the package comment.
	DefaultChunkSize = 255 << 10
	// MaxChunkSize keeps a chunk document well below MongoDB's 16 MiB limit.
	MaxChunkSize = 8 << 20
	// Tier is the tier name Stat and Walk report.
	Tier = "gridfs"

	// tmpPrefix starts the filename of an upload in progress or of an
	// object being deleted.
	tmpPrefix = "tmp/"
	// cleanupTimeout bounds the removal of a failed upload's chunks, which
	// runs even when the caller's context is done.
	cleanupTimeout = 30 * time.Second
)

// Options configure a Store.
type Options struct {
	// URI is the mongodb:// or mongodb+srv:// URI of the blob cluster; it may
	// differ from the metadata's. Unused when Client is set.
	URI string
	// Client is an already connected client to use instead of URI (for
	// instance the metadata store's when blobs share its cluster). The
	// Store does not disconnect it.
	Client *mongo.Client
	// Database holds the bucket (required).
	Database string
	// Bucket names the GridFS bucket (default "blobs": collections
	// blobs.files and blobs.chunks).
	Bucket string
	// ChunkSize is the size of a chunk of a new object (default 255 KiB).
	// Objects keep the chunk size they were written with.
	ChunkSize int32
	// Logger receives index and cleanup warnings (default slog.Default()).
	Logger *slog.Logger
}

// Store is a content-addressed blob store in a GridFS bucket. It is safe
// for concurrent use, also by many nodes sharing the bucket.
type Store struct {
	client    *mongo.Client
	own       bool // Close disconnects client
	files     *mongo.Collection
	chunks    *mongo.Collection
	chunkSize int32
	log       *slog.Logger
}

var _ engine.BlobStore = (*Store)(nil)

// Open connects (unless Options.Client is given) and creates the bucket's
// indexes if they are missing.
func Open(ctx context.Context, opt Options) (*Store, error) {
	if opt.Database == "" {
		return nil, errors.New("gridfs blob store: no database")
	}
	if opt.Bucket == "" {
		opt.Bucket = DefaultBucket
	}
	if opt.ChunkSize == 0 {
		opt.ChunkSize = DefaultChunkSize
	}
	if opt.ChunkSize < 0 || opt.ChunkSize > MaxChunkSize {
		return nil, fmt.Errorf("gridfs blob store: chunk size %d out of range (1..%d)", opt.ChunkSize, MaxChunkSize)
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	s := &Store{client: opt.Client, chunkSize: opt.ChunkSize, log: opt.Logger.With("component", "blob/gridfs")}
	if s.client == nil {
		if opt.URI == "" {
			return nil, errors.New("gridfs blob store: neither URI nor Client given")
		}
		co := options.Client().ApplyURI(opt.URI)
		// A blob must be durable before the metadata that references it is
		// committed: majority unless the URI says otherwise.
		if co.WriteConcern == nil {
			co.SetWriteConcern(writeconcern.Majority())
		}
		c, err := mongo.Connect(co)
		if err != nil {
			return nil, fmt.Errorf("gridfs blob store: connect: %w", err)
		}
		s.client, s.own = c, true
	}
	db := s.client.Database(opt.Database)
	s.files = db.Collection(opt.Bucket + ".files")
	s.chunks = db.Collection(opt.Bucket + ".chunks")
	if err := s.ensureIndexes(ctx); err != nil {
		_ = s.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return s, nil
}

// ensureIndexes creates the two indexes the store relies on: the unique
// name that makes a concurrent commit of the same content safe, and the
// GridFS chunk index range reads use.
func (s *Store) ensureIndexes(ctx context.Context) error {
	if _, err := s.files.Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys:    bson.D{{Key: "filename", Value: 1}},
		Options: options.Index().SetUnique(true).SetName("filename_unique"),
	}); err != nil {
		return fmt.Errorf("gridfs blob store: create files index: %w", err)
	}
	if _, err := s.chunks.Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys:    bson.D{{Key: "files_id", Value: 1}, {Key: "n", Value: 1}},
		Options: options.Index().SetUnique(true).SetName("files_id_1_n_1"),
	}); err != nil {
		return fmt.Errorf("gridfs blob store: create chunks index: %w", err)
	}
	return nil
}

// Close disconnects a client the store connected itself.
func (s *Store) Close(ctx context.Context) error {
	if !s.own {
		return nil
	}
	return s.client.Disconnect(ctx)
}

// fileDoc is a <bucket>.files document as the store reads it.
type fileDoc struct {
	ID         bson.Binary `bson:"_id"`
	Filename   string      `bson:"filename"`
	Length     int64       `bson:"length"`
	ChunkSize  int32       `bson:"chunkSize"`
	UploadDate time.Time   `bson:"uploadDate"`
}

// chunkDoc is a <bucket>.chunks document.
type chunkDoc struct {
	FilesID bson.Binary `bson:"files_id"`
	N       int32       `bson:"n"`
	Data    []byte      `bson:"data"`
}

// newUploadID returns a random UUID (version 4) as BSON binary subtype 4.
func newUploadID() bson.Binary {
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return bson.Binary{Subtype: bson.TypeBinaryUUID, Data: u[:]}
}

func tmpName(upload bson.Binary) string { return tmpPrefix + hex.EncodeToString(upload.Data) }

// blobErr wraps an error about one blob.
func blobErr(op string, id engine.BlobID, err error) error {
	return fmt.Errorf("blob %s: %s: %w", id, op, err)
}

// ErrCorrupt is wrapped by read errors about chunks that are missing or of
// the wrong size.
var ErrCorrupt = errors.New("gridfs object damaged")

// find returns the files document named id, or ErrNotFound.
func (s *Store) find(ctx context.Context, id engine.BlobID) (fileDoc, error) {
	var f fileDoc
	err := s.files.FindOne(ctx, bson.D{{Key: "filename", Value: id.String()}}).Decode(&f)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return f, fmt.Errorf("blob %s: %w", id, engine.ErrNotFound)
	}
	if err != nil {
		return f, blobErr("find", id, err)
	}
	if f.ChunkSize <= 0 || f.Length < 0 {
		return f, blobErr("find", id, fmt.Errorf("%w: length %d chunk size %d", ErrCorrupt, f.Length, f.ChunkSize))
	}
	return f, nil
}

// touch refreshes the uploadDate of the object named id and reports
// whether it exists.
func (s *Store) touch(ctx context.Context, id engine.BlobID) (bool, error) {
	res, err := s.files.UpdateOne(ctx,
		bson.D{{Key: "filename", Value: id.String()}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "uploadDate", Value: time.Now()}}}})
	if err != nil {
		return false, err
	}
	return res.MatchedCount > 0, nil
}

// Create starts an upload. Nothing is written until the first chunk is
// full or Commit is called.
func (s *Store) Create(ctx context.Context) (engine.BlobWriter, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return &writer{s: s, ctx: ctx, upload: newUploadID()}, nil
}

// Open opens id for reading.
func (s *Store) Open(ctx context.Context, id engine.BlobID) (engine.BlobReader, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := s.find(ctx, id)
	if err != nil {
		return nil, err
	}
	return &reader{s: s, ctx: ctx, id: id, upload: f.ID, size: f.Length, chunkSize: int64(f.ChunkSize), cachedN: -1}, nil
}

// Stat describes id.
func (s *Store) Stat(ctx context.Context, id engine.BlobID) (engine.BlobInfo, error) {
	if err := ctx.Err(); err != nil {
		return engine.BlobInfo{}, err
	}
	f, err := s.find(ctx, id)
	if err != nil {
		return engine.BlobInfo{}, err
	}
	return engine.BlobInfo{ID: id, Size: f.Length, Modified: f.UploadDate, Tier: Tier}, nil
}

// Delete removes id. The object is first renamed to a temporary name, so
// it disappears at once and an interrupted delete is finished by
// CleanTemp. A missing object is not an error.
func (s *Store) Delete(ctx context.Context, id engine.BlobID) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f, err := s.find(ctx, id)
	if errors.Is(err, engine.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	res, err := s.files.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: f.ID}, {Key: "filename", Value: f.Filename}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "filename", Value: tmpName(f.ID)}, {Key: "uploadDate", Value: time.Now()}}}})
	if err != nil {
		return blobErr("delete", id, err)
	}
	if res.MatchedCount == 0 {
		return nil // a concurrent delete got there first
	}
	if err := s.removeUpload(ctx, f.ID); err != nil {
		// Renamed away already: CleanTemp finishes the job.
		return blobErr("delete", id, err)
	}
	return nil
}

// removeUpload deletes an upload's chunks, then its files document. The
// order matters: a files document without chunks is found by CleanTemp, a
// chunk without a files document would be found by nothing.
func (s *Store) removeUpload(ctx context.Context, upload bson.Binary) error {
	if _, err := s.chunks.DeleteMany(ctx, bson.D{{Key: "files_id", Value: upload}}); err != nil {
		return err
	}
	_, err := s.files.DeleteOne(ctx, bson.D{{Key: "_id", Value: upload}, {Key: "filename", Value: tmpName(upload)}})
	return err
}

// Walk calls fn for every object, in no particular order. Uploads in
// progress and objects being deleted are skipped.
func (s *Store) Walk(ctx context.Context, fn func(engine.BlobInfo) error) error {
	cur, err := s.files.Find(ctx, bson.D{},
		options.Find().SetProjection(bson.D{{Key: "filename", Value: 1}, {Key: "length", Value: 1}, {Key: "uploadDate", Value: 1}}))
	if err != nil {
		return fmt.Errorf("gridfs blob store: walk: %w", err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	for cur.Next(ctx) {
		var f fileDoc
		if err := cur.Decode(&f); err != nil {
			return fmt.Errorf("gridfs blob store: walk: %w", err)
		}
		id, err := engine.ParseBlobID(f.Filename)
		// Only a BlobID name in its canonical form is an object of ours.
		if err != nil || id.String() != f.Filename {
			continue
		}
		if err := fn(engine.BlobInfo{ID: id, Size: f.Length, Modified: f.UploadDate, Tier: Tier}); err != nil {
			return err
		}
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("gridfs blob store: walk: %w", err)
	}
	return nil
}

// CleanTemp removes uploads and deletes older than olderThan that never
// finished: the remains of crashed ingests and interrupted deletes.
// olderThan must exceed the longest upload, or a live upload loses its
// chunks (its commit then fails).
func (s *Store) CleanTemp(ctx context.Context, olderThan time.Duration) (removed int, err error) {
	cutoff := time.Now().Add(-olderThan)
	cur, err := s.files.Find(ctx, bson.D{
		{Key: "filename", Value: bson.D{{Key: "$regex", Value: "^" + regexp.QuoteMeta(tmpPrefix)}}},
		{Key: "uploadDate", Value: bson.D{{Key: "$lt", Value: cutoff}}},
	}, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: "filename", Value: 1}}))
	if err != nil {
		return 0, fmt.Errorf("gridfs blob store: list temporary uploads: %w", err)
	}
	var stale []bson.Binary
	for cur.Next(ctx) {
		var f fileDoc
		if err := cur.Decode(&f); err != nil {
			_ = cur.Close(ctx)
			return 0, fmt.Errorf("gridfs blob store: list temporary uploads: %w", err)
		}
		if f.Filename == tmpName(f.ID) {
			stale = append(stale, f.ID)
		}
	}
	err = cur.Err()
	_ = cur.Close(ctx)
	if err != nil {
		return 0, fmt.Errorf("gridfs blob store: list temporary uploads: %w", err)
	}
	for _, up := range stale {
		if err := s.removeUpload(ctx, up); err != nil {
			return removed, fmt.Errorf("gridfs blob store: remove temporary upload: %w", err)
		}
		removed++
	}
	return removed, nil
}
