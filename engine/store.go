package engine

import (
	"context"
	"encoding/hex"
	"io"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
)

// MetaStore is the metadata backend: users, addresses, mailboxes, message
// rows, flags, journal, quota and blob reference counts. Every method is one
// atomic operation from the caller's point of view (SQLite: one transaction;
// MongoDB: single-document atomic updates in an order that recovers). Every
// message and mailbox operation takes the authenticated user and fails with
// ErrNotFound for a mailbox of another user.
//
// UID sets and UID results are roaring bitmaps of uint32 UIDs, so a
// 1,000,000-message mailbox costs kilobytes, not megabytes.
type MetaStore interface {
	// Users and addresses.
	CreateUser(ctx context.Context, u User) (UserID, error) // ErrExists if the name is taken
	User(ctx context.Context, id UserID) (User, error)
	UserByName(ctx context.Context, name string) (User, error)
	Users(ctx context.Context) ([]User, error)
	SetPassword(ctx context.Context, id UserID, hash string) error
	SetQuotaLimit(ctx context.Context, id UserID, bytes int64) error
	// DeleteUser removes the user, its addresses, mailboxes and messages and
	// releases the blob references those messages held.
	DeleteUser(ctx context.Context, id UserID) error
	AddAddress(ctx context.Context, a Address) error // ErrExists if any user has it
	RemoveAddress(ctx context.Context, address string) error
	ResolveAddress(ctx context.Context, address string) (UserID, error)
	Addresses(ctx context.Context, id UserID) ([]Address, error)

	// Mailboxes.
	CreateMailbox(ctx context.Context, user UserID, name, specialUse string) (Mailbox, error) // assigns a fresh UIDVALIDITY; ErrExists
	Mailboxes(ctx context.Context, user UserID) ([]Mailbox, error)                            // sorted by name
	MailboxByName(ctx context.Context, user UserID, name string) (Mailbox, error)
	Mailbox(ctx context.Context, user UserID, id MailboxID) (Mailbox, error)
	// RenameMailbox renames a mailbox and every mailbox below it (old+"/"...) in one step.
	RenameMailbox(ctx context.Context, user UserID, oldName, newName string) error
	// DeleteMailbox removes the mailbox and its messages (releasing their blob references).
	DeleteMailbox(ctx context.Context, user UserID, id MailboxID) error
	SetSubscribed(ctx context.Context, user UserID, name string, on bool) error
	Subscriptions(ctx context.Context, user UserID) ([]string, error) // may name mailboxes that do not exist (RFC 9051 6.3.9)
	Status(ctx context.Context, user UserID, mailbox MailboxID) (MailboxStatus, error)

	// Messages.
	// Append commits new messages in order: one UID range and one MODSEQ
	// allocation for the batch, rows, journal entries, quota and blob
	// references. All or nothing; ErrOverQuota when the user's quota would be
	// exceeded.
	Append(ctx context.Context, user UserID, mailbox MailboxID, msgs []NewMessage) (uidValidity uint32, uids []UID, err error)
	// UIDs returns the UIDs currently in the mailbox and its highest MODSEQ, in one consistent read.
	UIDs(ctx context.Context, user UserID, mailbox MailboxID) (*roaring.Bitmap, ModSeq, error)
	// Messages calls fn for each message of uids in UID order. Missing UIDs are skipped.
	Messages(ctx context.Context, user UserID, mailbox MailboxID, uids *roaring.Bitmap, fn func(*MessageMeta) error) error
	// Inline returns a message's compressed inline segments (see NewMessage.Inline).
	Inline(ctx context.Context, user UserID, mailbox MailboxID, uid UID) ([]byte, error)
	// StoreFlags changes flags of uids. With unchangedSince > 0, messages whose
	// MODSEQ is greater are left alone and returned in modified (RFC 7162 3.1.3).
	// changed lists the messages whose flags actually changed, with their new state.
	StoreFlags(ctx context.Context, user UserID, mailbox MailboxID, uids *roaring.Bitmap, op FlagOp, flags []string, unchangedSince ModSeq) (changed []FlagChange, modified *roaring.Bitmap, err error)
	// Expunge removes uids; it returns the UIDs actually removed.
	Expunge(ctx context.Context, user UserID, mailbox MailboxID, uids *roaring.Bitmap) (*roaring.Bitmap, ModSeq, error)
	// Copy copies uids into dst (new UIDs, same blobs with one more reference each).
	Copy(ctx context.Context, user UserID, src, dst MailboxID, uids *roaring.Bitmap) (CopyResult, error)
	// Move moves uids into dst atomically: each message leaves src and appears in dst
	// with a new UID, one journal entry each side, no blob reference change.
	Move(ctx context.Context, user UserID, src, dst MailboxID, uids *roaring.Bitmap) (CopyResult, error)
	// Journal returns the mailbox's changes with MODSEQ > since, oldest first,
	// or ErrJournalExpired when since is older than what the journal keeps.
	Journal(ctx context.Context, user UserID, mailbox MailboxID, since ModSeq) ([]Change, error)
	// Search returns the UIDs of mailbox matching q.
	Search(ctx context.Context, user UserID, mailbox MailboxID, q *SearchQuery) (*roaring.Bitmap, error)
	Quota(ctx context.Context, user UserID) (Quota, error)
	// ClaimRecent atomically takes the messages no session has seen as
	// \Recent yet (RFC 3501 2.3.2): UIDs first..last are \Recent for the
	// caller's session only; first > last means none.
	ClaimRecent(ctx context.Context, user UserID, mailbox MailboxID) (first, last UID, err error)
	// Keywords returns every keyword set on a message of the mailbox, for
	// FLAGS and PERMANENTFLAGS (a keyword may stay listed after its last use).
	Keywords(ctx context.Context, user UserID, mailbox MailboxID) ([]string, error)

	// Blob references, for GC and fsck.
	// BlobRefs returns the reference count of each blob the metadata knows (0 when unknown).
	BlobRefs(ctx context.Context, ids []BlobID) ([]int64, error)
	// ReferencedBlobs calls fn for every blob that has at least one reference.
	ReferencedBlobs(ctx context.Context, fn func(id BlobID, refs int64) error) error
	// RecountBlobRefs recomputes every blob's count from the message rows, fixes drift
	// when repair is true, and reports what differed.
	RecountBlobRefs(ctx context.Context, repair bool) ([]BlobDrift, error)
	// RecountQuota recomputes every user's used bytes from the message rows (after a crash).
	RecountQuota(ctx context.Context, repair bool) ([]QuotaDrift, error)

	Close() error
}

