package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/RoaringBitmap/roaring/v2"
)

// Config wires an Engine to its backends.
type Config struct {
	Meta      MetaStore
	Blobs     BlobStore
	Notifier  Notifier
	Ingest    IngestOptions
	Addresses AddressRules
	Passwords PasswordParams // zero: DefaultPasswordParams()
	Auth      AuthOptions
	Logger    *slog.Logger
	// OnEvent receives user-visible actions (a message filed into Junk or Sent,
	// a delivery) for webhooks and metrics. It must not block.
	OnEvent func(Event)
}

// Engine is the mail store. It is safe for concurrent use.
type Engine struct {
	meta   MetaStore
	blobs  BlobStore
	notify Notifier
	cfg    Config
	log    *slog.Logger
	z      *zcodec
	auth   *authGate
}

// New returns an engine over the configured backends.
func New(cfg Config) (*Engine, error) {
	if cfg.Meta == nil || cfg.Blobs == nil || cfg.Notifier == nil {
		return nil, errors.New("engine: Meta, Blobs and Notifier are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Passwords == (PasswordParams{}) {
		cfg.Passwords = DefaultPasswordParams()
	}
	cfg.Ingest = cfg.Ingest.withDefaults()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	z, err := newZcodec(ctx, findMeta[DictionaryStore](cfg.Meta), cfg.Ingest.DictionarySamples, cfg.Logger)
	if err != nil {
		return nil, err
	}
	return &Engine{meta: cfg.Meta, blobs: cfg.Blobs, notify: cfg.Notifier, cfg: cfg, log: cfg.Logger, z: z,
		auth: newAuthGate(cfg.Auth)}, nil
}

// Meta exposes the metadata store to operator tools (fsck, migration).
func (e *Engine) Meta() MetaStore { return e.meta }

// Blobs exposes the blob store to operator tools.
func (e *Engine) Blobs() BlobStore { return e.blobs }

// Notifier is the change-beacon channel sessions subscribe to.
func (e *Engine) Notifier() Notifier { return e.notify }

// AddressRules says how this engine compares addresses.
func (e *Engine) AddressRules() AddressRules { return e.cfg.Addresses }

// MaxMessageSize is the largest message Append accepts (APPENDLIMIT, SIZE).
func (e *Engine) MaxMessageSize() int64 { return e.cfg.Ingest.MaxMessageSize }

// Close closes the backends, after a dictionary training in progress.
func (e *Engine) Close() error {
	e.z.wait()
	return errors.Join(e.notify.Close(), e.meta.Close())
}

// CompressionDictionaries returns how many compression dictionaries the
// engine decodes with; the newest compresses new messages.
func (e *Engine) CompressionDictionaries() int { return e.z.state.Load().dicts }

// EventKind names a user-visible action.
type EventKind string

const (
	EventDelivered      EventKind = "message.delivered"
	EventAppended       EventKind = "message.appended"
	EventMovedToJunk    EventKind = "message.junk"    // moved or copied into the Junk mailbox
	EventMovedOutOfJunk EventKind = "message.notjunk" // moved out of the Junk mailbox
	EventSent           EventKind = "message.sent"    // appended to the Sent mailbox
)

// Event is a user-visible action.
type Event struct {
	Kind    EventKind
	User    UserID
	Mailbox MailboxID
	UIDs    []UID
	Time    time.Time
}

func (e *Engine) emit(ev Event) {
	if e.cfg.OnEvent != nil {
		ev.Time = time.Now()
		e.cfg.OnEvent(ev)
	}
}

// publish tells the user's sessions, on every node, that mailbox changed.
func (e *Engine) publish(ctx context.Context, user UserID, mailbox MailboxID, modseq ModSeq) {
	err := e.notify.Publish(ctx, ChangeEvent{User: user, Mailbox: mailbox, ModSeq: modseq, Committed: time.Now()})
	if err != nil {
		// Sessions still converge: they read the journal on their next command or poll.
		e.log.Warn("change beacon not sent", "user", user, "mailbox", mailbox, "err", err)
	}
}

// ---- Users ----

// DefaultMailboxes are created for every new user (RFC 6154 special use).
func DefaultMailboxes() []Mailbox {
	return []Mailbox{
		{Name: "INBOX"},
		{Name: "Drafts", SpecialUse: SpecialDrafts},
		{Name: "Sent", SpecialUse: SpecialSent},
		{Name: "Junk", SpecialUse: SpecialJunk},
		{Name: "Trash", SpecialUse: SpecialTrash},
		{Name: "Archive", SpecialUse: SpecialArchive},
	}
}

// CreateUser adds a user with the default mailboxes. A name that is an
// address also becomes the user's primary delivery address.
func (e *Engine) CreateUser(ctx context.Context, name, password string, quotaBytes int64) (User, error) {
	norm, err := e.cfg.Addresses.NormalizeUserName(name)
	if err != nil {
		return User{}, err
	}
	hash, err := HashPassword(password, e.cfg.Passwords)
	if err != nil {
		return User{}, err
	}
	return e.createUser(ctx, User{Name: norm, PasswordHash: hash, QuotaBytes: quotaBytes})
}

// ImportUser adds a user whose password hash comes from another system
// (argon2id or bcrypt).
func (e *Engine) ImportUser(ctx context.Context, name, passwordHash string, quotaBytes int64) (User, error) {
	norm, err := e.cfg.Addresses.NormalizeUserName(name)
	if err != nil {
		return User{}, err
	}
	return e.createUser(ctx, User{Name: norm, PasswordHash: passwordHash, QuotaBytes: quotaBytes})
}

func (e *Engine) createUser(ctx context.Context, u User) (User, error) {
	u.Created = time.Now().UTC()
	id, err := e.meta.CreateUser(ctx, u)
	if err != nil {
		return User{}, fmt.Errorf("create user %q: %w", u.Name, err)
	}
	u.ID = id
	for _, mb := range DefaultMailboxes() {
		if _, err := e.meta.CreateMailbox(ctx, id, mb.Name, mb.SpecialUse); err != nil && !errors.Is(err, ErrExists) {
			return User{}, fmt.Errorf("create mailbox %q: %w", mb.Name, err)
		}
		if err := e.meta.SetSubscribed(ctx, id, mb.Name, true); err != nil {
			return User{}, err
		}
	}
	if strings.Contains(u.Name, "@") {
		if err := e.meta.AddAddress(ctx, Address{Address: u.Name, UserID: id}); err != nil {
			return User{}, fmt.Errorf("primary address %q: %w", u.Name, err)
		}
	}
	return u, nil
}

// Authenticate returns the user when name and password match. The error
// never says which of the two was wrong.
func (e *Engine) Authenticate(ctx context.Context, name, password string) (User, error) {
	norm, err := e.cfg.Addresses.NormalizeUserName(name)
	if err != nil {
		return User{}, ErrAuthFailed
	}
	u, err := e.meta.UserByName(ctx, norm)
	if errors.Is(err, ErrNotFound) {
		// Resolve an alias or sub-address to its user: people log in with the address they know.
		if id, rerr := e.ResolveRecipient(ctx, name); rerr == nil {
			u, err = e.meta.User(ctx, id.User)
		}
	}
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return User{}, ErrAuthFailed
		}
		return User{}, err
	}
	ok, err := e.auth.verify(ctx, u, password)
	if err != nil {
		return User{}, err
	}
	if !ok {
		return User{}, ErrAuthFailed
	}
	return u, nil
}

