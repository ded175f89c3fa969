package metered

import (
	"context"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/eidermail/eider/engine"
)

var metaOps = []string{
	"CreateUser", "User", "UserByName", "Users", "SetPassword", "SetQuotaLimit", "DeleteUser",
	"AddAddress", "RemoveAddress", "ResolveAddress", "Addresses",
	"CreateMailbox", "Mailboxes", "MailboxByName", "Mailbox", "RenameMailbox", "DeleteMailbox",
	"SetSubscribed", "Subscriptions", "Status",
	"Append", "UIDs", "Messages", "Inline", "StoreFlags", "Expunge", "Copy", "Move", "Journal",
	"Search", "Quota", "ClaimRecent", "Keywords",
	"BlobRefs", "ReferencedBlobs", "RecountBlobRefs", "RecountQuota",
}

// Meta times every call of a MetaStore.
type Meta struct {
	next engine.MetaStore
	ops  *ops
}

// Meta wraps s; backend names it in the backend label ("sqlite", "mongodb").
func (m *Metrics) Meta(s engine.MetaStore, backend string) *Meta {
	return &Meta{next: s, ops: m.ops("meta", backend, metaOps...)}
}

// Unwrap returns the store Meta decorates.
func (s *Meta) Unwrap() engine.MetaStore { return s.next }

func (s *Meta) CreateUser(ctx context.Context, u engine.User) (engine.UserID, error) {
	t := s.ops.start("CreateUser")
	id, err := s.next.CreateUser(ctx, u)
	return id, t.done(err)
}

func (s *Meta) User(ctx context.Context, id engine.UserID) (engine.User, error) {
	t := s.ops.start("User")
	u, err := s.next.User(ctx, id)
	return u, t.done(err)
}

func (s *Meta) UserByName(ctx context.Context, name string) (engine.User, error) {
	t := s.ops.start("UserByName")
	u, err := s.next.UserByName(ctx, name)
	return u, t.done(err)
}

func (s *Meta) Users(ctx context.Context) ([]engine.User, error) {
	t := s.ops.start("Users")
	us, err := s.next.Users(ctx)
	return us, t.done(err)
}

func (s *Meta) SetPassword(ctx context.Context, id engine.UserID, hash string) error {
	t := s.ops.start("SetPassword")
	return t.done(s.next.SetPassword(ctx, id, hash))
}

func (s *Meta) SetQuotaLimit(ctx context.Context, id engine.UserID, bytes int64) error {
	t := s.ops.start("SetQuotaLimit")
	return t.done(s.next.SetQuotaLimit(ctx, id, bytes))
}

func (s *Meta) DeleteUser(ctx context.Context, id engine.UserID) error {
	t := s.ops.start("DeleteUser")
	return t.done(s.next.DeleteUser(ctx, id))
}

func (s *Meta) AddAddress(ctx context.Context, a engine.Address) error {
	t := s.ops.start("AddAddress")
	return t.done(s.next.AddAddress(ctx, a))
}

func (s *Meta) RemoveAddress(ctx context.Context, address string) error {
	t := s.ops.start("RemoveAddress")
	return t.done(s.next.RemoveAddress(ctx, address))
}

func (s *Meta) ResolveAddress(ctx context.Context, address string) (engine.UserID, error) {
	t := s.ops.start("ResolveAddress")
	id, err := s.next.ResolveAddress(ctx, address)
	return id, t.done(err)
}

func (s *Meta) Addresses(ctx context.Context, id engine.UserID) ([]engine.Address, error) {
	t := s.ops.start("Addresses")
	as, err := s.next.Addresses(ctx, id)
	return as, t.done(err)
}

func (s *Meta) CreateMailbox(ctx context.Context, user engine.UserID, name, specialUse string) (engine.Mailbox, error) {
	t := s.ops.start("CreateMailbox")
	mb, err := s.next.CreateMailbox(ctx, user, name, specialUse)
	return mb, t.done(err)
}

func (s *Meta) Mailboxes(ctx context.Context, user engine.UserID) ([]engine.Mailbox, error) {
	t := s.ops.start("Mailboxes")
	mbs, err := s.next.Mailboxes(ctx, user)
	return mbs, t.done(err)
}

func (s *Meta) MailboxByName(ctx context.Context, user engine.UserID, name string) (engine.Mailbox, error) {
	t := s.ops.start("MailboxByName")
	mb, err := s.next.MailboxByName(ctx, user, name)
	return mb, t.done(err)
}

func (s *Meta) Mailbox(ctx context.Context, user engine.UserID, id engine.MailboxID) (engine.Mailbox, error) {
	t := s.ops.start("Mailbox")
	mb, err := s.next.Mailbox(ctx, user, id)
	return mb, t.done(err)
}

func (s *Meta) RenameMailbox(ctx context.Context, user engine.UserID, oldName, newName string) error {
	t := s.ops.start("RenameMailbox")
	return t.done(s.next.RenameMailbox(ctx, user, oldName, newName))
}

func (s *Meta) DeleteMailbox(ctx context.Context, user engine.UserID, id engine.MailboxID) error {
	t := s.ops.start("DeleteMailbox")
	return t.done(s.next.DeleteMailbox(ctx, user, id))
}

func (s *Meta) SetSubscribed(ctx context.Context, user engine.UserID, name string, on bool) error {
	t := s.ops.start("SetSubscribed")
	return t.done(s.next.SetSubscribed(ctx, user, name, on))
}

func (s *Meta) Subscriptions(ctx context.Context, user engine.UserID) ([]string, error) {
	t := s.ops.start("Subscriptions")
	names, err := s.next.Subscriptions(ctx, user)
	return names, t.done(err)
}

