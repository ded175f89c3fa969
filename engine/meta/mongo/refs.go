package mongo

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/eidermail/eider/engine"
)

// blobRefDoc is a document of blobrefs, keyed by the blob id in hex (as
// BlobID.String spells it, and as an operator types it in the shell).
type blobRefDoc struct {
	ID   string   `bson:"_id"`
	Refs int64    `bson:"refs"`
	Ops  []string `bson:"ops"`
}

// BlobRefs returns each blob's reference count, 0 for unknown blobs.
func (s *Store) BlobRefs(ctx context.Context, ids []engine.BlobID) ([]int64, error) {
	out := make([]int64, len(ids))
	index := map[engine.BlobID][]int{}
	keys := make(bson.A, 0, len(ids))
	for i, id := range ids {
		if _, ok := index[id]; !ok {
			keys = append(keys, id.String())
		}
		index[id] = append(index[id], i)
	}
	for start := 0; start < len(keys); start += 1000 {
		cur, err := s.blobRefs.Find(ctx, d("_id", d("$in", keys[start:min(start+1000, len(keys))])), options.Find().SetProjection(d("refs", 1)))
		if err != nil {
			return nil, wrap("blob refs", err)
		}
		var docs []blobRefDoc
		if err := cur.All(ctx, &docs); err != nil {
			return nil, wrap("blob refs", err)
		}
		for _, b := range docs {
			id, err := engine.ParseBlobID(b.ID)
			if err != nil {
				continue
			}
			for _, i := range index[id] {
				out[i] = max(b.Refs, 0)
			}
		}
	}
	return out, nil
}

// ReferencedBlobs calls fn for every blob with at least one reference, in id order.
func (s *Store) ReferencedBlobs(ctx context.Context, fn func(id engine.BlobID, refs int64) error) error {
	cur, err := s.blobRefs.Find(ctx, d("refs", d("$gt", 0)), options.Find().SetSort(d("_id", 1)).SetProjection(d("refs", 1)))
	if err != nil {
		return wrap("referenced blobs", err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var b blobRefDoc
		if err := cur.Decode(&b); err != nil {
			return wrap("referenced blobs", err)
		}
		id, err := engine.ParseBlobID(b.ID)
		if err != nil {
			return fmt.Errorf("mongo: referenced blobs: blob id %q: %w", b.ID, err)
		}
		if err := fn(id, b.Refs); err != nil {
			return err
		}
	}
	return wrap("referenced blobs", cur.Err())
}

// RecountBlobRefs counts every blob's references from the committed
// message documents and reports (and with repair, stores) each count that
// differs. Counts change under running operations: run it on a quiet
// store, as fsck does.
func (s *Store) RecountBlobRefs(ctx context.Context, repair bool) ([]engine.BlobDrift, error) {
	actual := blobTally{}
	cur, err := s.messages.Find(ctx, bson.D{committedOnly}, options.Find().SetProjection(d("blobs", 1)))
	if err != nil {
		return nil, wrap("recount blob refs", err)
	}
	for cur.Next(ctx) {
		var m messageDoc
		if err := cur.Decode(&m); err != nil {
			cur.Close(ctx)
			return nil, wrap("recount blob refs", err)
		}
		actual.add(m.Blobs, 1)
	}
	err = cur.Err()
	cur.Close(ctx)
	if err != nil {
		return nil, wrap("recount blob refs", err)
	}
	stored := map[engine.BlobID]int64{}
	cur, err = s.blobRefs.Find(ctx, bson.D{}, options.Find().SetProjection(d("refs", 1)))
	if err != nil {
		return nil, wrap("recount blob refs", err)
	}
	var docs []blobRefDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, wrap("recount blob refs", err)
	}
	for _, b := range docs {
		if id, err := engine.ParseBlobID(b.ID); err == nil {
			stored[id] = b.Refs
		}
	}
	var drift []engine.BlobDrift
	for id, n := range stored {
		if actual[id] != n {
			drift = append(drift, engine.BlobDrift{ID: id, Stored: n, Actual: actual[id]})
		}
	}
	for id, n := range actual {
		if _, ok := stored[id]; !ok && n != 0 {
			drift = append(drift, engine.BlobDrift{ID: id, Actual: n})
		}
	}
	slices.SortFunc(drift, func(a, b engine.BlobDrift) int { return bytes.Compare(a.ID[:], b.ID[:]) })
	if repair {
		for _, dr := range drift {
			key := dr.ID.String()
			var err error
			if dr.Actual == 0 {
				_, err = s.blobRefs.DeleteOne(ctx, bson.D{{Key: "_id", Value: key}, {Key: "ops", Value: d("$size", 0)}})
			} else {
				_, err = s.blobRefs.UpdateOne(ctx, d("_id", key), bson.D{{Key: "$set", Value: d("refs", dr.Actual)},
					{Key: "$setOnInsert", Value: d("ops", bson.A{})}}, options.UpdateOne().SetUpsert(true))
			}
			if err != nil {
				return nil, wrap("recount blob refs", err)
			}
		}
	}
	return drift, nil
}

