package imapload

import (
	"slices"

	"github.com/eidermail/eider/bench/load"
)

// mailbox is what one client knows of its selected mailbox, kept up to
// date from every response it reads, and checked against each new one.
//
// The checks follow from the protocol, not from any server: sequence
// numbers change only through the EXPUNGE (or VANISHED) responses this
// session was sent, so a UID seen at a sequence number stays there until
// then; UIDs ascend with sequence numbers; EXISTS never shrinks without
// an expunge; a message's size never changes; and the client's own
// keyword ($bench<n>) is set or cleared by this client alone, so every
// FLAGS response must agree with what it last stored.
type mailbox struct {
	name        string
	who         string // which client, for consistency samples
	rec         *load.Recorder
	keyword     string
	uidValidity uint32
	uidNext     uint32            // no new message gets a UID below this
	seqs        []uint32          // sequence number - 1 → UID; 0 while unknown
	present     map[uint32]bool   // UIDs in seqs
	mine        map[uint32]bool   // whether keyword is set, where known
	sizes       map[uint32]int64  // RFC822.SIZE, where known
	inFlight    map[uint32]bool   // UIDs our running STORE changes: not checked until it ends
	lastFlags   map[uint32]string // during a STORE: the last FLAGS seen per UID (keyword set: "1")
	unknown     int               // how many entries of seqs are 0
}

func newMailbox(name, who, keyword string, rec *load.Recorder) *mailbox {
	return &mailbox{
		name: name, who: who, keyword: keyword, rec: rec,
		present: map[uint32]bool{}, mine: map[uint32]bool{}, sizes: map[uint32]int64{},
	}
}

func (m *mailbox) inconsistent(format string, args ...any) {
	m.rec.Inconsistent(m.who+": "+format, args...)
}

func (m *mailbox) count() int { return len(m.seqs) }

// exists applies "* n EXISTS".
func (m *mailbox) exists(n uint32) {
	if int(n) < len(m.seqs) {
		m.inconsistent("EXISTS %d below the %d messages known (no EXPUNGE in between)", n, len(m.seqs))
		return
	}
	for len(m.seqs) < int(n) {
		m.seqs = append(m.seqs, 0)
		m.unknown++
	}
}

// expunge applies "* n EXPUNGE".
func (m *mailbox) expunge(seq uint32) {
	if seq == 0 || int(seq) > len(m.seqs) {
		m.inconsistent("EXPUNGE %d with %d messages", seq, len(m.seqs))
		return
	}
	m.removeAt(int(seq) - 1)
}

func (m *mailbox) removeAt(i int) {
	uid := m.seqs[i]
	if uid == 0 {
		m.unknown--
	} else {
		delete(m.present, uid)
		delete(m.mine, uid)
		delete(m.sizes, uid)
	}
	m.seqs = slices.Delete(m.seqs, i, i+1)
}

// vanished applies "* VANISHED uids" (QRESYNC): a UID the client knows is
// removed; one it does not know must fit a gap of unknown entries.
func (m *mailbox) vanished(uids []uint32) {
	for _, u := range uids {
		if m.present[u] {
			m.removeAt(m.indexOf(u))
			continue
		}
		if i, ok := m.unknownSlot(u); ok {
			m.removeAt(i)
			continue
		}
		// A UID expunged before this session learnt of it is fine; one
		// within the known range that was never announced is not.
	}
}

// indexOf returns the position of a present UID.
func (m *mailbox) indexOf(uid uint32) int {
	for i := len(m.seqs) - 1; i >= 0; i-- {
		if m.seqs[i] == uid {
			return i
		}
	}
	return -1
}

// unknownSlot returns an unknown entry where uid could be: between the
// known UIDs below and above it.
func (m *mailbox) unknownSlot(uid uint32) (int, bool) {
	below, above := -1, len(m.seqs)
	for i := len(m.seqs) - 1; i >= 0; i-- {
		u := m.seqs[i]
		if u == 0 {
			continue
		}
		if u == uid {
			return 0, false
		}
		if u < uid {
			below = i
			break
		}
		above = i
	}
	for j := below + 1; j < above; j++ {
		if m.seqs[j] == 0 {
			return j, true
		}
	}
	return 0, false
}

// plausible reports whether uid can be in the mailbox as this session
// sees it: known, or fitting an unknown entry.
func (m *mailbox) plausible(uid uint32) bool {
	if m.present[uid] {
		return true
	}
	_, ok := m.unknownSlot(uid)
	return ok
}

// fetch applies one FETCH response and checks it.
func (m *mailbox) fetch(fd FetchData) {
	if fd.Seq == 0 || int(fd.Seq) > len(m.seqs) {
		m.inconsistent("FETCH for message %d with %d messages (UID %d)", fd.Seq, len(m.seqs), fd.UID)
		return
	}
	i := int(fd.Seq) - 1
	uid := m.seqs[i]
	if fd.UID != 0 {
		switch {
		case uid == fd.UID:
		case uid != 0:
			m.inconsistent("message %d has UID %d, was UID %d", fd.Seq, fd.UID, uid)
			return
		default:
			if m.present[fd.UID] {
				m.inconsistent("UID %d at message %d is already at message %d", fd.UID, fd.Seq, m.indexOf(fd.UID)+1)
				return
			}
			for j := i - 1; j >= 0; j-- {
				if m.seqs[j] != 0 {
					if m.seqs[j] >= fd.UID {
						m.inconsistent("UID %d at message %d is not above UID %d at message %d", fd.UID, fd.Seq, m.seqs[j], j+1)
						return
					}
					break
				}
			}
			for j := i + 1; j < len(m.seqs); j++ {
				if m.seqs[j] != 0 {
					if m.seqs[j] <= fd.UID {
						m.inconsistent("UID %d at message %d is not below UID %d at message %d", fd.UID, fd.Seq, m.seqs[j], j+1)
						return
					}
					break
				}
			}
			m.seqs[i] = fd.UID
			m.present[fd.UID] = true
			m.unknown--
			m.uidNext = max(m.uidNext, fd.UID+1)
		}
		uid = fd.UID
	}
	if uid == 0 {
		return
	}
	if fd.Size >= 0 {
		if old, ok := m.sizes[uid]; ok && old != fd.Size {
			m.inconsistent("UID %d: RFC822.SIZE %d, was %d", uid, fd.Size, old)
		}
		m.sizes[uid] = fd.Size
	}
	if fd.HasFlags {
		has := HasFlag(fd.Flags, m.keyword)
		if m.inFlight[uid] {
			m.lastFlags[uid] = flagState(has)
			return
		}
		if want, ok := m.mine[uid]; ok && want != has {
			m.inconsistent("UID %d: FLAGS %v, but %s was last %s by this client", uid, fd.Flags, m.keyword, setOrCleared(want))
		}
		m.mine[uid] = has
	}
}

func flagState(has bool) string {
	if has {
		return "1"
	}
	return "0"
}

func setOrCleared(set bool) string {
	if set {
		return "set"
	}
	return "cleared"
}

// knownUIDs returns the UIDs the client knows, ascending.
func (m *mailbox) knownUIDs() []uint32 {
	out := make([]uint32, 0, len(m.seqs)-m.unknown)
	for _, u := range m.seqs {
		if u != 0 {
			out = append(out, u)
		}
	}
	return out
}

// firstUnknown returns the sequence number of the first unknown entry,
// or 0.
func (m *mailbox) firstUnknown() int {
	if m.unknown == 0 {
		return 0
	}
	for i, u := range m.seqs {
		if u == 0 {
			return i + 1
		}
	}
	return 0
}
