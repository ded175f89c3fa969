package mongo

import (
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/eidermail/eider/engine"
)

// Operation kinds in the ops collection.
const (
	opAppend        = "append"
	opLoad          = "load"
	opCopy          = "copy"
	opMove          = "move"
	opExpunge       = "expunge"
	opDeleteMailbox = "deletemailbox"
	opDeleteUser    = "deleteuser"
	opRename        = "rename"
)

// Op states: a prepared op is rolled back by recovery, a committed one
// rolled forward. The commit is one conditional write on the op document,
// which recovery's claim makes fail.
const (
	statePrepared  = "prepared"
	stateCommitted = "committed"
)

// opDoc is the write-ahead record of a multi-document operation: what it
// will change, written before it changes anything, deleted when done.
type opDoc struct {
	ID    string    `bson:"_id"`
	Kind  string    `bson:"kind"`
	User  int64     `bson:"user"`
	Src   int64     `bson:"src,omitempty"` // source mailbox (copy, move, expunge, delete)
	Dst   int64     `bson:"dst,omitempty"` // target mailbox (append, load, copy, move)
	State string    `bson:"state"`
	At    time.Time `bson:"at"`
	// Claim is set by a recovery pass working on the op, until the time it
	// may be taken over by another pass.
	Claim *time.Time `bson:"claim,omitempty"`

	// Quota change of the user (positive: charged before the commit;
	// negative: released after it).
	Bytes int64 `bson:"bytes"`
	Count int64 `bson:"count"`
	// Reference changes, applied like the quota.
	Blobs    []blobDelta `bson:"blobs"`
	Texts    []textDelta `bson:"texts"`
	NewTexts []int64     `bson:"new_texts"` // texts this op inserted (append, load)

	Journal bool     `bson:"journal"`
	Renames []rename `bson:"renames,omitempty"`

	// recovering is set when a recovery pass runs the op: its changes may
	// have been applied before the crash, so each is conditional on the
	// op's marker being absent. The node running the op live applies each
	// once (retryable writes make a retried write exactly-once) and can
	// address documents by _id alone.
	recovering bool
}

type blobDelta struct {
	ID []byte `bson:"id"`
	N  int64  `bson:"n"`
}

type textDelta struct {
	ID int64 `bson:"id"`
	N  int64 `bson:"n"`
}

type rename struct {
	ID   int64  `bson:"id"`
	From string `bson:"from"`
	To   string `bson:"to"`
}

func newOp(kind string, user int64, now time.Time) *opDoc {
	return &opDoc{ID: bson.NewObjectID().Hex(), Kind: kind, User: user, State: statePrepared, At: now,
		Blobs: []blobDelta{}, Texts: []textDelta{}, NewTexts: []int64{}, Journal: true}
}

func (s *Store) insertOp(ctx context.Context, op *opDoc) error {
	_, err := s.ops.InsertOne(ctx, op)
	return err
}

// errAborted is returned by an operation whose op a recovery pass took
// over before it committed (it ran longer than the grace period).
var errAborted = errors.New("operation rolled back by recovery")

// commit is the point after which an op is rolled forward.
func (s *Store) commit(ctx context.Context, op *opDoc) error {
	res, err := s.ops.UpdateOne(ctx, bson.D{{Key: "_id", Value: op.ID}, {Key: "state", Value: statePrepared}, {Key: "claim", Value: d("$exists", false)}},
		d("$set", d("state", stateCommitted)))
	if err != nil {
		return err
	}
	if res.MatchedCount == 0 {
		return errAborted
	}
	op.State = stateCommitted
	return nil
}

// opContext bounds an operation well inside the recovery grace period, so
// recovery never works on an op whose node is still running it.
func (s *Store) opContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.opt.RecoveryGrace/2)
}

// crash is a failpoint's stop: the operation returns at once, leaving
// what it wrote for recovery, as a node that died there would.
type crash struct{ step string }

func (c crash) Error() string { return "stopped after " + c.step }

func isCrash(err error) bool {
	var c crash
	return errors.As(err, &c)
}

// applied markers -------------------------------------------------------
//
// A counter document (a user's quota, a blob's or a text's reference
// count) changed by op also gets op in its "ops" array, in the same
// write, and the write only matches while op is not there: applying twice
// is applying once, and recovery can tell whether a change happened.

