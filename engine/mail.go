// Package engine is Eider's mail store: the domain types, the operations every
// protocol edge needs (append, copy, move, flags, expunge, sections, search,
// quota, journal) and the narrow interfaces its storage backends implement.
//
// The engine's logic (MIME splitting, dedup, compression, section reads,
// journal replay) is written once here; a backend only stores what it is
// given: metadata in a MetaStore (engine/meta/...), content-addressed blobs in
// a BlobStore (engine/blob/...), change beacons in a Notifier
// (engine/notify/...).
package engine

import (
	"errors"
	"time"
)

// UserID identifies a user account. Backends allocate it; it never changes.
type UserID int64

// MailboxID identifies a mailbox for its whole life. A mailbox that is deleted
// and created again under the same name gets a new MailboxID and a new
// UIDValidity.
type MailboxID int64

// UID is a message's IMAP unique identifier within one mailbox (RFC 9051 2.3.1.1).
type UID uint32

// ModSeq is a CONDSTORE modification sequence (RFC 7162). Per mailbox, every
// change gets a strictly greater value.
type ModSeq uint64

// EmailID is the OBJECTID (RFC 8474) of a message's content: a copy keeps it.
type EmailID uint64

// User is an account.
type User struct {
	ID           UserID
	Name         string // login name, normalised (see NormalizeAddress)
	PasswordHash string // PHC string: $argon2id$... or an imported $2a$/$2b$/$2y$ bcrypt hash
	QuotaBytes   int64  // 0 = unlimited
	Created      time.Time
}

// Address is a delivery address of a user: its primary address or an alias.
type Address struct {
	Address string // normalised: Unicode domain, local part as configured
	UserID  UserID
	Alias   bool
}

// Special-use attributes (RFC 6154).
const (
	SpecialAll     = `\All`
	SpecialArchive = `\Archive`
	SpecialDrafts  = `\Drafts`
	SpecialFlagged = `\Flagged`
	SpecialJunk    = `\Junk`
	SpecialSent    = `\Sent`
	SpecialTrash   = `\Trash`
)

// Mailbox is a folder of a user.
type Mailbox struct {
	ID            MailboxID
	UserID        UserID
	Name          string // full hierarchical name, UTF-8, "/" as separator, "INBOX" spelled so
	SpecialUse    string // one of the Special* constants or ""
	UIDValidity   uint32
	UIDNext       UID
	HighestModSeq ModSeq
	Subscribed    bool
}

// HierarchySeparator separates levels of mailbox names.
const HierarchySeparator = "/"

// System flags (RFC 9051 2.3.2). Keywords are any other atom.
const (
	FlagSeen     = `\Seen`
	FlagAnswered = `\Answered`
	FlagFlagged  = `\Flagged`
	FlagDeleted  = `\Deleted`
	FlagDraft    = `\Draft`
)

// MessageMeta is what a message row holds: everything a metadata-only FETCH
// needs, without the MIME tree or any body byte.
type MessageMeta struct {
	UID          UID
	ModSeq       ModSeq
	EmailID      EmailID
	Flags        []string // sorted, system flags with their backslash
	InternalDate time.Time
	Size         int64  // RFC822.SIZE: exactly the bytes FETCH BODY[] returns
	Envelope     []byte // encoded Envelope (see EncodeEnvelope)
	Structure    []byte // encoded message skeleton: the MIME tree with offsets and the segment table (see content.go)
}

// NewMessage is a message ready to be committed: its blobs are already stored.
type NewMessage struct {
	EmailID      EmailID
	Flags        []string
	InternalDate time.Time
	Size         int64
	Envelope     []byte
	Structure    []byte
	Inline       []byte   // zstd-compressed inline segments (headers, small bodies, delimiters)
	Blobs        []BlobID // distinct blobs the message references; each gains one reference
	HeaderText   string   // decoded header fields, "name: value\n" per field, for SEARCH HEADER/FROM/SUBJECT/...
	BodyText     string   // decoded plain-text extract for SEARCH BODY/TEXT
	SentDate     time.Time
}

// ChangeKind says what a journal entry records.
type ChangeKind uint8

const (
	ChangeAppend  ChangeKind = iota + 1 // a message appeared (APPEND, COPY/MOVE target, delivery)
	ChangeFlags                         // a message's flags changed
	ChangeExpunge                       // a message left the mailbox (EXPUNGE, MOVE source)
)

// Change is one journal entry of a mailbox.
type Change struct {
	ModSeq ModSeq
	Kind   ChangeKind
	UID    UID
	Flags  []string // ChangeFlags and ChangeAppend: the flags after the change
}

// MailboxStatus answers STATUS and SELECT.
type MailboxStatus struct {
	Mailbox
	Messages int64
	Unseen   int64
	Deleted  int64
	Size     int64 // sum of RFC822.SIZE (STATUS=SIZE)
}

// Quota is a user's storage quota (RFC 9208 STORAGE resource, in bytes).
type Quota struct {
	Used     int64
	Limit    int64 // 0 = unlimited
	Messages int64
}

// Errors every backend returns (wrapped or not) so edges can answer precisely.
var (
	ErrNotFound       = errors.New("not found")
	ErrExists         = errors.New("already exists")
	ErrOverQuota      = errors.New("over quota")
	ErrTooBig         = errors.New("message too big")
	ErrJournalExpired = errors.New("journal no longer covers that modseq")
	ErrInvalidName    = errors.New("invalid name")
	ErrPermission     = errors.New("not permitted")
)