// ErrAuthFailed is returned for a wrong user name or password.
var ErrAuthFailed = errors.New("authentication failed")

// SetPassword replaces a user's password.
func (e *Engine) SetPassword(ctx context.Context, name, password string) error {
	u, err := e.UserByName(ctx, name)
	if err != nil {
		return err
	}
	hash, err := HashPassword(password, e.cfg.Passwords)
	if err != nil {
		return err
	}
	e.auth.forget(u.ID)
	return e.meta.SetPassword(ctx, u.ID, hash)
}

// UserByName looks a user up by login name (normalised first).
func (e *Engine) UserByName(ctx context.Context, name string) (User, error) {
	norm, err := e.cfg.Addresses.NormalizeUserName(name)
	if err != nil {
		return User{}, err
	}
	return e.meta.UserByName(ctx, norm)
}

// DeleteUser removes a user and everything it owns.
func (e *Engine) DeleteUser(ctx context.Context, name string) error {
	u, err := e.UserByName(ctx, name)
	if err != nil {
		return err
	}
	e.auth.forget(u.ID)
	return e.meta.DeleteUser(ctx, u.ID)
}

// AddAlias adds a delivery address to a user.
func (e *Engine) AddAlias(ctx context.Context, user UserID, address string) error {
	norm, err := e.cfg.Addresses.NormalizeAddress(address)
	if err != nil {
		return err
	}
	return e.meta.AddAddress(ctx, Address{Address: norm, UserID: user, Alias: true})
}

