package mongo

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// leaseDoc is a named lease (collection leases, unsharded: a handful of
// small documents, one per POP3 session of the cluster).
type leaseDoc struct {
	Name    string    `bson:"_id"`
	Holder  string    `bson:"holder"`
	Expires time.Time `bson:"expires"`
}

// AcquireLease takes name for holder: a new lease is an insert (the _id
// makes two nodes' inserts exclusive); an existing one changes hands only
// in a write conditional on it being the holder's own or run out.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	now := s.opt.Now()
	doc := leaseDoc{Name: name, Holder: holder, Expires: now.Add(ttl)}
	_, err := s.leases.InsertOne(ctx, doc)
	if err == nil {
		return true, nil
	}
	if !mongo.IsDuplicateKeyError(err) {
		return false, wrap("acquire lease", err)
	}
	res, err := s.leases.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: name}, {Key: "$or", Value: bson.A{
			bson.D{{Key: "holder", Value: holder}},
			bson.D{{Key: "expires", Value: bson.D{{Key: "$lt", Value: now}}}},
		}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "holder", Value: holder}, {Key: "expires", Value: doc.Expires}}}})
	if err != nil {
		return false, wrap("acquire lease", err)
	}
	return res.MatchedCount == 1, nil
}

// ReleaseLease deletes the lease if holder has it.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	_, err := s.leases.DeleteOne(ctx, bson.D{{Key: "_id", Value: name}, {Key: "holder", Value: holder}})
	return wrap("release lease", err)
}