// FlagOp is how StoreFlags applies its flags.
type FlagOp uint8

const (
	FlagsAdd FlagOp = iota + 1
	FlagsRemove
	FlagsReplace
)

// FlagChange is a message whose flags changed.
type FlagChange struct {
	UID    UID
	ModSeq ModSeq
	Flags  []string
}

// CopyResult maps source UIDs to the new UIDs in the target (COPYUID, RFC 4315).
type CopyResult struct {
	UIDValidity uint32 // of the target
	Source      []UID
	Target      []UID
}

// BlobDrift is a blob whose stored reference count differs from the count of rows that reference it.
type BlobDrift struct {
	ID     BlobID
	Stored int64
	Actual int64
}

// QuotaDrift is a user whose stored quota usage differs from the sum of its message sizes.
type QuotaDrift struct {
	User   UserID
	Stored int64
	Actual int64
}

// BlobID is the BLAKE3-256 hash of a blob's content (decoded content for a
// decoded base64 part).
type BlobID [32]byte

func (id BlobID) String() string { return hex.EncodeToString(id[:]) }

// ParseBlobID parses the hex form of a BlobID.
func ParseBlobID(s string) (BlobID, error) {
	var id BlobID
	if len(s) != 64 {
		return id, ErrInvalidName
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, ErrInvalidName
	}
	return id, nil
}

// BlobStore is the blob backend: immutable objects named by BlobID. It knows
// nothing of frames or compression (engine/frames does); it stores bytes.
type BlobStore interface {
	// Create starts a new object; its name is known only at Commit.
	Create(ctx context.Context) (BlobWriter, error)
	Open(ctx context.Context, id BlobID) (BlobReader, error) // ErrNotFound
	Stat(ctx context.Context, id BlobID) (BlobInfo, error)   // ErrNotFound
	Delete(ctx context.Context, id BlobID) error
	// Walk calls fn for every stored object (for GC and fsck), in no particular order.
	Walk(ctx context.Context, fn func(BlobInfo) error) error
}

// BlobWriter writes one object.
type BlobWriter interface {
	io.Writer
	// Commit names the object. If an object with that id already exists the
	// new one is discarded and existed is true (content addressing makes them equal).
	Commit(ctx context.Context, id BlobID) (existed bool, err error)
	Abort() error
}

// BlobReader reads one stored object.
type BlobReader interface {
	io.ReaderAt
	io.Closer
	Size() int64
}

// BlobInfo describes a stored object.
type BlobInfo struct {
	ID       BlobID
	Size     int64 // stored bytes
	Modified time.Time
	Tier     string // "hot", "cold", or a backend-specific name
}

