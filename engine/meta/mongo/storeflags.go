package mongo

import (
	"context"
	"fmt"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/eidermail/eider/engine"
)

// StoreFlags changes flags. The messages are read, the new flags computed
// in Go, and if any message changes the mailbox write gives the STORE its
// MODSEQ and pending entry. Messages are then updated a group at a time
// (one updateMany per distinct old state), each write conditional on the
// MODSEQ it was read with, so a concurrent STORE is never overwritten
// blindly; the journal gets an entry per changed message; the last
// mailbox write applies the \Seen and \Deleted counts and ends the entry.
// A STORE writes no op document: after a crash recovery completes its
// journal from the messages carrying its MODSEQ and recounts the mailbox.
func (s *Store) StoreFlags(ctx context.Context, user engine.UserID, mailbox engine.MailboxID, uids *roaring.Bitmap, op engine.FlagOp, flags []string, unchangedSince engine.ModSeq) ([]engine.FlagChange, *roaring.Bitmap, error) {
	if op != engine.FlagsAdd && op != engine.FlagsRemove && op != engine.FlagsReplace {
		return nil, nil, fmt.Errorf("mongo: store flags: unknown operation %d", op)
	}
	g, err := engine.ParseFlags(flags)
	if err != nil {
		return nil, nil, fmt.Errorf("mongo: store flags: %w", err)
	}
	ctx, cancel := s.opContext(ctx)
	defer cancel()
	mb, err := s.loadMailbox(ctx, user, mailbox)
	if err != nil {
		return nil, nil, wrap("store flags", err)
	}
	guard := int64(unchangedSince)
	if unchangedSince > engine.ModSeq(1<<63-1) {
		guard = 0
	}
	modified := roaring.New()
	// Messages being expunged or moved are left alone: they are on their way out.
	type change struct {
		uid, oldModSeq int64
		old, next      engine.FlagSet
	}
	var changes []change
	err = s.scan(ctx, mb, uids, bson.D{committedOnly, {Key: "claim", Value: d("$exists", false)}},
		bson.D{{Key: "uid", Value: 1}, {Key: "modseq", Value: 1}, {Key: "f", Value: 1}, {Key: "kw", Value: 1}}, func(m *messageDoc) error {
			if guard > 0 && m.ModSeq > guard {
				modified.Add(uint32(m.UID))
				return nil
			}
			old := m.flagSet()
			next := old.Apply(op, g)
			if !next.Equal(old) {
				changes = append(changes, change{m.UID, m.ModSeq, old, next})
			}
			return nil
		})
	if err != nil {
		return nil, nil, wrap("store flags", err)
	}
	if op != engine.FlagsRemove && len(g.Keywords) > 0 {
		if err := s.recordKeywords(ctx, mb, g.Keywords); err != nil {
			return nil, nil, wrap("store flags", err)
		}
	}
	if len(changes) == 0 {
		return nil, modified, nil
	}
	opID := bson.NewObjectID().Hex()
	a, err := s.allocate(ctx, user, mailbox, opID, 0, counts{}, false, false)
	if err != nil {
		return nil, nil, wrap("store flags", err)
	}
	if err := s.stepErr("store:allocated"); err != nil {
		return nil, nil, err
	}
	// Group by old state and MODSEQ so most STOREs are a few updateManys.
	type groupKey struct {
		modseq int64
		sys    int32
		kw     string
	}
	groups := map[groupKey][]int{}
	var order []groupKey
	for i, c := range changes {
		k := groupKey{c.oldModSeq, int32(c.old.System), fmt.Sprint(c.old.Keywords)}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}
	applied := make([]bool, len(changes))
	for _, k := range order {
		byNext := map[string][]int{}
		for _, i := range groups[k] {
			key := fmt.Sprint(changes[i].next.System, changes[i].next.Keywords)
			byNext[key] = append(byNext[key], i)
		}
		for _, same := range byNext {
			next := changes[same[0]].next
			list := make([]int64, len(same))
			for j, i := range same {
				list[j] = changes[i].uid
			}
			filter := bson.D{{Key: "mailbox", Value: mb.ID}, {Key: "uid", Value: d("$in", list)}, {Key: "modseq", Value: k.modseq},
				committedOnly, {Key: "claim", Value: d("$exists", false)}}
			res, err := s.messages.UpdateMany(ctx, filter, d("$set", bson.D{{Key: "f", Value: int32(next.System)}, {Key: "kw", Value: nonNilStrings(next.Keywords)},
				{Key: "kwf", Value: keywordKeys(next.Keywords)}, {Key: "modseq", Value: a.modseq}}))
			if err != nil {
				return nil, nil, wrap("store flags", err)
			}
			if res.ModifiedCount == int64(len(list)) {
				for _, i := range same {
					applied[i] = true
				}
				continue
			}
			// Some changed meanwhile: see which carry this STORE's MODSEQ.
			if err := s.appliedUIDs(ctx, mb.ID, list, a.modseq, func(uid int64) {
				for _, i := range same {
					if changes[i].uid == uid {
						applied[i] = true
					}
				}
			}); err != nil {
				return nil, nil, wrap("store flags", err)
			}
		}
	}
	if err := s.stepErr("store:messages"); err != nil {
		return nil, nil, err
	}
	var out []engine.FlagChange
	var entries []journalEntry
	var extra counts
	now := s.opt.Now()
	for i, c := range changes {
		if !applied[i] {
			continue
		}
		list := c.next.List()
		out = append(out, engine.FlagChange{UID: engine.UID(c.uid), ModSeq: engine.ModSeq(a.modseq), Flags: list})
		entries = append(entries, journalEntry{Mailbox: mb.ID, ModSeq: a.modseq, UID: c.uid, Kind: int32(engine.ChangeFlags), Flags: list, At: now})
		extra.add(-1, 0, int32(c.old.System))
		extra.add(1, 0, int32(c.next.System))
	}
	if err := s.writeJournal(ctx, entries); err != nil {
		return nil, nil, wrap("store flags", err)
	}
	if err := s.stepErr("store:journal"); err != nil {
		return nil, nil, err
	}
	if err := s.release(ctx, mb.ID, opID, extra); err != nil {
		return nil, nil, wrap("store flags", err)
	}
	slices.SortFunc(out, func(a, b engine.FlagChange) int { return int(a.UID) - int(b.UID) })
	return out, modified, nil
}

func (s *Store) appliedUIDs(ctx context.Context, mailbox int64, uids []int64, modseq int64, fn func(uid int64)) error {
	cur, err := s.messages.Find(ctx, bson.D{{Key: "mailbox", Value: mailbox}, {Key: "uid", Value: d("$in", uids)}, {Key: "modseq", Value: modseq}},
		options.Find().SetProjection(d("uid", 1)))
	if err != nil {
		return err
	}
	var docs []messageDoc
	if err := cur.All(ctx, &docs); err != nil {
		return err
	}
	for _, m := range docs {
		fn(m.UID)
	}
	return nil
}