func (s *Meta) Status(ctx context.Context, user engine.UserID, mailbox engine.MailboxID) (engine.MailboxStatus, error) {
	t := s.ops.start("Status")
	st, err := s.next.Status(ctx, user, mailbox)
	return st, t.done(err)
}

func (s *Meta) Append(ctx context.Context, user engine.UserID, mailbox engine.MailboxID, msgs []engine.NewMessage) (uint32, []engine.UID, error) {
	t := s.ops.start("Append")
	v, uids, err := s.next.Append(ctx, user, mailbox, msgs)
	return v, uids, t.done(err)
}

func (s *Meta) UIDs(ctx context.Context, user engine.UserID, mailbox engine.MailboxID) (*roaring.Bitmap, engine.ModSeq, error) {
	t := s.ops.start("UIDs")
	uids, ms, err := s.next.UIDs(ctx, user, mailbox)
	return uids, ms, t.done(err)
}

func (s *Meta) Messages(ctx context.Context, user engine.UserID, mailbox engine.MailboxID, uids *roaring.Bitmap, fn func(*engine.MessageMeta) error) error {
	t := s.ops.start("Messages")
	return t.done(s.next.Messages(ctx, user, mailbox, uids, callback(t, fn)))
}

func (s *Meta) Inline(ctx context.Context, user engine.UserID, mailbox engine.MailboxID, uid engine.UID) ([]byte, error) {
	t := s.ops.start("Inline")
	b, err := s.next.Inline(ctx, user, mailbox, uid)
	return b, t.done(err)
}

func (s *Meta) StoreFlags(ctx context.Context, user engine.UserID, mailbox engine.MailboxID, uids *roaring.Bitmap, op engine.FlagOp, flags []string, unchangedSince engine.ModSeq) ([]engine.FlagChange, *roaring.Bitmap, error) {
	t := s.ops.start("StoreFlags")
	changed, modified, err := s.next.StoreFlags(ctx, user, mailbox, uids, op, flags, unchangedSince)
	return changed, modified, t.done(err)
}

func (s *Meta) Expunge(ctx context.Context, user engine.UserID, mailbox engine.MailboxID, uids *roaring.Bitmap) (*roaring.Bitmap, engine.ModSeq, error) {
	t := s.ops.start("Expunge")
	gone, ms, err := s.next.Expunge(ctx, user, mailbox, uids)
	return gone, ms, t.done(err)
}

func (s *Meta) Copy(ctx context.Context, user engine.UserID, src, dst engine.MailboxID, uids *roaring.Bitmap) (engine.CopyResult, error) {
	t := s.ops.start("Copy")
	r, err := s.next.Copy(ctx, user, src, dst, uids)
	return r, t.done(err)
}

func (s *Meta) Move(ctx context.Context, user engine.UserID, src, dst engine.MailboxID, uids *roaring.Bitmap) (engine.CopyResult, error) {
	t := s.ops.start("Move")
	r, err := s.next.Move(ctx, user, src, dst, uids)
	return r, t.done(err)
}

func (s *Meta) Journal(ctx context.Context, user engine.UserID, mailbox engine.MailboxID, since engine.ModSeq) ([]engine.Change, error) {
	t := s.ops.start("Journal")
	cs, err := s.next.Journal(ctx, user, mailbox, since)
	return cs, t.done(err)
}

func (s *Meta) Search(ctx context.Context, user engine.UserID, mailbox engine.MailboxID, q *engine.SearchQuery) (*roaring.Bitmap, error) {
	t := s.ops.start("Search")
	uids, err := s.next.Search(ctx, user, mailbox, q)
	return uids, t.done(err)
}

func (s *Meta) Quota(ctx context.Context, user engine.UserID) (engine.Quota, error) {
	t := s.ops.start("Quota")
	q, err := s.next.Quota(ctx, user)
	return q, t.done(err)
}

func (s *Meta) ClaimRecent(ctx context.Context, user engine.UserID, mailbox engine.MailboxID) (engine.UID, engine.UID, error) {
	t := s.ops.start("ClaimRecent")
	first, last, err := s.next.ClaimRecent(ctx, user, mailbox)
	return first, last, t.done(err)
}

func (s *Meta) Keywords(ctx context.Context, user engine.UserID, mailbox engine.MailboxID) ([]string, error) {
	t := s.ops.start("Keywords")
	kws, err := s.next.Keywords(ctx, user, mailbox)
	return kws, t.done(err)
}

func (s *Meta) BlobRefs(ctx context.Context, ids []engine.BlobID) ([]int64, error) {
	t := s.ops.start("BlobRefs")
	refs, err := s.next.BlobRefs(ctx, ids)
	return refs, t.done(err)
}

func (s *Meta) ReferencedBlobs(ctx context.Context, fn func(id engine.BlobID, refs int64) error) error {
	t := s.ops.start("ReferencedBlobs")
	inner := callback(t, func(r blobRef) error { return fn(r.id, r.refs) })
	return t.done(s.next.ReferencedBlobs(ctx, func(id engine.BlobID, refs int64) error {
		return inner(blobRef{id, refs})
	}))
}

type blobRef struct {
	id   engine.BlobID
	refs int64
}

func (s *Meta) RecountBlobRefs(ctx context.Context, repair bool) ([]engine.BlobDrift, error) {
	t := s.ops.start("RecountBlobRefs")
	d, err := s.next.RecountBlobRefs(ctx, repair)
	return d, t.done(err)
}

func (s *Meta) RecountQuota(ctx context.Context, repair bool) ([]engine.QuotaDrift, error) {
	t := s.ops.start("RecountQuota")
	d, err := s.next.RecountQuota(ctx, repair)
	return d, t.done(err)
}

// Close closes the wrapped store; it is not timed.
func (s *Meta) Close() error { return s.next.Close() }

var _ engine.MetaStore = (*Meta)(nil)
