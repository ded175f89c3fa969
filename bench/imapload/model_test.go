package imapload

import (
	"strings"
	"testing"
	"time"

	"github.com/eidermail/eider/bench/load"
)

func newTestMailbox() (*mailbox, *load.Recorder) {
	rec := load.NewRecorder()
	return newMailbox("INBOX", "client 0", "$bench0", rec), rec
}

func consistency(rec *load.Recorder) []string {
	return rec.Report("imap", "", zeroTime, 0, 1).ConsistencySamples
}

var zeroTime time.Time

func fetchUID(seq, uid uint32, flags ...string) FetchData {
	return FetchData{Seq: seq, UID: uid, Flags: flags, HasFlags: flags != nil, Size: -1}
}

// TestMailboxAcceptsAConsistentStream replays what a correct server says
// while others change the mailbox: no inconsistency.
func TestMailboxAcceptsAConsistentStream(t *testing.T) {
	mb, rec := newTestMailbox()
	mb.exists(4)
	mb.fetch(fetchUID(1, 10, `\Seen`))
	mb.fetch(fetchUID(2, 11))
	mb.fetch(fetchUID(3, 15, "$bench0"))
	mb.fetch(fetchUID(4, 20, "$Bench0", `\Flagged`))
	mb.expunge(2)             // UID 11 goes: 10 15 20
	mb.exists(5)              // two new messages: 10 15 20 ? ?
	mb.fetch(fetchUID(5, 23)) // learnt out of order: 10 15 20 ? 23
	mb.fetch(fetchUID(3, 20, "$bench0"))
	mb.fetch(fetchUID(2, 15, "$bench0", `\Seen`))
	mb.exists(6) // 10 15 20 ? 23 ?
	for uid, want := range map[uint32]bool{10: true, 11: false, 12: false, 22: true, 24: true, 23: true} {
		if mb.plausible(uid) != want {
			t.Errorf("plausible(%d) = %v", uid, !want)
		}
	}
	mb.vanished([]uint32{22, 15}) // 10 20 23 ?
	if got := mb.knownUIDs(); len(got) != 3 || got[0] != 10 || got[1] != 20 || got[2] != 23 || mb.count() != 4 || mb.firstUnknown() != 4 {
		t.Errorf("known %v, count %d, first unknown %d", got, mb.count(), mb.firstUnknown())
	}
	if s := consistency(rec); len(s) != 0 {
		t.Errorf("inconsistencies in a consistent stream: %q", s)
	}
}

// TestMailboxCatchesViolations gives each rule a response that breaks it.
func TestMailboxCatchesViolations(t *testing.T) {
	cases := []struct {
		name string
		run  func(mb *mailbox)
		want string
	}{
		{"EXISTS shrinks", func(mb *mailbox) { mb.exists(3); mb.exists(2) }, "EXISTS 2 below"},
		{"EXPUNGE out of range", func(mb *mailbox) { mb.exists(2); mb.expunge(3) }, "EXPUNGE 3 with 2"},
		{"FETCH beyond EXISTS", func(mb *mailbox) { mb.exists(2); mb.fetch(fetchUID(3, 9)) }, "FETCH for message 3"},
		{"UID moves", func(mb *mailbox) { mb.exists(2); mb.fetch(fetchUID(1, 5)); mb.fetch(fetchUID(1, 6)) }, "has UID 6, was UID 5"},
		{"UIDs descend", func(mb *mailbox) { mb.exists(2); mb.fetch(fetchUID(2, 5)); mb.fetch(fetchUID(1, 7)) }, "not below UID 5"},
		{"UID twice", func(mb *mailbox) { mb.exists(3); mb.fetch(fetchUID(1, 5)); mb.fetch(fetchUID(3, 5)) }, "already at message 1"},
		{"own keyword lost", func(mb *mailbox) {
			mb.exists(1)
			mb.fetch(fetchUID(1, 5, "$bench0"))
			mb.fetch(fetchUID(1, 5, `\Seen`))
		}, "$bench0 was last set"},
		{"size changes", func(mb *mailbox) {
			mb.exists(1)
			mb.fetch(FetchData{Seq: 1, UID: 5, Size: 100})
			mb.fetch(FetchData{Seq: 1, UID: 5, Size: 101})
		}, "RFC822.SIZE 101, was 100"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mb, rec := newTestMailbox()
			c.run(mb)
			s := consistency(rec)
			if len(s) != 1 || !strings.Contains(s[0], c.want) {
				t.Errorf("got %q, want one containing %q", s, c.want)
			}
		})
	}
}

// TestStoreInFlight checks that a FLAGS response during the client's own
// STORE is not judged against the old state, and that the last one must
// show the change.
func TestStoreInFlight(t *testing.T) {
	mb, rec := newTestMailbox()
	mb.exists(1)
	mb.fetch(fetchUID(1, 5))
	mb.inFlight, mb.lastFlags = map[uint32]bool{5: true}, map[uint32]string{}
	mb.fetch(fetchUID(1, 5, `\Seen`))            // pending update from before the store
	mb.fetch(fetchUID(1, 5, `\Seen`, "$bench0")) // the store's own response
	if mb.lastFlags[5] != flagState(true) || len(consistency(rec)) != 0 {
		t.Errorf("last %q, samples %q", mb.lastFlags[5], consistency(rec))
	}
}