// Recipient is a resolved delivery address.
type Recipient struct {
	User    UserID
	Address string // the canonical address that matched
	Label   string // sub-address label ("news" of user+news@example.com)
}

// ResolveRecipient finds the user an address delivers to: the exact address
// first (an alias may contain the label separator), then without its label.
func (e *Engine) ResolveRecipient(ctx context.Context, address string) (Recipient, error) {
	rules := e.cfg.Addresses
	full, err := rules.NormalizeAddress(address)
	if err != nil {
		return Recipient{}, err
	}
	if id, err := e.meta.ResolveAddress(ctx, full); err == nil {
		return Recipient{User: id, Address: full}, nil
	} else if !errors.Is(err, ErrNotFound) {
		return Recipient{}, err
	}
	p, err := rules.ParseAddress(address)
	if err != nil {
		return Recipient{}, err
	}
	if p.Label == "" {
		return Recipient{}, ErrNotFound
	}
	id, err := e.meta.ResolveAddress(ctx, p.Canonical())
	if err != nil {
		return Recipient{}, err
	}
	return Recipient{User: id, Address: p.Canonical(), Label: p.Label}, nil
}

// ---- Mailboxes ----

// NormalizeMailboxName validates a mailbox name and spells INBOX canonically
// (INBOX is case-insensitive, RFC 9051 5.1).
func NormalizeMailboxName(name string) (string, error) {
	if name == "" || !utf8.ValidString(name) || len(name) > 1024 {
		return "", fmt.Errorf("%w: mailbox name", ErrInvalidName)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return "", fmt.Errorf("%w: control character in mailbox name", ErrInvalidName)
		}
	}
	name = strings.TrimSuffix(name, HierarchySeparator)
	for _, level := range strings.Split(name, HierarchySeparator) {
		if level == "" {
			return "", fmt.Errorf("%w: empty level in mailbox name", ErrInvalidName)
		}
	}
	if strings.EqualFold(name, "INBOX") {
		return "INBOX", nil
	}
	if len(name) > 6 && strings.EqualFold(name[:6], "INBOX"+HierarchySeparator) {
		return "INBOX" + name[5:], nil
	}
	return name, nil
}

// CreateMailbox creates a mailbox (and, as IMAP CREATE does, any missing
// parents).
func (e *Engine) CreateMailbox(ctx context.Context, user UserID, name, specialUse string) (Mailbox, error) {
	name, err := NormalizeMailboxName(name)
	if err != nil {
		return Mailbox{}, err
	}
	levels := strings.Split(name, HierarchySeparator)
	for i := 1; i < len(levels); i++ {
		parent := strings.Join(levels[:i], HierarchySeparator)
		if _, err := e.meta.CreateMailbox(ctx, user, parent, ""); err != nil && !errors.Is(err, ErrExists) {
			return Mailbox{}, err
		}
	}
	return e.meta.CreateMailbox(ctx, user, name, specialUse)
}

// Mailbox looks a mailbox up by name.
func (e *Engine) Mailbox(ctx context.Context, user UserID, name string) (Mailbox, error) {
	name, err := NormalizeMailboxName(name)
	if err != nil {
		return Mailbox{}, err
	}
	return e.meta.MailboxByName(ctx, user, name)
}

// Mailboxes lists a user's mailboxes.
func (e *Engine) Mailboxes(ctx context.Context, user UserID) ([]Mailbox, error) {
	return e.meta.Mailboxes(ctx, user)
}

