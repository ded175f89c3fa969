package mongo

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/eidermail/eider/engine"
)

// journalEntry is a document of journal.
type journalEntry struct {
	Mailbox int64     `bson:"mailbox"`
	ModSeq  int64     `bson:"modseq"`
	UID     int64     `bson:"uid"`
	Kind    int32     `bson:"kind"`
	Flags   []string  `bson:"flags,omitempty"`
	At      time.Time `bson:"at"` // the TTL index expires entries by it
}

// writeJournal inserts entries; an entry already there (unique on
// mailbox, MODSEQ, UID) was written by an earlier try and is skipped.
func (s *Store) writeJournal(ctx context.Context, entries []journalEntry) error {
	for start := 0; start < len(entries); start += 1000 {
		part := entries[start:min(start+1000, len(entries))]
		docs := make([]any, len(part))
		for i := range part {
			docs[i] = &part[i]
		}
		if _, err := s.journal.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false)); onlyDups(err) != nil {
			return err
		}
	}
	return nil
}

// expiredFloor is the MODSEQ at and below which the journal may have lost
// entries: the journal floor PruneJournal raised, or the newest checkpoint
// older than the journal TTL (the TTL index deletes silently).
func (s *Store) expiredFloor(m *mailboxDoc) int64 {
	floor := m.JournalFloor
	horizon := s.opt.Now().Add(-s.opt.JournalTTL)
	for _, c := range m.Checkpoints {
		if !c.At.After(horizon) {
			floor = max(floor, c.ModSeq)
		}
	}
	return floor
}

// Journal returns the changes with since < MODSEQ ≤ the visible highest
// MODSEQ, oldest first, or ErrJournalExpired when entries after since may
// be gone: never a partial list.
func (s *Store) Journal(ctx context.Context, user engine.UserID, mailbox engine.MailboxID, since engine.ModSeq) ([]engine.Change, error) {
	m, err := s.loadMailbox(ctx, user, mailbox)
	if err != nil {
		return nil, wrap("journal", err)
	}
	if floor := s.expiredFloor(m); uint64(since) < uint64(floor) {
		return nil, fmt.Errorf("mongo: journal: mailbox %d keeps changes after %d, asked after %d: %w", mailbox, floor, since, engine.ErrJournalExpired)
	}
	highest, _ := m.visible()
	if uint64(since) >= uint64(highest) {
		return nil, nil
	}
	cur, err := s.journal.Find(ctx, bson.D{{Key: "mailbox", Value: m.ID}, {Key: "modseq", Value: bson.D{{Key: "$gt", Value: int64(since)}, {Key: "$lte", Value: highest}}}},
		options.Find().SetSort(bson.D{{Key: "modseq", Value: 1}, {Key: "uid", Value: 1}}))
	if err != nil {
		return nil, wrap("journal", err)
	}
	var docs []journalEntry
	if err := cur.All(ctx, &docs); err != nil {
		return nil, wrap("journal", err)
	}
	// The floor may have risen while we read (a prune): answer expired
	// rather than the part that was left.
	if again, err := s.loadMailbox(ctx, user, mailbox); err != nil {
		return nil, wrap("journal", err)
	} else if floor := s.expiredFloor(again); uint64(since) < uint64(floor) {
		return nil, fmt.Errorf("mongo: journal: mailbox %d keeps changes after %d, asked after %d: %w", mailbox, floor, since, engine.ErrJournalExpired)
	}
	out := make([]engine.Change, len(docs))
	for i, e := range docs {
		out[i] = engine.Change{ModSeq: engine.ModSeq(e.ModSeq), Kind: engine.ChangeKind(e.Kind), UID: engine.UID(e.UID)}
		if out[i].Kind != engine.ChangeExpunge {
			out[i].Flags = slices.Clone(e.Flags)
			if out[i].Flags == nil {
				out[i].Flags = []string{}
			}
			slices.Sort(out[i].Flags)
		}
	}
	return out, nil
}

// PruneJournal deletes entries recorded before the given time, raising
// each mailbox's journal floor to the highest MODSEQ it deletes first, so
// Journal answers ErrJournalExpired instead of a partial list. The TTL
// index does the same work silently on MongoDB; this is for servers
// without TTL indexes and for operators who want a shorter horizon.
func (s *Store) PruneJournal(ctx context.Context, before time.Time) (int64, error) {
	cur, err := s.journal.Find(ctx, d("at", d("$lt", before)), options.Find().SetProjection(bson.D{{Key: "mailbox", Value: 1}, {Key: "modseq", Value: 1}}))
	if err != nil {
		return 0, wrap("prune journal", err)
	}
	tops := map[int64]int64{}
	for cur.Next(ctx) {
		var e journalEntry
		if err := cur.Decode(&e); err != nil {
			cur.Close(ctx)
			return 0, wrap("prune journal", err)
		}
		tops[e.Mailbox] = max(tops[e.Mailbox], e.ModSeq)
	}
	if err := cur.Err(); err != nil {
		cur.Close(ctx)
		return 0, wrap("prune journal", err)
	}
	cur.Close(ctx)
	var n int64
	for mailbox, top := range tops {
		if _, err := s.mailboxes.UpdateOne(ctx, d("_id", mailbox), d("$max", d("journal_floor", top))); err != nil {
			return n, wrap("prune journal", err)
		}
		res, err := s.journal.DeleteMany(ctx, bson.D{{Key: "mailbox", Value: mailbox}, {Key: "modseq", Value: d("$lte", top)}, {Key: "at", Value: d("$lt", before)}})
		if err != nil {
			return n, wrap("prune journal", err)
		}
		n += res.DeletedCount
	}
	return n, nil
}
