package imap

import "time"

// Command is one complete client command.
type Command struct {
	Tag  string
	Name string // canonical upper-case name; UID forms are "UID FETCH" etc.
	Args Args   // the typed arguments, e.g. *FetchCommand
}

// Args is implemented by the typed argument structs of every command.
type Args interface{ commandArgs() }

// Commands without arguments.
type (
	CapabilityCommand struct{}
	NoopCommand       struct{}
	LogoutCommand     struct{}
	StartTLSCommand   struct{}
	NamespaceCommand  struct{}
	IdleCommand       struct{}
	CheckCommand      struct{}
	CloseCommand      struct{}
	UnselectCommand   struct{}
)

// AuthenticateCommand is AUTHENTICATE with an optional SASL-IR initial
// response (RFC 4959); "=" on the wire is a present but empty response.
type AuthenticateCommand struct {
	Mechanism          string // upper case
	InitialResponse    []byte // decoded
	HasInitialResponse bool
}

// LoginCommand is LOGIN.
type LoginCommand struct {
	Username, Password string
}

// EnableCommand is ENABLE (RFC 5161); capability names are upper-cased.
type EnableCommand struct {
	Capabilities []string
}

// IDField is one name/value pair of ID (RFC 2971).
type IDField struct {
	Name     string
	Value    string
	ValueNil bool // the value was NIL
}

// IDCommand is ID; Fields is nil for "ID NIL".
type IDCommand struct {
	Fields []IDField
}

// SelectCommand is SELECT, or EXAMINE when ReadOnly is set, with the
// CONDSTORE and QRESYNC parameters of RFC 7162.
type SelectCommand struct {
	Mailbox   string
	ReadOnly  bool
	CondStore bool
	QResync   *QResyncParams
}

// QResyncParams is the QRESYNC select parameter. KnownUIDs and the two
// halves of the sequence match data are empty when the client omitted them.
type QResyncParams struct {
	UIDValidity  uint32
	ModSeq       uint64
	KnownUIDs    SeqSet
	SeqMatchSeqs SeqSet // known-sequence-set
	SeqMatchUIDs SeqSet // known-uid-set
}

// CreateCommand is CREATE with the CREATE-SPECIAL-USE USE list (RFC 6154).
type CreateCommand struct {
	Mailbox    string
	SpecialUse []string // e.g. `\Drafts`
}

// DeleteCommand is DELETE.
type DeleteCommand struct{ Mailbox string }

// RenameCommand is RENAME.
type RenameCommand struct{ Mailbox, NewName string }

// SubscribeCommand is SUBSCRIBE.
type SubscribeCommand struct{ Mailbox string }

// UnsubscribeCommand is UNSUBSCRIBE.
type UnsubscribeCommand struct{ Mailbox string }

// ListCommand is LIST (with the LIST-EXTENDED, SPECIAL-USE and LIST-STATUS
// options) or LSUB.
type ListCommand struct {
	LSub      bool
	Reference string
	Patterns  []string
	// Extended is set when selection or return options or several patterns
	// were given: RFC 5258 responses apply.
	Extended bool
	Select   ListSelectOptions
	Return   ListReturnOptions
}

// ListSelectOptions are the LIST selection options of RFC 5258 and 6154.
type ListSelectOptions struct {
	Subscribed, Remote, RecursiveMatch, SpecialUse bool
}

// ListReturnOptions are the LIST return options of RFC 5258, 6154 and 5819.
type ListReturnOptions struct {
	Subscribed, Children, SpecialUse bool
	Status                           []StatusItem // RETURN (STATUS (...))
}

// StatusCommand is STATUS.
type StatusCommand struct {
	Mailbox string
	Items   []StatusItem
}

// StatusItem is a STATUS data item.
type StatusItem uint8

const (
	StatusMessages StatusItem = iota + 1
	StatusRecent
	StatusUIDNext
	StatusUIDValidity
	StatusUnseen
	StatusDeleted        // RFC 9051
	StatusSize           // STATUS=SIZE
	StatusHighestModSeq  // CONDSTORE
	StatusAppendLimit    // APPENDLIMIT
	StatusMailboxID      // OBJECTID
	StatusDeletedStorage // QUOTA=RES-STORAGE (RFC 9208)
)

var statusItemNames = [...]string{
	StatusMessages:       "MESSAGES",
	StatusRecent:         "RECENT",
	StatusUIDNext:        "UIDNEXT",
	StatusUIDValidity:    "UIDVALIDITY",
	StatusUnseen:         "UNSEEN",
	StatusDeleted:        "DELETED",
	StatusSize:           "SIZE",
	StatusHighestModSeq:  "HIGHESTMODSEQ",
	StatusAppendLimit:    "APPENDLIMIT",
	StatusMailboxID:      "MAILBOXID",
	StatusDeletedStorage: "DELETED-STORAGE",
}

func (s StatusItem) String() string {
	if int(s) < len(statusItemNames) && statusItemNames[s] != "" {
		return statusItemNames[s]
	}
	return "UNKNOWN"
}

// AppendCommand is APPEND; with MULTIAPPEND (RFC 3502) it carries several
// messages. The message bytes themselves were delivered as EventAppendData.
type AppendCommand struct {
	Mailbox  string
	Messages []AppendMessage
}

