package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/eidermail/eider/engine"
)

// userDoc is a document of users.
type userDoc struct {
	ID           int64    `bson:"_id"`
	Name         string   `bson:"name"`
	PasswordHash string   `bson:"password_hash"`
	QuotaLimit   int64    `bson:"quota_limit"`
	QuotaUsed    int64    `bson:"quota_used"`
	Messages     int64    `bson:"message_count"`
	Created      int64    `bson:"created"` // unix nanoseconds
	LastUIDV     int64    `bson:"last_uidvalidity"`
	Subscribed   []string `bson:"subs"`
	Ops          []string `bson:"ops"` // operations whose quota change is applied (see ops.go)
	Deleting     bool     `bson:"deleting,omitempty"`
}

func (u *userDoc) user() engine.User {
	return engine.User{ID: engine.UserID(u.ID), Name: u.Name, PasswordHash: u.PasswordHash, QuotaBytes: u.QuotaLimit,
		Created: time.Unix(0, u.Created).UTC()}
}

// live matches users not being deleted.
var live = bson.E{Key: "deleting", Value: d("$ne", true)}

func (s *Store) loadUser(ctx context.Context, id engine.UserID) (*userDoc, error) {
	var u userDoc
	err := s.users.FindOne(ctx, bson.D{{Key: "_id", Value: int64(id)}, live}).Decode(&u)
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("user %d", id))
	}
	return &u, nil
}

// CreateUser adds an account. The name is claimed first in usernames
// (keyed by name, so unique across shards), then the user is inserted.
func (s *Store) CreateUser(ctx context.Context, u engine.User) (engine.UserID, error) {
	if u.Name == "" {
		return 0, fmt.Errorf("mongo: create user: empty name: %w", engine.ErrInvalidName)
	}
	if u.QuotaBytes < 0 {
		return 0, fmt.Errorf("mongo: create user: negative quota: %w", engine.ErrInvalidName)
	}
	created := u.Created
	if created.IsZero() {
		created = s.opt.Now()
	}
	id, err := s.nextIDs(ctx, "users", 1)
	if err != nil {
		return 0, wrap("create user", err)
	}
	claim := bson.D{{Key: "_id", Value: u.Name}, {Key: "user", Value: id}, {Key: "at", Value: s.opt.Now()}}
	_, err = s.userNames.InsertOne(ctx, claim)
	if dup(err) {
		// A claim whose user never appeared (a crash between the two
		// inserts) is taken over once it is older than the grace period.
		if stale, serr := s.staleNameClaim(ctx, u.Name); serr != nil {
			return 0, wrap("create user", serr)
		} else if !stale {
			return 0, fmt.Errorf("mongo: create user %q: %w", u.Name, engine.ErrExists)
		}
		_, err = s.userNames.InsertOne(ctx, claim)
		if dup(err) {
			return 0, fmt.Errorf("mongo: create user %q: %w", u.Name, engine.ErrExists)
		}
	}
	if err != nil {
		return 0, wrap("create user", err)
	}
	doc := userDoc{ID: id, Name: u.Name, PasswordHash: u.PasswordHash, QuotaLimit: u.QuotaBytes, Created: unixNano(created),
		Subscribed: []string{}, Ops: []string{}}
	if _, err := s.users.InsertOne(ctx, doc); err != nil {
		s.userNames.DeleteOne(context.WithoutCancel(ctx), bson.D{{Key: "_id", Value: u.Name}, {Key: "user", Value: id}})
		return 0, wrap("create user", err)
	}
	return engine.UserID(id), nil
}

// staleNameClaim removes the claim on name if its user does not exist and
// it is older than the grace period, and reports whether it did.
func (s *Store) staleNameClaim(ctx context.Context, name string) (bool, error) {
	var claim struct {
		User int64     `bson:"user"`
		At   time.Time `bson:"at"`
	}
	if err := s.userNames.FindOne(ctx, d("_id", name)).Decode(&claim); err != nil {
		if errors.Is(err, mongo.ErrNoDocuments) {
			return true, nil
		}
		return false, err
	}
	n, err := s.users.CountDocuments(ctx, d("_id", claim.User))
	if err != nil || n > 0 || s.opt.Now().Sub(claim.At) < s.opt.RecoveryGrace {
		return false, err
	}
	_, err = s.userNames.DeleteOne(ctx, bson.D{{Key: "_id", Value: name}, {Key: "user", Value: claim.User}})
	return err == nil, err
}