// AnyMailbox in a ChangeEvent stands for every mailbox of the user.
const AnyMailbox MailboxID = 0

// Notifier carries change beacons between sessions (and nodes) of a user.
type Notifier interface {
	// Publish tells every subscriber of user that mailbox changed up to modseq.
	Publish(ctx context.Context, ev ChangeEvent) error
	// Subscribe delivers the user's change events to fn until cancel is called.
	// fn runs on the notifier's goroutine and must not block.
	Subscribe(user UserID, fn func(ChangeEvent)) (cancel func())
	Close() error
}

// ChangeEvent is a beacon: something in the mailbox changed; read the journal.
type ChangeEvent struct {
	User UserID
	// Mailbox is the mailbox that changed; AnyMailbox when the notifier
	// cannot tell (a poll tick while its transport is down): every session
	// of the user then reads its journal.
	Mailbox MailboxID
	ModSeq  ModSeq
	// Committed is when the change was committed (for notifier-lag metrics).
	Committed time.Time
}

// MessageDump is everything a metadata backend keeps of one message: what
// eider migrate reads from one backend and writes into another.
type MessageDump struct {
	MessageMeta
	Inline []byte   // as in NewMessage.Inline
	Blobs  []BlobID // as in NewMessage.Blobs
	// HeaderText and BodyText are as in NewMessage, or in the normalised
	// form the backend stores them in (folded case), which Append and
	// LoadMessages must accept as the same text.
	HeaderText string
	BodyText   string
	SentDate   time.Time
}

// Dumper is implemented by metadata backends eider migrate can copy from.
type Dumper interface {
	// DumpMessages calls fn for each message of the mailbox with UID > after,
	// in UID order. fn must not keep the dump after it returns.
	DumpMessages(ctx context.Context, user UserID, mailbox MailboxID, after UID, fn func(*MessageDump) error) error
}

// Loader is implemented by metadata backends eider migrate can copy into.
// A load keeps every identity an IMAP or POP3 client caches: UIDVALIDITY,
// UIDs, MODSEQs, flags, EmailIDs.
type Loader interface {
	// LoadMailbox creates a mailbox of user with mb's name, special use,
	// subscription, UIDVALIDITY, UIDNEXT and HIGHESTMODSEQ (mb.ID and
	// mb.UserID are ignored). Its journal starts at mb.HighestModSeq: a
	// client asking for changes since an older MODSEQ gets
	// ErrJournalExpired and resynchronises. A later CreateMailbox of the
	// user never gives out this UIDVALIDITY again. ErrExists if the name is
	// taken.
	LoadMailbox(ctx context.Context, user UserID, mb Mailbox) (Mailbox, error)
	// LoadMessages inserts msgs keeping their UIDs, MODSEQs, flags,
	// EmailIDs and internal dates; UIDs must ascend, exceed every UID
	// already in the mailbox and stay below its UIDNEXT; MODSEQs must not
	// exceed its HIGHESTMODSEQ. Blob references, quota usage, STATUS
	// counters and keywords are kept as Append keeps them, but the quota
	// limit is not checked (the mail is already the user's); no journal
	// entries are written and no message is \Recent. All or nothing per
	// call.
	LoadMessages(ctx context.Context, user UserID, mailbox MailboxID, msgs []*MessageDump) error
}

// Dictionary is a zstd dictionary (in zstd's dictionary format, its ID in
// its header) that inline segments are compressed with; every frame names
// the dictionary it needs by that ID.
type Dictionary struct {
	ID   uint32
	Data []byte
}

// DictionaryStore is implemented by metadata stores that keep the engine's
// compression dictionaries. Stored frames name a dictionary for good, so
// one is never changed or removed once added.
type DictionaryStore interface {
	// Dictionaries returns every dictionary, oldest first.
	Dictionaries(ctx context.Context) ([]Dictionary, error)
	// AddDictionary stores d; ErrExists if its ID is taken.
	AddDictionary(ctx context.Context, d Dictionary) error
}

// Leaser is implemented by metadata stores that several nodes share: a
// named lease is held by one holder at a time, until it is released or its
// time runs out (a node that dies gives its leases up after their ttl).
// The POP3 maildrop lock (RFC 1939: one session per maildrop) is one.
type Leaser interface {
	// AcquireLease takes name for holder for ttl, or renews it when holder
	// has it already; false when another holder's lease is still running.
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	// ReleaseLease gives name up if holder has it.
	ReleaseLease(ctx context.Context, name, holder string) error
}