// AppendMessage describes one message of an APPEND.
type AppendMessage struct {
	Flags  []string
	Date   time.Time // zero when the client gave none
	Size   int64     // announced literal size
	Binary bool      // literal8 "~{n}" (BINARY)
	UTF8   bool      // UTF8 (...) form (UTF8=ACCEPT)
	Sync   bool      // synchronizing literal: a continuation was required
}

// ExpungeCommand is EXPUNGE, or UID EXPUNGE (UIDPLUS) when UID is set.
type ExpungeCommand struct {
	UID  bool
	UIDs SeqSet
}

// SearchCommand is SEARCH or UID SEARCH.
type SearchCommand struct {
	UID      bool
	Charset  string // upper case; "" when none was given
	Return   SearchReturn
	Criteria *SearchKey
}

// SearchReturn holds the ESEARCH RETURN options (RFC 4731, 5182). When Set is
// false the client used plain SEARCH syntax; RETURN () means ALL.
type SearchReturn struct {
	Set                        bool
	Min, Max, All, Count, Save bool
}

// FetchCommand is FETCH or UID FETCH. Macros (ALL, FAST, FULL) are expanded
// into Items, and UID FETCH always includes the UID item, which its
// response must carry. ChangedSince is 0 when not given; VANISHED was
// checked to come with UID FETCH and CHANGEDSINCE (RFC 7162).
type FetchCommand struct {
	UID          bool
	SeqSet       SeqSet
	Items        []FetchItem
	ChangedSince uint64
	Vanished     bool
}

// StoreMode says how STORE applies its flags.
type StoreMode uint8

const (
	StoreReplace StoreMode = iota // FLAGS
	StoreAdd                      // +FLAGS
	StoreRemove                   // -FLAGS
)

// StoreCommand is STORE or UID STORE.
type StoreCommand struct {
	UID               bool
	SeqSet            SeqSet
	Mode              StoreMode
	Silent            bool
	Flags             []string
	UnchangedSince    uint64
	HasUnchangedSince bool // UNCHANGEDSINCE 0 is meaningful
}

// CopyCommand is COPY or UID COPY.
type CopyCommand struct {
	UID     bool
	SeqSet  SeqSet
	Mailbox string
}

// MoveCommand is MOVE or UID MOVE (RFC 6851).
type MoveCommand struct {
	UID     bool
	SeqSet  SeqSet
	Mailbox string
}

// GetQuotaCommand is GETQUOTA (RFC 9208).
type GetQuotaCommand struct{ Root string }

// GetQuotaRootCommand is GETQUOTAROOT.
type GetQuotaRootCommand struct{ Mailbox string }

// QuotaLimit is one resource limit of SETQUOTA.
type QuotaLimit struct {
	Resource string // upper case, e.g. STORAGE
	Limit    uint64
}

// SetQuotaCommand is SETQUOTA.
type SetQuotaCommand struct {
	Root   string
	Limits []QuotaLimit
}

// CompressCommand is COMPRESS (RFC 4978).
type CompressCommand struct {
	Mechanism string // upper case, e.g. DEFLATE
}

func (*CapabilityCommand) commandArgs()   {}
func (*NoopCommand) commandArgs()         {}
func (*LogoutCommand) commandArgs()       {}
func (*StartTLSCommand) commandArgs()     {}
func (*NamespaceCommand) commandArgs()    {}
func (*IdleCommand) commandArgs()         {}
func (*CheckCommand) commandArgs()        {}
func (*CloseCommand) commandArgs()        {}
func (*UnselectCommand) commandArgs()     {}
func (*AuthenticateCommand) commandArgs() {}
func (*LoginCommand) commandArgs()        {}
func (*EnableCommand) commandArgs()       {}
func (*IDCommand) commandArgs()           {}
func (*SelectCommand) commandArgs()       {}
func (*CreateCommand) commandArgs()       {}
func (*DeleteCommand) commandArgs()       {}
func (*RenameCommand) commandArgs()       {}
func (*SubscribeCommand) commandArgs()    {}
func (*UnsubscribeCommand) commandArgs()  {}
func (*ListCommand) commandArgs()         {}
func (*StatusCommand) commandArgs()       {}
func (*AppendCommand) commandArgs()       {}
func (*ExpungeCommand) commandArgs()      {}
func (*SearchCommand) commandArgs()       {}
func (*FetchCommand) commandArgs()        {}
func (*StoreCommand) commandArgs()        {}
func (*CopyCommand) commandArgs()         {}
func (*MoveCommand) commandArgs()         {}
func (*GetQuotaCommand) commandArgs()     {}
func (*GetQuotaRootCommand) commandArgs() {}
func (*SetQuotaCommand) commandArgs()     {}
func (*CompressCommand) commandArgs()     {}

// System flags in their canonical spelling.
const (
	FlagSeen     = `\Seen`
	FlagAnswered = `\Answered`
	FlagFlagged  = `\Flagged`
	FlagDeleted  = `\Deleted`
	FlagDraft    = `\Draft`
	FlagRecent   = `\Recent`
)