// DeleteMailbox deletes a mailbox and its messages. INBOX cannot be deleted.
func (e *Engine) DeleteMailbox(ctx context.Context, user UserID, name string) error {
	mb, err := e.Mailbox(ctx, user, name)
	if err != nil {
		return err
	}
	if mb.Name == "INBOX" {
		return fmt.Errorf("%w: INBOX cannot be deleted", ErrPermission)
	}
	if err := e.meta.DeleteMailbox(ctx, user, mb.ID); err != nil {
		return err
	}
	e.publish(ctx, user, mb.ID, mb.HighestModSeq+1)
	return nil
}

// RenameMailbox renames a mailbox and its children. Renaming INBOX moves its
// messages to a new mailbox and leaves INBOX empty (RFC 9051 6.3.6).
func (e *Engine) RenameMailbox(ctx context.Context, user UserID, oldName, newName string) error {
	oldName, err := NormalizeMailboxName(oldName)
	if err != nil {
		return err
	}
	newName, err = NormalizeMailboxName(newName)
	if err != nil {
		return err
	}
	if oldName == newName {
		return fmt.Errorf("%w: %q", ErrExists, newName)
	}
	if strings.HasPrefix(newName, oldName+HierarchySeparator) {
		return fmt.Errorf("%w: cannot rename a mailbox into itself", ErrInvalidName)
	}
	if oldName == "INBOX" {
		src, err := e.meta.MailboxByName(ctx, user, "INBOX")
		if err != nil {
			return err
		}
		dst, err := e.CreateMailbox(ctx, user, newName, "")
		if err != nil {
			return err
		}
		uids, _, err := e.meta.UIDs(ctx, user, src.ID)
		if err != nil {
			return err
		}
		if !uids.IsEmpty() {
			if _, err := e.Move(ctx, user, src.ID, dst.ID, uids); err != nil {
				return err
			}
		}
		return nil
	}
	levels := strings.Split(newName, HierarchySeparator)
	for i := 1; i < len(levels); i++ {
		parent := strings.Join(levels[:i], HierarchySeparator)
		if _, err := e.meta.CreateMailbox(ctx, user, parent, ""); err != nil && !errors.Is(err, ErrExists) {
			return err
		}
	}
	return e.meta.RenameMailbox(ctx, user, oldName, newName)
}

// Subscribe marks a mailbox name as subscribed (or not).
func (e *Engine) Subscribe(ctx context.Context, user UserID, name string, on bool) error {
	name, err := NormalizeMailboxName(name)
	if err != nil {
		return err
	}
	return e.meta.SetSubscribed(ctx, user, name, on)
}

// Status returns a mailbox's counters.
func (e *Engine) Status(ctx context.Context, user UserID, mailbox MailboxID) (MailboxStatus, error) {
	return e.meta.Status(ctx, user, mailbox)
}

// ---- Messages ----

// AppendOptions are the per-message APPEND arguments.
type AppendOptions struct {
	Flags        []string
	InternalDate time.Time // zero: now
}

// AppendResult names the message that was stored (APPENDUID, RFC 4315).
type AppendResult struct {
	UIDValidity uint32
	UID         UID
	Size        int64
}

// Append stores one message read from r into mailbox. The message streams
// through ingest; it becomes visible in one metadata commit.
func (e *Engine) Append(ctx context.Context, user UserID, mailbox MailboxID, r io.Reader, opt AppendOptions) (AppendResult, error) {
	res, err := e.AppendMany(ctx, user, mailbox, []AppendSource{{Body: r, Options: opt}})
	if err != nil {
		return AppendResult{}, err
	}
	return res[0], nil
}

// AppendSource is one message of a MULTIAPPEND.
type AppendSource struct {
	Body    io.Reader
	Options AppendOptions
}

// AppendMany stores several messages atomically (MULTIAPPEND, RFC 3502): all
// become visible in one commit or none does.
func (e *Engine) AppendMany(ctx context.Context, user UserID, mailbox MailboxID, srcs []AppendSource) ([]AppendResult, error) {
	mb, err := e.meta.Mailbox(ctx, user, mailbox)
	if err != nil {
		return nil, err
	}
	msgs := make([]NewMessage, len(srcs))
	for i, src := range srcs {
		in, err := ingest(ctx, e.blobs, e.z, e.cfg.Ingest, src.Body)
		if err != nil {
			return nil, err
		}
		msgs[i] = in.message(e.z, nil)
		msgs[i].EmailID = newEmailID()
		msgs[i].Flags = NormalizeFlags(src.Options.Flags)
		msgs[i].InternalDate = src.Options.InternalDate
		if msgs[i].InternalDate.IsZero() {
			msgs[i].InternalDate = time.Now()
		}
	}
	validity, uids, err := e.meta.Append(ctx, user, mailbox, msgs)
	if err != nil {
		return nil, err
	}
	res := make([]AppendResult, len(uids))
	for i, uid := range uids {
		res[i] = AppendResult{UIDValidity: validity, UID: uid, Size: msgs[i].Size}
	}
	e.afterAppend(ctx, user, mb, uids, EventAppended)
	return res, nil
}