// User returns an account by id.
func (s *Store) User(ctx context.Context, id engine.UserID) (engine.User, error) {
	u, err := s.loadUser(ctx, id)
	if err != nil {
		return engine.User{}, wrap("user", err)
	}
	return u.user(), nil
}

// UserByName returns an account by login name.
func (s *Store) UserByName(ctx context.Context, name string) (engine.User, error) {
	var claim struct {
		User int64 `bson:"user"`
	}
	if err := s.userNames.FindOne(ctx, d("_id", name)).Decode(&claim); err != nil {
		return engine.User{}, wrap("user by name", notFound(err, fmt.Sprintf("user %q", name)))
	}
	u, err := s.loadUser(ctx, engine.UserID(claim.User))
	if err == nil && u.Name != name {
		err = fmt.Errorf("user %q: %w", name, engine.ErrNotFound)
	}
	if err != nil {
		return engine.User{}, wrap("user by name", err)
	}
	return u.user(), nil
}

// Users returns every account, sorted by name. It honours ReadPreference:
// an account created a moment ago may be missing from a secondary.
func (s *Store) Users(ctx context.Context) ([]engine.User, error) {
	cur, err := s.usersLagging.Find(ctx, bson.D{live}, options.Find().SetSort(d("name", 1)).
		SetProjection(bson.D{{Key: "ops", Value: 0}, {Key: "subs", Value: 0}}))
	if err != nil {
		return nil, wrap("users", err)
	}
	var docs []userDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, wrap("users", err)
	}
	out := make([]engine.User, len(docs))
	for i := range docs {
		out[i] = docs[i].user()
	}
	return out, nil
}

func (s *Store) setUser(ctx context.Context, op string, id engine.UserID, set bson.D) error {
	res, err := s.users.UpdateOne(ctx, bson.D{{Key: "_id", Value: int64(id)}, live}, d("$set", set))
	if err == nil && res.MatchedCount == 0 {
		err = fmt.Errorf("user %d: %w", id, engine.ErrNotFound)
	}
	return wrap(op, err)
}

// SetPassword replaces a user's password hash.
func (s *Store) SetPassword(ctx context.Context, id engine.UserID, hash string) error {
	return s.setUser(ctx, "set password", id, d("password_hash", hash))
}

// SetQuotaLimit sets a user's storage limit (0 = unlimited).
func (s *Store) SetQuotaLimit(ctx context.Context, id engine.UserID, bytes int64) error {
	if bytes < 0 {
		return fmt.Errorf("mongo: set quota limit: negative limit: %w", engine.ErrInvalidName)
	}
	return s.setUser(ctx, "set quota limit", id, d("quota_limit", bytes))
}

// DeleteUser marks the user deleted (it disappears at once), then deletes
// its mailboxes one by one, its addresses, its name claim and the user
// document. An op document lets recovery finish the job after a crash.
func (s *Store) DeleteUser(ctx context.Context, id engine.UserID) error {
	ctx, cancel := s.opContext(ctx)
	defer cancel()
	if _, err := s.loadUser(ctx, id); err != nil {
		return wrap("delete user", err)
	}
	op := newOp(opDeleteUser, int64(id), s.opt.Now())
	if err := s.insertOp(ctx, op); err != nil {
		return wrap("delete user", err)
	}
	res, err := s.users.UpdateOne(ctx, bson.D{{Key: "_id", Value: int64(id)}, live}, d("$set", d("deleting", true)))
	if err == nil && res.MatchedCount == 0 {
		s.ops.DeleteOne(ctx, d("_id", op.ID))
		return fmt.Errorf("mongo: delete user %d: %w", id, engine.ErrNotFound)
	}
	if err != nil {
		return wrap("delete user", err)
	}
	if err := s.step("deleteuser:marked"); err != nil {
		return err
	}
	return wrap("delete user", s.finishDeleteUser(ctx, op))
}

