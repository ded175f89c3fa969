package mongo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/eidermail/eider/engine"
)

// counts are a mailbox's STATUS counters, or a change to them.
type counts struct {
	Messages int64 `bson:"messages"`
	Unseen   int64 `bson:"unseen"`
	Deleted  int64 `bson:"deleted"`
	Size     int64 `bson:"size"`
}

func (c *counts) add(sign, size int64, flags int32) {
	c.Messages += sign
	c.Size += sign * size
	if engine.SystemFlags(flags)&engine.SysSeen == 0 {
		c.Unseen += sign
	}
	if engine.SystemFlags(flags)&engine.SysDeleted != 0 {
		c.Deleted += sign
	}
}

func (c counts) neg() counts { return counts{-c.Messages, -c.Unseen, -c.Deleted, -c.Size} }

func (c counts) inc() bson.D {
	return bson.D{{Key: "messages", Value: c.Messages}, {Key: "unseen", Value: c.Unseen}, {Key: "deleted", Value: c.Deleted}, {Key: "size", Value: c.Size}}
}

// pendingEntry is an operation in progress on a mailbox, pushed in the
// same write that gave it its MODSEQ (and UIDs) and applied its counter
// change. Readers see the mailbox as of just before the oldest entry.
type pendingEntry struct {
	Op     string    `bson:"op"`
	ModSeq int64     `bson:"modseq"`
	UID    int64     `bson:"uid"` // first UID allocated, 0 when none
	N      int64     `bson:"n"`   // UIDs allocated
	Delta  counts    `bson:"delta"`
	At     time.Time `bson:"at"`
}

// checkpoint records that every journal entry with MODSEQ ≤ ModSeq was
// written by At: once At is older than the journal TTL, such entries may
// be gone.
type checkpoint struct {
	ModSeq int64     `bson:"modseq"`
	At     time.Time `bson:"at"`
}

type mailboxDoc struct {
	ID           int64          `bson:"_id"`
	User         int64          `bson:"user"`
	Name         string         `bson:"name"`
	SpecialUse   string         `bson:"special_use"`
	UIDValidity  int64          `bson:"uidvalidity"`
	UIDNext      int64          `bson:"uidnext"`
	ModSeq       int64          `bson:"modseq"`
	JournalFloor int64          `bson:"journal_floor"`
	Checkpoints  []checkpoint   `bson:"checkpoints"`
	RecentUID    int64          `bson:"recent_uid"`
	Keywords     []string       `bson:"kws"` // first spellings, parallel to KeywordKeys
	KeywordKeys  []string       `bson:"kwf"`
	Pending      []pendingEntry `bson:"pending"`
	Deleting     bool           `bson:"deleting,omitempty"`
	Status       counts         `bson:",inline"`
}

// visible returns the highest MODSEQ and the UID limit readers may see:
// every change up to the MODSEQ is complete, and UIDs at or above the limit
// belong to appends still in progress.
func (m *mailboxDoc) visible() (highest, uidLimit int64) {
	highest, uidLimit = m.ModSeq, m.UIDNext
	for _, p := range m.Pending {
		highest = min(highest, p.ModSeq-1)
		if p.N > 0 {
			uidLimit = min(uidLimit, p.UID)
		}
	}
	return highest, uidLimit
}

func (m *mailboxDoc) entry(op string) *pendingEntry {
	for i := range m.Pending {
		if m.Pending[i].Op == op {
			return &m.Pending[i]
		}
	}
	return nil
}

func (s *Store) mailbox(m *mailboxDoc, subscribed bool) engine.Mailbox {
	highest, _ := m.visible()
	return engine.Mailbox{ID: engine.MailboxID(m.ID), UserID: engine.UserID(m.User), Name: m.Name, SpecialUse: m.SpecialUse,
		UIDValidity: uint32(m.UIDValidity), UIDNext: engine.UID(m.UIDNext), HighestModSeq: engine.ModSeq(highest), Subscribed: subscribed}
}

var liveMailbox = bson.E{Key: "deleting", Value: d("$ne", true)}