func (e *Engine) afterAppend(ctx context.Context, user UserID, mb Mailbox, uids []UID, kind EventKind) {
	e.publish(ctx, user, mb.ID, 0)
	e.emit(Event{Kind: kind, User: user, Mailbox: mb.ID, UIDs: uids})
	switch mb.SpecialUse {
	case SpecialSent:
		e.emit(Event{Kind: EventSent, User: user, Mailbox: mb.ID, UIDs: uids})
	case SpecialJunk:
		e.emit(Event{Kind: EventMovedToJunk, User: user, Mailbox: mb.ID, UIDs: uids})
	}
}

// newEmailID returns a fresh OBJECTID: milliseconds since the epoch in the
// high bits keep IDs roughly ordered, random low bits keep them unique.
func newEmailID() EmailID {
	return EmailID(uint64(time.Now().UnixMilli())<<20 | rand.Uint64N(1<<20))
}

// NormalizeFlags spells system flags canonically, drops duplicates
// (case-insensitive) and \Recent (session state), and sorts.
func NormalizeFlags(flags []string) []string {
	if len(flags) == 0 {
		return nil
	}
	out := make([]string, 0, len(flags))
	seen := make(map[string]bool, len(flags))
	for _, f := range flags {
		if f == "" {
			continue
		}
		switch lf := strings.ToLower(f); lf {
		case `\seen`, `\answered`, `\flagged`, `\deleted`, `\draft`:
			f = `\` + strings.ToUpper(lf[1:2]) + lf[2:]
		case `\recent`:
			continue
		}
		key := strings.ToLower(f)
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, f)
	}
	slices.Sort(out)
	return out
}

// StoreFlags changes flags (STORE / UID STORE).
func (e *Engine) StoreFlags(ctx context.Context, user UserID, mailbox MailboxID, uids *roaring.Bitmap, op FlagOp, flags []string, unchangedSince ModSeq) ([]FlagChange, *roaring.Bitmap, error) {
	changed, modified, err := e.meta.StoreFlags(ctx, user, mailbox, uids, op, NormalizeFlags(flags), unchangedSince)
	if err != nil {
		return nil, nil, err
	}
	if len(changed) > 0 {
		e.publish(ctx, user, mailbox, changed[len(changed)-1].ModSeq)
	}
	return changed, modified, nil
}

// Expunge removes messages; it returns the UIDs that were removed.
func (e *Engine) Expunge(ctx context.Context, user UserID, mailbox MailboxID, uids *roaring.Bitmap) (*roaring.Bitmap, error) {
	gone, modseq, err := e.meta.Expunge(ctx, user, mailbox, uids)
	if err != nil {
		return nil, err
	}
	if !gone.IsEmpty() {
		e.publish(ctx, user, mailbox, modseq)
	}
	return gone, nil
}

// Copy copies messages into another mailbox; the blobs are shared.
func (e *Engine) Copy(ctx context.Context, user UserID, src, dst MailboxID, uids *roaring.Bitmap) (CopyResult, error) {
	res, err := e.meta.Copy(ctx, user, src, dst, uids)
	if err != nil {
		return CopyResult{}, err
	}
	if len(res.Target) > 0 {
		if mb, err := e.meta.Mailbox(ctx, user, dst); err == nil {
			e.publish(ctx, user, dst, 0)
			if mb.SpecialUse == SpecialJunk {
				e.emit(Event{Kind: EventMovedToJunk, User: user, Mailbox: dst, UIDs: res.Target})
			}
		}
	}
	return res, nil
}

// Move moves messages atomically into another mailbox.
func (e *Engine) Move(ctx context.Context, user UserID, src, dst MailboxID, uids *roaring.Bitmap) (CopyResult, error) {
	from, err := e.meta.Mailbox(ctx, user, src)
	if err != nil {
		return CopyResult{}, err
	}
	to, err := e.meta.Mailbox(ctx, user, dst)
	if err != nil {
		return CopyResult{}, err
	}
	res, err := e.meta.Move(ctx, user, src, dst, uids)
	if err != nil {
		return CopyResult{}, err
	}
	if len(res.Target) > 0 {
		e.publish(ctx, user, src, 0)
		e.publish(ctx, user, dst, 0)
		switch {
		case to.SpecialUse == SpecialJunk && from.SpecialUse != SpecialJunk:
			e.emit(Event{Kind: EventMovedToJunk, User: user, Mailbox: dst, UIDs: res.Target})
		case from.SpecialUse == SpecialJunk && to.SpecialUse != SpecialJunk:
			e.emit(Event{Kind: EventMovedOutOfJunk, User: user, Mailbox: dst, UIDs: res.Target})
		}
	}
	return res, nil
}

// UIDs returns the mailbox's UID set and HIGHESTMODSEQ (SELECT).
func (e *Engine) UIDs(ctx context.Context, user UserID, mailbox MailboxID) (*roaring.Bitmap, ModSeq, error) {
	return e.meta.UIDs(ctx, user, mailbox)
}

// Messages streams message rows (metadata-only FETCH items).
func (e *Engine) Messages(ctx context.Context, user UserID, mailbox MailboxID, uids *roaring.Bitmap, fn func(*MessageMeta) error) error {
	return e.meta.Messages(ctx, user, mailbox, uids, fn)
}

// Journal returns a mailbox's changes since a MODSEQ.
func (e *Engine) Journal(ctx context.Context, user UserID, mailbox MailboxID, since ModSeq) ([]Change, error) {
	return e.meta.Journal(ctx, user, mailbox, since)
}

// Search runs a search in a mailbox.
func (e *Engine) Search(ctx context.Context, user UserID, mailbox MailboxID, q *SearchQuery) (*roaring.Bitmap, error) {
	return e.meta.Search(ctx, user, mailbox, q)
}

// ClaimRecent takes the \Recent messages for one session (IMAP4rev1).
func (e *Engine) ClaimRecent(ctx context.Context, user UserID, mailbox MailboxID) (first, last UID, err error) {
	return e.meta.ClaimRecent(ctx, user, mailbox)
}

// Keywords lists the keywords used in a mailbox.
func (e *Engine) Keywords(ctx context.Context, user UserID, mailbox MailboxID) ([]string, error) {
	return e.meta.Keywords(ctx, user, mailbox)
}

// Quota returns the user's storage quota.
func (e *Engine) Quota(ctx context.Context, user UserID) (Quota, error) {
	return e.meta.Quota(ctx, user)
}

// Logger is the engine's structured logger.
func (e *Engine) Logger() *slog.Logger { return e.log }

// AcquireLease takes a lease shared by every node on the metadata store
// (see Leaser). A store only this process uses has no leases to share: the
// answer is then always yes, and callers rely on their in-process locks.
func (e *Engine) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	if l := e.leaser(); l != nil {
		return l.AcquireLease(ctx, name, holder, ttl)
	}
	return true, nil
}

// ReleaseLease gives up a lease taken with AcquireLease.
func (e *Engine) ReleaseLease(ctx context.Context, name, holder string) error {
	if l := e.leaser(); l != nil {
		return l.ReleaseLease(ctx, name, holder)
	}
	return nil
}

// SharedLeases reports whether the metadata store shares leases between
// nodes (a cluster store); without, AcquireLease always succeeds.
func (e *Engine) SharedLeases() bool { return e.leaser() != nil }

// leaser finds the metadata store's Leaser under any decorators.
func (e *Engine) leaser() Leaser { return findMeta[Leaser](e.meta) }

// findMeta finds an optional interface of a metadata store under any
// decorators; the zero value when the store lacks it.
func findMeta[T any](m MetaStore) T {
	for {
		if l, ok := m.(T); ok {
			return l
		}
		u, ok := m.(interface{ Unwrap() MetaStore })
		if !ok {
			var zero T
			return zero
		}
		m = u.Unwrap()
	}
}