// RecountQuota recomputes every user's usage from the committed message
// documents, reports the users whose stored usage differs and, with
// repair, stores it and recounts every mailbox's STATUS counters.
func (s *Store) RecountQuota(ctx context.Context, repair bool) ([]engine.QuotaDrift, error) {
	type usage struct{ bytes, count int64 }
	actual := map[int64]usage{}
	cur, err := s.messages.Find(ctx, bson.D{committedOnly}, options.Find().SetProjection(bson.D{{Key: "user", Value: 1}, {Key: "size", Value: 1}}))
	if err != nil {
		return nil, wrap("recount quota", err)
	}
	for cur.Next(ctx) {
		var m messageDoc
		if err := cur.Decode(&m); err != nil {
			cur.Close(ctx)
			return nil, wrap("recount quota", err)
		}
		u := actual[m.User]
		u.bytes += m.Size
		u.count++
		actual[m.User] = u
	}
	err = cur.Err()
	cur.Close(ctx)
	if err != nil {
		return nil, wrap("recount quota", err)
	}
	cur, err = s.users.Find(ctx, bson.D{}, options.Find().SetSort(d("_id", 1)).SetProjection(bson.D{{Key: "quota_used", Value: 1}, {Key: "message_count", Value: 1}}))
	if err != nil {
		return nil, wrap("recount quota", err)
	}
	var users []userDoc
	if err := cur.All(ctx, &users); err != nil {
		return nil, wrap("recount quota", err)
	}
	var drift []engine.QuotaDrift
	for _, u := range users {
		a := actual[u.ID]
		if u.QuotaUsed != a.bytes {
			drift = append(drift, engine.QuotaDrift{User: engine.UserID(u.ID), Stored: u.QuotaUsed, Actual: a.bytes})
		}
		if repair && (u.QuotaUsed != a.bytes || u.Messages != a.count) {
			if _, err := s.users.UpdateOne(ctx, d("_id", u.ID), d("$set", bson.D{{Key: "quota_used", Value: a.bytes}, {Key: "message_count", Value: a.count}})); err != nil {
				return nil, wrap("recount quota", err)
			}
		}
	}
	if repair {
		cur, err := s.mailboxes.Find(ctx, bson.D{})
		if err != nil {
			return nil, wrap("recount quota", err)
		}
		var boxes []mailboxDoc
		if err := cur.All(ctx, &boxes); err != nil {
			return nil, wrap("recount quota", err)
		}
		for i := range boxes {
			if len(boxes[i].Pending) > 0 {
				continue // an operation is running there; recovery recounts it if it died
			}
			if err := s.recountMailbox(ctx, &boxes[i], false); err != nil {
				return nil, wrap("recount quota", err)
			}
		}
	}
	return drift, nil
}