// chargeQuota adds the op's bytes and messages to the user's usage; with
// limit, only while the usage stays within the user's limit
// (ErrOverQuota otherwise).
func (s *Store) chargeQuota(ctx context.Context, op *opDoc, limit bool) error {
	if op.Bytes == 0 && op.Count == 0 {
		return nil
	}
	for {
		u, err := s.loadUserAny(ctx, op.User)
		if err != nil {
			return err
		}
		if contains(u.Ops, op.ID) {
			return nil
		}
		filter := bson.D{{Key: "_id", Value: op.User}, {Key: "ops", Value: d("$ne", op.ID)}}
		if limit && op.Bytes > 0 {
			if u.QuotaLimit > 0 && u.QuotaUsed+op.Bytes > u.QuotaLimit {
				return fmt.Errorf("%d bytes used of %d, %d more: %w", u.QuotaUsed, u.QuotaLimit, op.Bytes, engine.ErrOverQuota)
			}
			filter = append(filter, bson.E{Key: "quota_limit", Value: u.QuotaLimit})
			if u.QuotaLimit > 0 {
				filter = append(filter, bson.E{Key: "quota_used", Value: d("$lte", u.QuotaLimit-op.Bytes)})
			}
		}
		res, err := s.users.UpdateOne(ctx, filter, bson.D{
			{Key: "$inc", Value: bson.D{{Key: "quota_used", Value: op.Bytes}, {Key: "message_count", Value: op.Count}}},
			{Key: "$push", Value: d("ops", op.ID)}})
		if err != nil || res.MatchedCount == 1 {
			return err
		}
		// The limit or the usage moved meanwhile: look again.
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

func (s *Store) loadUserAny(ctx context.Context, id int64) (*userDoc, error) {
	var u userDoc
	if err := s.users.FindOne(ctx, d("_id", id)).Decode(&u); err != nil {
		return nil, notFound(err, fmt.Sprintf("user %d", id))
	}
	return &u, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// undoQuota takes back a charge op made.
func (s *Store) undoQuota(ctx context.Context, op *opDoc) error {
	_, err := s.users.UpdateOne(ctx, bson.D{{Key: "_id", Value: op.User}, {Key: "ops", Value: op.ID}}, bson.D{
		{Key: "$inc", Value: bson.D{{Key: "quota_used", Value: -op.Bytes}, {Key: "message_count", Value: -op.Count}}},
		{Key: "$pull", Value: d("ops", op.ID)}})
	return err
}

// refChange is one counter document's change.
type refChange struct {
	id any
	n  int64
}

func (op *opDoc) blobChanges(sign int64) []refChange {
	out := make([]refChange, 0, len(op.Blobs))
	for _, b := range op.Blobs {
		if b.N*sign > 0 {
			out = append(out, refChange{hex.EncodeToString(b.ID), b.N})
		}
	}
	return out
}

func (op *opDoc) textChanges(sign int64) []refChange {
	out := make([]refChange, 0, len(op.Texts))
	for _, t := range op.Texts {
		if t.N*sign > 0 {
			out = append(out, refChange{t.ID, t.N})
		}
	}
	return out
}

// applyRefs applies reference changes with op's marker. Blob documents
// are created by their first reference (upsert); a clash of that upsert
// means the document exists with the marker, that is, already applied.
func (s *Store) applyRefs(ctx context.Context, coll *mongo.Collection, op *opDoc, changes []refChange, upsert bool) error {
	if len(changes) == 0 {
		return nil
	}
	models := make([]mongo.WriteModel, len(changes))
	for i, c := range changes {
		filter := bson.D{{Key: "_id", Value: c.id}}
		if op.recovering {
			filter = append(filter, bson.E{Key: "ops", Value: d("$ne", op.ID)})
		}
		models[i] = mongo.NewUpdateOneModel().
			SetFilter(filter).
			SetUpdate(bson.D{{Key: "$inc", Value: d("refs", c.n)}, {Key: "$push", Value: d("ops", op.ID)}}).
			SetUpsert(upsert && c.n > 0)
	}
	return onlyDups(s.bulk(ctx, coll, models))
}

// bulk runs unordered bulk writes of at most s.bulkChunk operations.
func (s *Store) bulk(ctx context.Context, coll *mongo.Collection, models []mongo.WriteModel) error {
	var errs []error
	for start := 0; start < len(models); start += s.bulkChunk {
		_, err := coll.BulkWrite(ctx, models[start:min(start+s.bulkChunk, len(models))], options.BulkWrite().SetOrdered(false))
		if err != nil {
			if onlyDups(err) != nil {
				return err
			}
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return errs[0] // duplicates only: the caller decides
	}
	return nil
}

// onlyDups drops a bulk write error made only of duplicate key errors.
func onlyDups(err error) error {
	var bwe mongo.BulkWriteException
	if errors.As(err, &bwe) && bwe.WriteConcernError == nil {
		for _, we := range bwe.WriteErrors {
			if we.Code != 11000 {
				return err
			}
		}
		return nil
	}
	return ignoreDup(err)
}

// undoRefs takes back reference changes op applied.
func (s *Store) undoRefs(ctx context.Context, coll *mongo.Collection, op string, changes []refChange) error {
	if len(changes) == 0 {
		return nil
	}
	models := make([]mongo.WriteModel, len(changes))
	ids := make(bson.A, len(changes))
	for i, c := range changes {
		models[i] = mongo.NewUpdateOneModel().
			SetFilter(bson.D{{Key: "_id", Value: c.id}, {Key: "ops", Value: op}}).
			SetUpdate(bson.D{{Key: "$inc", Value: d("refs", -c.n)}, {Key: "$pull", Value: d("ops", op)}})
		ids[i] = c.id
	}
	if err := s.bulk(ctx, coll, models); err != nil {
		return err
	}
	return s.dropUnreferenced(ctx, coll, ids)
}

// clearMarkers removes op's marker from counter documents once the op is
// done, and deletes the documents left without references.
// Only released references (released) can leave a document at zero.
func (s *Store) clearMarkers(ctx context.Context, coll *mongo.Collection, op string, changes []refChange, released bool) error {
	if len(changes) == 0 {
		return nil
	}
	models := make([]mongo.WriteModel, len(changes))
	ids := make(bson.A, len(changes))
	for i, c := range changes {
		models[i] = mongo.NewUpdateOneModel().SetFilter(d("_id", c.id)).SetUpdate(d("$pull", d("ops", op)))
		ids[i] = c.id
	}
	if err := s.bulk(ctx, coll, models); err != nil {
		return err
	}
	if released {
		return s.dropUnreferenced(ctx, coll, ids)
	}
	return nil
}

// dropUnreferenced deletes counter documents with no reference and no op
// working on them: a blob without references is then GC's to delete.
func (s *Store) dropUnreferenced(ctx context.Context, coll *mongo.Collection, ids bson.A) error {
	models := make([]mongo.WriteModel, len(ids))
	for i, id := range ids {
		models[i] = mongo.NewDeleteOneModel().SetFilter(bson.D{{Key: "_id", Value: id}, {Key: "refs", Value: d("$lte", 0)}, {Key: "ops", Value: d("$size", 0)}})
	}
	return s.bulk(ctx, coll, models)
}

func (s *Store) clearQuotaMarker(ctx context.Context, op *opDoc) error {
	_, err := s.users.UpdateOne(ctx, bson.D{{Key: "_id", Value: op.User}, {Key: "ops", Value: op.ID}}, d("$pull", d("ops", op.ID)))
	return err
}

// Recovery ---------------------------------------------------------------

// Recover finishes or rolls back the operations of crashed nodes: every
// op document older than the grace period (a prepared op is rolled back,
// a committed one rolled forward), then mailbox entries left without an op
// (an interrupted STORE: its journal entries are completed and the
// mailbox's counters recounted from its messages). Any number of nodes may
// run it at once: an op is claimed before it is worked on.
func (s *Store) Recover(ctx context.Context) error {
	now := s.opt.Now()
	cutoff := now.Add(-s.opt.RecoveryGrace)
	cur, err := s.ops.Find(ctx, d("at", d("$lt", cutoff)), options.Find().SetSort(d("at", 1)))
	if err != nil {
		return err
	}
	var ops []opDoc
	if err := cur.All(ctx, &ops); err != nil {
		return err
	}
	// Deletions wait for the operations running on their mailboxes to
	// end, so those are recovered first.
	slices.SortStableFunc(ops, func(a, b opDoc) int { return cmp.Compare(deletion(a.Kind), deletion(b.Kind)) })
	var errs []error
	for i := range ops {
		op := &ops[i]
		until := now.Add(s.opt.RecoveryGrace)
		res, err := s.ops.UpdateOne(ctx, bson.D{{Key: "_id", Value: op.ID}, {Key: "$or", Value: bson.A{
			d("claim", d("$exists", false)), d("claim", d("$lt", now))}}}, d("$set", d("claim", until)))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if res.MatchedCount == 0 {
			continue // another pass has it, or it is gone
		}
		if err := s.recoverOp(ctx, op); err != nil {
			errs = append(errs, fmt.Errorf("op %s %s: %w", op.Kind, op.ID, err))
			continue
		}
		s.opt.Logger.Info("mongo: recovered an interrupted operation", "op", op.Kind, "id", op.ID, "state", op.State)
	}
	if err := s.recoverEntries(ctx, cutoff); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func deletion(kind string) int {
	switch kind {
	case opDeleteMailbox:
		return 1
	case opDeleteUser:
		return 2
	}
	return 0
}

func (s *Store) recoverOp(ctx context.Context, op *opDoc) error {
	op.recovering = true
	committed := op.State == stateCommitted
	switch op.Kind {
	case opAppend, opLoad, opCopy:
		if committed {
			return s.finishAdd(ctx, op)
		}
		return s.abortAdd(ctx, op)
	case opMove:
		if committed {
			return s.finishMove(ctx, op)
		}
		return s.abortMove(ctx, op)
	case opExpunge:
		if committed {
			return s.finishExpunge(ctx, op)
		}
		return s.abortExpunge(ctx, op)
	case opDeleteMailbox:
		return s.finishDeleteMailbox(ctx, op)
	case opDeleteUser:
		return s.finishDeleteUser(ctx, op)
	case opRename:
		err := s.finishRename(ctx, op)
		if errors.Is(err, engine.ErrExists) {
			return nil // undone, as the live rename would have
		}
		return err
	}
	return fmt.Errorf("unknown op kind %q", op.Kind)
}

// recoverEntries ends mailbox entries older than cutoff that have no op
// document: those of STOREs (which write none) and of ops whose document
// is gone. Their journal entries are completed from the messages that
// carry the entry's MODSEQ, and the mailbox's counters are recounted from
// its messages once no other operation is running on it.
func (s *Store) recoverEntries(ctx context.Context, cutoff time.Time) error {
	cur, err := s.mailboxes.Find(ctx, d("pending.at", d("$lt", cutoff)))
	if err != nil {
		return err
	}
	var boxes []mailboxDoc
	if err := cur.All(ctx, &boxes); err != nil {
		return err
	}
	var errs []error
	for i := range boxes {
		m := &boxes[i]
		stale := 0
		for _, e := range m.Pending {
			if !e.At.Before(cutoff) {
				continue
			}
			n, err := s.ops.CountDocuments(ctx, d("_id", e.Op))
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if n > 0 {
				continue // its op is recovered above or still running
			}
			if err := s.completeFlagJournal(ctx, m.ID, e.ModSeq); err != nil {
				errs = append(errs, err)
				continue
			}
			stale++
		}
		if stale > 0 && stale == len(m.Pending) {
			if err := s.recountMailbox(ctx, m, true); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// completeFlagJournal writes the journal entries of a STORE that stopped
// midway: every message carrying its MODSEQ changed flags under it.
func (s *Store) completeFlagJournal(ctx context.Context, mailbox, modseq int64) error {
	cur, err := s.messages.Find(ctx, bson.D{{Key: "mailbox", Value: mailbox}, {Key: "modseq", Value: modseq}, committedOnly},
		options.Find().SetProjection(bson.D{{Key: "uid", Value: 1}, {Key: "f", Value: 1}, {Key: "kw", Value: 1}}))
	if err != nil {
		return err
	}
	var docs []messageDoc
	if err := cur.All(ctx, &docs); err != nil {
		return err
	}
	entries := make([]journalEntry, len(docs))
	for i, m := range docs {
		entries[i] = journalEntry{Mailbox: mailbox, ModSeq: modseq, UID: m.UID, Kind: int32(engine.ChangeFlags), Flags: m.flagSet().List(), At: s.opt.Now()}
	}
	return s.writeJournal(ctx, entries)
}

// recountMailbox sets a mailbox's counters from its messages and, with
// dropPending, drops its pending entries: only sound when no operation is
// running on it, so the write is conditional on the MODSEQ, UIDNEXT and
// entries read before counting.
func (s *Store) recountMailbox(ctx context.Context, m *mailboxDoc, dropPending bool) error {
	c, err := s.countMailbox(ctx, m.ID)
	if err != nil {
		return err
	}
	filter := bson.D{{Key: "_id", Value: m.ID}, {Key: "modseq", Value: m.ModSeq}, {Key: "uidnext", Value: m.UIDNext},
		{Key: "pending", Value: d("$size", len(m.Pending))}}
	set := bson.D{{Key: "messages", Value: c.Messages}, {Key: "unseen", Value: c.Unseen}, {Key: "deleted", Value: c.Deleted}, {Key: "size", Value: c.Size}}
	if dropPending {
		set = append(set, bson.E{Key: "pending", Value: bson.A{}})
	}
	_, err = s.mailboxes.UpdateOne(ctx, filter, d("$set", set))
	return err
}

// countMailbox counts a mailbox's committed messages.
func (s *Store) countMailbox(ctx context.Context, mailbox int64) (counts, error) {
	var c counts
	cur, err := s.messages.Find(ctx, bson.D{{Key: "mailbox", Value: mailbox}, committedOnly},
		options.Find().SetProjection(bson.D{{Key: "size", Value: 1}, {Key: "f", Value: 1}}))
	if err != nil {
		return c, err
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var m messageDoc
		if err := cur.Decode(&m); err != nil {
			return c, err
		}
		c.add(1, m.Size, m.Flags)
	}
	return c, cur.Err()
}
