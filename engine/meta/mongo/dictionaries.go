package mongo

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/eidermail/eider/engine"
)

var _ engine.DictionaryStore = (*Store)(nil)

// dictDoc is an engine compression dictionary (collection dictionaries,
// unsharded: a few documents of 32 KiB that every node reads at start).
type dictDoc struct {
	ID    int64  `bson:"_id"`
	Data  []byte `bson:"data"`
	Added int64  `bson:"added"` // unix nanoseconds: the order to return them in
}

// Dictionaries returns every dictionary, oldest first.
func (s *Store) Dictionaries(ctx context.Context) ([]engine.Dictionary, error) {
	cur, err := s.dicts.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "added", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, wrap("dictionaries", err)
	}
	var docs []dictDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, wrap("dictionaries", err)
	}
	out := make([]engine.Dictionary, len(docs))
	for i, d := range docs {
		out[i] = engine.Dictionary{ID: uint32(d.ID), Data: d.Data}
	}
	return out, nil
}

// AddDictionary stores d; ErrExists if its ID is taken (the _id makes two
// nodes' inserts exclusive).
func (s *Store) AddDictionary(ctx context.Context, d engine.Dictionary) error {
	_, err := s.dicts.InsertOne(ctx, dictDoc{ID: int64(d.ID), Data: d.Data, Added: s.opt.Now().UnixNano()})
	if dup(err) {
		return fmt.Errorf("mongo: add dictionary %d: %w", d.ID, engine.ErrExists)
	}
	return wrap("add dictionary", err)
}
