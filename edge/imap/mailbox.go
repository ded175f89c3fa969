package imap

import (
	"slices"
	"strconv"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"

	imap "github.com/eidermail/eider/codec/imap"
	"github.com/eidermail/eider/engine"
)

// selected is the session's view of its selected mailbox: the UIDs the
// client knows by sequence number (message n is the n-th UID), and what
// changed in the store that the client has not been told yet.
type selected struct {
	mb       engine.Mailbox
	readOnly bool
	uids     *roaring.Bitmap
	modseq   engine.ModSeq // journal read up to here
	recent   *roaring.Bitmap
	keywords []string // sorted, as announced in FLAGS

	exists      uint32                       // EXISTS count the client knows
	recentSent  uint32                       // RECENT count the client knows
	expunged    *roaring.Bitmap              // gone from the store, still numbered for the client
	flagChanges map[engine.UID]flagUpdate    // allocated when first needed
	reported    map[engine.UID]engine.ModSeq // flag changes this session already announced
	newKeywords bool
}

type flagUpdate struct {
	flags  []string
	modseq engine.ModSeq
}

var systemFlags = []string{imap.FlagAnswered, imap.FlagFlagged, imap.FlagDeleted, imap.FlagSeen, imap.FlagDraft}

func newSelected(mb engine.Mailbox, readOnly bool, uids *roaring.Bitmap, modseq engine.ModSeq, keywords []string) *selected {
	kw := slices.Clone(keywords)
	slices.Sort(kw)
	return &selected{
		mb: mb, readOnly: readOnly, uids: uids, modseq: modseq, keywords: slices.Compact(kw),
		recent: roaring.New(), expunged: roaring.New(),
		exists: uint32(uids.GetCardinality()),
	}
}

// noteFlags records a flag change the client has not been told of.
func (v *selected) noteFlags(uid engine.UID, u flagUpdate) {
	if v.flagChanges == nil {
		v.flagChanges = make(map[engine.UID]flagUpdate)
	}
	v.flagChanges[uid] = u
}

// noteReported records that this session told the client of a message's
// flags as of modseq, so the journal entry need not be told again.
func (v *selected) noteReported(uid engine.UID, modseq engine.ModSeq) {
	if v.reported == nil {
		v.reported = make(map[engine.UID]engine.ModSeq)
	}
	v.reported[uid] = max(v.reported[uid], modseq)
}

func (v *selected) count() uint32 { return uint32(v.uids.GetCardinality()) }

// seqOf returns the sequence number of uid, 0 when it is not in the view.
func (v *selected) seqOf(uid uint32) uint32 {
	if !v.uids.Contains(uid) {
		return 0
	}
	return uint32(v.uids.Rank(uid))
}

// flagList is the FLAGS response: system flags and the mailbox's keywords.
func (v *selected) flagList() []string {
	return append(slices.Clone(systemFlags), v.keywords...)
}

// permanentFlags is PERMANENTFLAGS: what STORE keeps, with \* since any
// keyword may be created; empty in a read-only mailbox.
func (v *selected) permanentFlags() []string {
	if v.readOnly {
		return nil
	}
	return append(v.flagList(), `\*`)
}

// learnKeywords notes keywords the client has not seen in a FLAGS response.
func (v *selected) learnKeywords(flags []string) {
	for _, f := range flags {
		if f == "" || f[0] == '\\' {
			continue
		}
		i, found := slices.BinarySearchFunc(v.keywords, f, func(a, b string) int {
			return strings.Compare(strings.ToLower(a), strings.ToLower(b))
		})
		if found {
			continue
		}
		v.keywords = slices.Insert(v.keywords, i, f)
		v.newKeywords = true
	}
}

// resolve maps a sequence set (or UID set) of the client to UIDs of the
// view. With strict, a sequence number beyond the message count is
// errBadSeq (RFC 9051 9: a client must not use one); "*" in an empty
// mailbox selects nothing.
func (s *session) resolve(set imap.SeqSet, uid, strict bool) (*roaring.Bitmap, error) {
	v := s.sel
	if set.Saved {
		if s.saved == nil {
			return roaring.New(), nil
		}
		return roaring.And(s.saved, v.uids), nil
	}
	out := roaring.New()
	if uid {
		var max uint32
		if !v.uids.IsEmpty() {
			max = v.uids.Maximum()
		}
		for _, r := range set.Ranges {
			lo, hi := r.Start, r.Stop
			if lo == 0 {
				lo = max
			}
			if hi == 0 {
				hi = max
			}
			if lo > hi {
				lo, hi = hi, lo
			}
			out.AddRange(uint64(lo), uint64(hi)+1)
		}
		out.And(v.uids)
		out.Remove(0)
		return out, nil
	}
	n := v.count()
	for _, r := range set.Ranges {
		lo, hi := r.Start, r.Stop
		star := lo == 0 || hi == 0
		if lo == 0 {
			lo = n
		}
		if hi == 0 {
			hi = n
		}
		if lo > hi {
			lo, hi = hi, lo
		}
		if lo == 0 {
			lo = 1
		}
		if hi > n {
			if strict && !star {
				return nil, errBadSeq
			}
			hi = n
		}
		if lo > hi {
			continue
		}
		first, err := v.uids.Select(lo - 1)
		if err != nil {
			return nil, errBadSeq
		}
		last, err := v.uids.Select(hi - 1)
		if err != nil {
			return nil, errBadSeq
		}
		out.AddRange(uint64(first), uint64(last)+1)
	}
	out.And(v.uids)
	return out, nil
}

// seqSetOf turns UIDs into a compact set of sequence numbers (uid false)
// or UIDs for a response.
func (s *session) seqSetOf(uids *roaring.Bitmap, uid bool) imap.SeqSet {
	var set imap.SeqSet
	it := uids.Iterator()
	for it.HasNext() {
		u := it.Next()
		if uid {
			set.AddNum(u)
			continue
		}
		if seq := s.sel.seqOf(u); seq != 0 {
			set.AddNum(seq)
		}
	}
	return set
}

// uidSetOf is the compact UID set of a bitmap.
func uidSetOf(b *roaring.Bitmap) imap.SeqSet {
	var set imap.SeqSet
	it := b.Iterator()
	for it.HasNext() {
		set.AddNum(it.Next())
	}
	return set
}

func uidSet(uids []engine.UID) imap.SeqSet {
	var set imap.SeqSet
	for _, u := range uids {
		set.AddNum(uint32(u))
	}
	return set
}

// mailboxObjectID is the MAILBOXID of a mailbox (RFC 8474).
func mailboxObjectID(id engine.MailboxID) string {
	return "M" + strconv.FormatInt(int64(id), 36)
}

// emailObjectID is the EMAILID of a message's content (RFC 8474).
func emailObjectID(id engine.EmailID) string {
	return "E" + strconv.FormatUint(uint64(id), 36)
}

func parseEmailObjectID(s string) (engine.EmailID, bool) {
	if len(s) < 2 || s[0] != 'E' {
		return 0, false
	}
	n, err := strconv.ParseUint(s[1:], 36, 64)
	return engine.EmailID(n), err == nil
}