// loadMailbox reads a mailbox of user; ErrNotFound for another user's or
// one being deleted.
func (s *Store) loadMailbox(ctx context.Context, user engine.UserID, id engine.MailboxID) (*mailboxDoc, error) {
	var m mailboxDoc
	err := s.mailboxes.FindOne(ctx, bson.D{{Key: "_id", Value: int64(id)}, {Key: "user", Value: int64(user)}, liveMailbox}).Decode(&m)
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("mailbox %d", id))
	}
	return &m, nil
}

func (s *Store) subscribed(ctx context.Context, user engine.UserID) ([]string, error) {
	u, err := s.loadUser(ctx, user)
	if err != nil {
		return nil, err
	}
	return u.Subscribed, nil
}

// CreateMailbox creates a mailbox whose UIDVALIDITY is above any this user
// had: the user's counter is raised to the clock first, then incremented.
func (s *Store) CreateMailbox(ctx context.Context, user engine.UserID, name, specialUse string) (engine.Mailbox, error) {
	if name == "" {
		return engine.Mailbox{}, fmt.Errorf("mongo: create mailbox: empty name: %w", engine.ErrInvalidName)
	}
	return s.createMailbox(ctx, user, mailboxDoc{Name: name, SpecialUse: specialUse, UIDNext: 1, ModSeq: 1}, false)
}

func (s *Store) createMailbox(ctx context.Context, user engine.UserID, m mailboxDoc, keepUIDValidity bool) (engine.Mailbox, error) {
	filter := bson.D{{Key: "_id", Value: int64(user)}, live}
	if now := s.opt.Now().Unix(); now <= math.MaxUint32 {
		if _, err := s.users.UpdateOne(ctx, filter, d("$max", d("last_uidvalidity", now-1))); err != nil {
			return engine.Mailbox{}, wrap("create mailbox", err)
		}
	}
	var u userDoc
	update := d("$inc", d("last_uidvalidity", int64(1)))
	if keepUIDValidity {
		update = d("$max", d("last_uidvalidity", m.UIDValidity))
	}
	err := s.users.FindOneAndUpdate(ctx, filter, update, options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&u)
	if err != nil {
		return engine.Mailbox{}, wrap("create mailbox", notFound(err, fmt.Sprintf("user %d", user)))
	}
	if !keepUIDValidity {
		if u.LastUIDV > math.MaxUint32 {
			return engine.Mailbox{}, wrap("create mailbox", errors.New("uidvalidity space exhausted"))
		}
		m.UIDValidity = u.LastUIDV
	}
	id, err := s.nextIDs(ctx, "mailboxes", 1)
	if err != nil {
		return engine.Mailbox{}, wrap("create mailbox", err)
	}
	m.ID, m.User = id, int64(user)
	m.Keywords, m.KeywordKeys, m.Pending, m.Checkpoints = []string{}, []string{}, []pendingEntry{}, []checkpoint{}
	if _, err := s.mailboxes.InsertOne(ctx, m); err != nil {
		if dup(err) {
			return engine.Mailbox{}, fmt.Errorf("mongo: create mailbox %q: %w", m.Name, engine.ErrExists)
		}
		return engine.Mailbox{}, wrap("create mailbox", err)
	}
	return s.mailbox(&m, slices.Contains(u.Subscribed, m.Name)), nil
}