func (s *Store) finishDeleteUser(ctx context.Context, op *opDoc) error {
	cur, err := s.mailboxes.Find(ctx, d("user", op.User), options.Find().SetProjection(d("_id", 1)))
	if err != nil {
		return err
	}
	var boxes []struct {
		ID int64 `bson:"_id"`
	}
	if err := cur.All(ctx, &boxes); err != nil {
		return err
	}
	for _, b := range boxes {
		if err := s.deleteMailbox(ctx, engine.UserID(op.User), engine.MailboxID(b.ID), true); err != nil && !errors.Is(err, engine.ErrNotFound) {
			return err
		}
	}
	var u userDoc
	if err := s.users.FindOne(ctx, d("_id", op.User)).Decode(&u); err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return err
	}
	for _, step := range []func() error{
		func() error { _, err := s.addresses.DeleteMany(ctx, d("user", op.User)); return err },
		func() error { _, err := s.texts.DeleteMany(ctx, d("user", op.User)); return err },
		func() error { _, err := s.userNames.DeleteMany(ctx, d("user", op.User)); return err },
		func() error { _, err := s.users.DeleteOne(ctx, d("_id", op.User)); return err },
		func() error { _, err := s.ops.DeleteOne(ctx, d("_id", op.ID)); return err },
	} {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// AddAddress adds a delivery address; ErrExists if any user has it.
func (s *Store) AddAddress(ctx context.Context, a engine.Address) error {
	if a.Address == "" {
		return fmt.Errorf("mongo: add address: empty address: %w", engine.ErrInvalidName)
	}
	if _, err := s.loadUser(ctx, a.UserID); err != nil {
		return wrap("add address", err)
	}
	_, err := s.addresses.InsertOne(ctx, bson.D{{Key: "_id", Value: a.Address}, {Key: "user", Value: int64(a.UserID)}, {Key: "alias", Value: a.Alias}})
	if dup(err) {
		return fmt.Errorf("mongo: add address %q: %w", a.Address, engine.ErrExists)
	}
	return wrap("add address", err)
}

// RemoveAddress removes a delivery address.
func (s *Store) RemoveAddress(ctx context.Context, address string) error {
	res, err := s.addresses.DeleteOne(ctx, d("_id", address))
	if err == nil && res.DeletedCount == 0 {
		err = fmt.Errorf("address %q: %w", address, engine.ErrNotFound)
	}
	return wrap("remove address", err)
}

type addressDoc struct {
	Address string `bson:"_id"`
	User    int64  `bson:"user"`
	Alias   bool   `bson:"alias"`
}

// ResolveAddress returns the owner of a normalised address.
func (s *Store) ResolveAddress(ctx context.Context, address string) (engine.UserID, error) {
	var a addressDoc
	if err := s.addresses.FindOne(ctx, d("_id", address)).Decode(&a); err != nil {
		return 0, wrap("resolve address", notFound(err, fmt.Sprintf("address %q", address)))
	}
	if _, err := s.loadUser(ctx, engine.UserID(a.User)); err != nil {
		return 0, wrap("resolve address", fmt.Errorf("address %q: %w", address, engine.ErrNotFound))
	}
	return engine.UserID(a.User), nil
}

// Addresses returns a user's addresses, sorted.
func (s *Store) Addresses(ctx context.Context, id engine.UserID) ([]engine.Address, error) {
	if _, err := s.loadUser(ctx, id); err != nil {
		return nil, wrap("addresses", err)
	}
	cur, err := s.addresses.Find(ctx, d("user", int64(id)), options.Find().SetSort(d("_id", 1)))
	if err != nil {
		return nil, wrap("addresses", err)
	}
	var docs []addressDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, wrap("addresses", err)
	}
	out := make([]engine.Address, len(docs))
	for i, a := range docs {
		out[i] = engine.Address{Address: a.Address, UserID: id, Alias: a.Alias}
	}
	return out, nil
}

// Quota returns a user's usage and limit.
func (s *Store) Quota(ctx context.Context, id engine.UserID) (engine.Quota, error) {
	u, err := s.loadUser(ctx, id)
	if err != nil {
		return engine.Quota{}, wrap("quota", err)
	}
	return engine.Quota{Used: u.QuotaUsed, Limit: u.QuotaLimit, Messages: u.Messages}, nil
}