// Mailboxes returns a user's mailboxes sorted by name.
func (s *Store) Mailboxes(ctx context.Context, user engine.UserID) ([]engine.Mailbox, error) {
	subs, err := s.subscribed(ctx, user)
	if err != nil {
		return nil, wrap("mailboxes", err)
	}
	cur, err := s.mailboxes.Find(ctx, bson.D{{Key: "user", Value: int64(user)}, liveMailbox}, options.Find().SetSort(d("name", 1)))
	if err != nil {
		return nil, wrap("mailboxes", err)
	}
	var docs []mailboxDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, wrap("mailboxes", err)
	}
	out := make([]engine.Mailbox, len(docs))
	for i := range docs {
		out[i] = s.mailbox(&docs[i], slices.Contains(subs, docs[i].Name))
	}
	slices.SortFunc(out, func(a, b engine.Mailbox) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// MailboxByName returns a user's mailbox by its full name.
func (s *Store) MailboxByName(ctx context.Context, user engine.UserID, name string) (engine.Mailbox, error) {
	subs, err := s.subscribed(ctx, user)
	if err != nil {
		return engine.Mailbox{}, wrap("mailbox by name", fmt.Errorf("mailbox %q: %w", name, engine.ErrNotFound))
	}
	var m mailboxDoc
	if err := s.mailboxes.FindOne(ctx, bson.D{{Key: "user", Value: int64(user)}, {Key: "name", Value: name}, liveMailbox}).Decode(&m); err != nil {
		return engine.Mailbox{}, wrap("mailbox by name", notFound(err, fmt.Sprintf("mailbox %q", name)))
	}
	return s.mailbox(&m, slices.Contains(subs, name)), nil
}

// Mailbox returns a user's mailbox by id.
func (s *Store) Mailbox(ctx context.Context, user engine.UserID, id engine.MailboxID) (engine.Mailbox, error) {
	m, err := s.loadMailbox(ctx, user, id)
	if err != nil {
		return engine.Mailbox{}, wrap("mailbox", err)
	}
	subs, err := s.subscribed(ctx, user)
	if err != nil {
		return engine.Mailbox{}, wrap("mailbox", err)
	}
	return s.mailbox(m, slices.Contains(subs, m.Name)), nil
}

// Status answers STATUS and SELECT from the counters of the mailbox
// document, without the changes of operations still running (which apply
// theirs when they allocate and may yet be rolled back).
func (s *Store) Status(ctx context.Context, user engine.UserID, id engine.MailboxID) (engine.MailboxStatus, error) {
	m, err := s.loadMailbox(ctx, user, id)
	if err != nil {
		return engine.MailboxStatus{}, wrap("status", err)
	}
	subs, err := s.subscribed(ctx, user)
	if err != nil {
		return engine.MailboxStatus{}, wrap("status", err)
	}
	c := m.Status
	for _, p := range m.Pending {
		c.Messages, c.Unseen, c.Deleted, c.Size = c.Messages-p.Delta.Messages, c.Unseen-p.Delta.Unseen, c.Deleted-p.Delta.Deleted, c.Size-p.Delta.Size
	}
	return engine.MailboxStatus{Mailbox: s.mailbox(m, slices.Contains(subs, m.Name)),
		Messages: c.Messages, Unseen: c.Unseen, Deleted: c.Deleted, Size: c.Size}, nil
}

// RenameMailbox renames a mailbox and its children. The plan (every id and
// its new name) is written to an op document first and carried out by
// finishRename, which recovery repeats after a crash; a name clash found
// on the way undoes the renames done so far.
func (s *Store) RenameMailbox(ctx context.Context, user engine.UserID, oldName, newName string) error {
	if newName == "" {
		return fmt.Errorf("mongo: rename mailbox: empty name: %w", engine.ErrInvalidName)
	}
	ctx, cancel := s.opContext(ctx)
	defer cancel()
	cur, err := s.mailboxes.Find(ctx, bson.D{{Key: "user", Value: int64(user)}, liveMailbox}, options.Find().SetProjection(bson.D{{Key: "name", Value: 1}}))
	if err != nil {
		return wrap("rename mailbox", err)
	}
	var docs []struct {
		ID   int64  `bson:"_id"`
		Name string `bson:"name"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return wrap("rename mailbox", err)
	}
	names := map[string]int64{}
	for _, m := range docs {
		names[m.Name] = m.ID
	}
	if _, ok := names[oldName]; !ok {
		return fmt.Errorf("mongo: rename mailbox %q: %w", oldName, engine.ErrNotFound)
	}
	op := newOp(opRename, int64(user), s.opt.Now())
	prefix := oldName + engine.HierarchySeparator
	for name, id := range names {
		var target string
		switch {
		case name == oldName:
			target = newName
		case strings.HasPrefix(name, prefix):
			target = newName + name[len(oldName):]
		default:
			continue
		}
		if _, taken := names[target]; taken {
			return fmt.Errorf("mongo: rename mailbox %q: %w", target, engine.ErrExists)
		}
		op.Renames = append(op.Renames, rename{ID: id, From: name, To: target})
	}
	if err := s.insertOp(ctx, op); err != nil {
		return wrap("rename mailbox", err)
	}
	return wrap("rename mailbox", s.finishRename(ctx, op))
}

func (s *Store) finishRename(ctx context.Context, op *opDoc) error {
	for i, r := range op.Renames {
		_, err := s.mailboxes.UpdateOne(ctx, bson.D{{Key: "_id", Value: r.ID}, {Key: "name", Value: r.From}}, d("$set", d("name", r.To)))
		if dup(err) {
			// Taken meanwhile: put back what was renamed.
			for _, back := range op.Renames[:i] {
				if _, err := s.mailboxes.UpdateOne(ctx, bson.D{{Key: "_id", Value: back.ID}, {Key: "name", Value: back.To}}, d("$set", d("name", back.From))); err != nil {
					return err
				}
			}
			if _, err := s.ops.DeleteOne(ctx, d("_id", op.ID)); err != nil {
				return err
			}
			return fmt.Errorf("mailbox %q: %w", r.To, engine.ErrExists)
		}
		if err != nil {
			return err
		}
		if err := s.step("rename:one"); err != nil {
			return err
		}
	}
	_, err := s.ops.DeleteOne(ctx, d("_id", op.ID))
	return err
}

// DeleteMailbox marks the mailbox deleted (it disappears at once), expunges
// its messages in batches that release their references and quota, then
// removes its journal and the mailbox document.
func (s *Store) DeleteMailbox(ctx context.Context, user engine.UserID, id engine.MailboxID) error {
	ctx, cancel := s.opContext(ctx)
	defer cancel()
	return wrap("delete mailbox", s.deleteMailbox(ctx, user, id, false))
}

func (s *Store) deleteMailbox(ctx context.Context, user engine.UserID, id engine.MailboxID, userDeleting bool) error {
	filter := bson.D{{Key: "_id", Value: int64(id)}, {Key: "user", Value: int64(user)}}
	if !userDeleting {
		if _, err := s.loadMailbox(ctx, user, id); err != nil {
			return err
		}
	}
	op := newOp(opDeleteMailbox, int64(user), s.opt.Now())
	op.Src = int64(id)
	if err := s.insertOp(ctx, op); err != nil {
		return err
	}
	res, err := s.mailboxes.UpdateOne(ctx, filter, d("$set", d("deleting", true)))
	if err != nil {
		return err
	}
	if res.MatchedCount == 0 {
		s.ops.DeleteOne(ctx, d("_id", op.ID))
		return fmt.Errorf("mailbox %d: %w", id, engine.ErrNotFound)
	}
	if err := s.step("deletemailbox:marked"); err != nil {
		return err
	}
	return s.finishDeleteMailbox(ctx, op)
}

// finishDeleteMailbox empties a mailbox marked deleted and removes it. It
// waits for operations still running on the mailbox to end (recovery ends
// those of crashed nodes).
func (s *Store) finishDeleteMailbox(ctx context.Context, op *opDoc) error {
	user, id := engine.UserID(op.User), engine.MailboxID(op.Src)
	for {
		removed, _, err := s.expunge(ctx, user, id, nil, false)
		if errors.Is(err, engine.ErrNotFound) {
			break // already removed
		}
		if err != nil {
			return err
		}
		var m mailboxDoc
		err = s.mailboxes.FindOne(ctx, d("_id", int64(id))).Decode(&m)
		if errors.Is(err, mongo.ErrNoDocuments) {
			break
		}
		if err != nil {
			return err
		}
		if len(m.Pending) == 0 && removed.IsEmpty() {
			if _, err := s.journal.DeleteMany(ctx, d("mailbox", int64(id))); err != nil {
				return err
			}
			if _, err := s.mailboxes.DeleteOne(ctx, bson.D{{Key: "_id", Value: int64(id)}, {Key: "pending", Value: d("$size", 0)}}); err != nil {
				return err
			}
			continue
		}
		if len(m.Pending) > 0 && removed.IsEmpty() {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	_, err := s.ops.DeleteOne(ctx, d("_id", op.ID))
	return err
}

// SetSubscribed adds or removes a subscription by name.
func (s *Store) SetSubscribed(ctx context.Context, user engine.UserID, name string, on bool) error {
	if name == "" {
		return fmt.Errorf("mongo: set subscribed: empty name: %w", engine.ErrInvalidName)
	}
	update := d("$pull", d("subs", name))
	if on {
		update = d("$addToSet", d("subs", name))
	}
	res, err := s.users.UpdateOne(ctx, bson.D{{Key: "_id", Value: int64(user)}, live}, update)
	if err == nil && res.MatchedCount == 0 {
		err = fmt.Errorf("user %d: %w", user, engine.ErrNotFound)
	}
	return wrap("set subscribed", err)
}

// Subscriptions returns the subscribed names, sorted.
func (s *Store) Subscriptions(ctx context.Context, user engine.UserID) ([]string, error) {
	subs, err := s.subscribed(ctx, user)
	if err != nil {
		return nil, wrap("subscriptions", err)
	}
	out := slices.Clone(subs)
	slices.Sort(out)
	return out, nil
}

// ClaimRecent hands the messages that arrived since the last claim to the
// caller as \Recent, with a compare-and-set on recent_uid.
func (s *Store) ClaimRecent(ctx context.Context, user engine.UserID, mailbox engine.MailboxID) (engine.UID, engine.UID, error) {
	for {
		m, err := s.loadMailbox(ctx, user, mailbox)
		if err != nil {
			return 0, 0, wrap("claim recent", err)
		}
		_, limit := m.visible()
		first, last := engine.UID(m.RecentUID+1), engine.UID(limit-1)
		if limit-1 <= m.RecentUID {
			return first, last, nil
		}
		res, err := s.mailboxes.UpdateOne(ctx, bson.D{{Key: "_id", Value: m.ID}, {Key: "recent_uid", Value: m.RecentUID}},
			d("$set", d("recent_uid", limit-1)))
		if err != nil {
			return 0, 0, wrap("claim recent", err)
		}
		if res.ModifiedCount == 1 {
			return first, last, nil
		}
		if err := ctx.Err(); err != nil {
			return 0, 0, wrap("claim recent", err)
		}
	}
}

// Keywords returns the keywords ever set in the mailbox, sorted.
func (s *Store) Keywords(ctx context.Context, user engine.UserID, mailbox engine.MailboxID) ([]string, error) {
	m, err := s.loadMailbox(ctx, user, mailbox)
	if err != nil {
		return nil, wrap("keywords", err)
	}
	out := slices.Clone(m.Keywords)
	slices.Sort(out)
	return out, nil
}

// recordKeywords adds keywords not yet listed to the mailbox's list, the
// first spelling of each.
func (s *Store) recordKeywords(ctx context.Context, m *mailboxDoc, keywords []string) error {
	seen := map[string]bool{}
	for _, k := range m.KeywordKeys {
		seen[k] = true
	}
	for _, k := range keywords {
		key := keywordKey(k)
		if seen[key] {
			continue
		}
		seen[key] = true
		_, err := s.mailboxes.UpdateOne(ctx, bson.D{{Key: "_id", Value: m.ID}, {Key: "kwf", Value: d("$ne", key)}},
			d("$push", bson.D{{Key: "kwf", Value: key}, {Key: "kws", Value: k}}))
		if err != nil {
			return err
		}
	}
	return nil
}

// allocation is what allocate reserved.
type allocation struct {
	mb     *mailboxDoc // the mailbox after the allocation
	modseq int64
	first  int64 // first UID
}

// allocate gives operation op a MODSEQ and n UIDs in mailbox and applies
// delta to its counters, in one compare-and-set write that also pushes
// the op's pending entry (holding the MODSEQ it got, which an $inc could
// not record in the same write). It repeats when another writer got there
// first. With keep, nothing is allocated (a load keeps its own numbers). Allocating again
// for an op returns what it got the first time.
func (s *Store) allocate(ctx context.Context, user engine.UserID, mailbox engine.MailboxID, op string, n int64, delta counts, keep bool, deleting bool) (allocation, error) {
	for {
		var m mailboxDoc
		filter := bson.D{{Key: "_id", Value: int64(mailbox)}, {Key: "user", Value: int64(user)}}
		if !deleting {
			filter = append(filter, liveMailbox)
		}
		if err := s.mailboxes.FindOne(ctx, filter).Decode(&m); err != nil {
			return allocation{}, notFound(err, fmt.Sprintf("mailbox %d", mailbox))
		}
		if e := m.entry(op); e != nil {
			return allocation{mb: &m, modseq: e.ModSeq, first: e.UID}, nil
		}
		if m.UIDNext+n-1 > math.MaxUint32 {
			return allocation{}, fmt.Errorf("mailbox %d: uid space exhausted", mailbox)
		}
		now := s.opt.Now()
		entry := pendingEntry{Op: op, ModSeq: m.ModSeq + 1, UID: m.UIDNext, N: n, Delta: delta, At: now}
		set := bson.D{{Key: "modseq", Value: m.ModSeq + 1}, {Key: "uidnext", Value: m.UIDNext + n}}
		if keep {
			// The loaded messages stay hidden by their pending mark;
			// the entry hides no UID.
			entry.UID, entry.N = 0, 0
			set = bson.D{{Key: "modseq", Value: m.ModSeq}}
		}
		push := bson.D{{Key: "pending", Value: entry}}
		if due := s.checkpointDue(&m, now); due {
			push = append(push, bson.E{Key: "checkpoints", Value: checkpoint{ModSeq: m.ModSeq, At: now}})
		}
		cas := append(filter, bson.E{Key: "modseq", Value: m.ModSeq}, bson.E{Key: "uidnext", Value: m.UIDNext})
		var after mailboxDoc
		err := s.mailboxes.FindOneAndUpdate(ctx, cas, bson.D{{Key: "$set", Value: set}, {Key: "$inc", Value: delta.inc()}, {Key: "$push", Value: push}},
			options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&after)
		if err == nil {
			if len(after.Checkpoints) > maxCheckpoints {
				s.mailboxes.UpdateOne(ctx, d("_id", after.ID), d("$pop", d("checkpoints", -1)))
			}
			return allocation{mb: &after, modseq: entry.ModSeq, first: entry.UID}, nil
		}
		if !errors.Is(err, mongo.ErrNoDocuments) {
			return allocation{}, err
		}
		if err := ctx.Err(); err != nil {
			return allocation{}, err
		}
	}
}

// maxCheckpoints bounds a mailbox's checkpoint list.
const maxCheckpoints = 32

// checkpointDue says whether the allocation should record a checkpoint:
// one per sixteenth of the journal TTL.
func (s *Store) checkpointDue(m *mailboxDoc, now time.Time) bool {
	if len(m.Checkpoints) == 0 {
		return true
	}
	return now.Sub(m.Checkpoints[len(m.Checkpoints)-1].At) >= s.opt.JournalTTL/16
}

// release ends op's pending entry on a mailbox; with extra, it also
// applies a last counter change (a STORE's \Seen and \Deleted counts).
// The entry is pulled by its whole value, as read: it never changes
// while it exists, and exact-value $pull is the one form every server
// claiming the wire protocol implements alike.
func (s *Store) release(ctx context.Context, mailbox int64, op string, extra counts) error {
	var m mailboxDoc
	err := s.mailboxes.FindOne(ctx, bson.D{{Key: "_id", Value: mailbox}, {Key: "pending.op", Value: op}},
		options.FindOne().SetProjection(d("pending", 1))).Decode(&m)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil // ended already, or the mailbox is gone
	}
	if err != nil {
		return err
	}
	e := m.entry(op)
	if e == nil {
		return nil
	}
	_, err = s.mailboxes.UpdateOne(ctx, bson.D{{Key: "_id", Value: mailbox}, {Key: "pending.op", Value: op}},
		bson.D{{Key: "$inc", Value: extra.inc()}, {Key: "$pull", Value: d("pending", *e)}})
	return err
}

// undoAllocation takes back op's counter change and pending entry, and
// the journal entries written under its MODSEQ.
func (s *Store) undoAllocation(ctx context.Context, mailbox int64, op string) error {
	var m mailboxDoc
	err := s.mailboxes.FindOne(ctx, d("_id", mailbox)).Decode(&m)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil
	}
	if err != nil {
		return err
	}
	e := m.entry(op)
	if e == nil {
		return nil
	}
	if _, err := s.journal.DeleteMany(ctx, bson.D{{Key: "mailbox", Value: mailbox}, {Key: "modseq", Value: e.ModSeq}}); err != nil {
		return err
	}
	return s.release(ctx, mailbox, op, e.Delta.neg())
}
