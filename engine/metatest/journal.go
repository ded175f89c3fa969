package metatest

import (
	"testing"
	"time"

	"github.com/eidermail/eider/engine"
)

func testJournal(t *testing.T, s engine.MetaStore) {
	c := ctx(t)
	g := newGen(t)
	alice := newUser(t, s, "alice")
	box := newMailbox(t, s, alice, "INBOX")
	other := newMailbox(t, s, alice, "Other")
	start := box.HighestModSeq

	appendMsgs(t, s, alice, box.ID, g.message([]string{"$A"}), g.message(nil))
	m1 := status(t, s, alice, box.ID).HighestModSeq
	ch, _, err := s.StoreFlags(c, alice, box.ID, set[uint32](1), engine.FlagsAdd, []string{`\Seen`}, 0)
	must(t, err)
	m2 := ch[0].ModSeq
	_, m3, err := s.Expunge(c, alice, box.ID, set[uint32](2))
	must(t, err)
	appendMsgs(t, s, alice, other.ID, g.messages(3)...) // another mailbox's changes stay there

	want := []engine.Change{
		{ModSeq: m1, Kind: engine.ChangeAppend, UID: 1, Flags: []string{"$A"}},
		{ModSeq: m1, Kind: engine.ChangeAppend, UID: 2, Flags: []string{}},
		{ModSeq: m2, Kind: engine.ChangeFlags, UID: 1, Flags: []string{"$A", `\Seen`}},
		{ModSeq: m3, Kind: engine.ChangeExpunge, UID: 2},
	}
	if !(start < m1 && m1 < m2 && m2 < m3) {
		t.Fatalf("MODSEQs %d %d %d %d do not increase", start, m1, m2, m3)
	}
	for _, tc := range []struct {
		since engine.ModSeq
		want  []engine.Change
	}{
		{0, want},
		{start, want},
		{m1, want[2:]},
		{m2, want[3:]},
		{m3, nil},
		{m3 + 100, nil},
	} {
		got, err := s.Journal(c, alice, box.ID, tc.since)
		must(t, err)
		if len(got) != len(tc.want) {
			t.Errorf("Journal(%d) = %+v, want %+v", tc.since, got, tc.want)
			continue
		}
		for i := range got {
			w := tc.want[i]
			if got[i].ModSeq != w.ModSeq || got[i].Kind != w.Kind || got[i].UID != w.UID ||
				(w.Kind != engine.ChangeExpunge && !equalFlags(got[i].Flags, w.Flags)) {
				t.Errorf("Journal(%d)[%d] = %+v, want %+v", tc.since, i, got[i], w)
			}
		}
	}
	_, err = s.Journal(c, alice, box.ID+1000, 0)
	mustIs(t, err, engine.ErrNotFound, "Journal of a missing mailbox")
}

func testJournalExpired(t *testing.T, s engine.MetaStore) {
	p, ok := s.(JournalPruner)
	if !ok {
		t.Skip("the store does not implement JournalPruner")
	}
	c := ctx(t)
	g := newGen(t)
	alice := newUser(t, s, "alice")
	box := newMailbox(t, s, alice, "INBOX")
	appendMsgs(t, s, alice, box.ID, g.messages(3)...)
	_, _, err := s.StoreFlags(c, alice, box.ID, set[uint32](2), engine.FlagsAdd, []string{`\Seen`}, 0)
	must(t, err)
	top := status(t, s, alice, box.ID).HighestModSeq

	n, err := p.PruneJournal(c, time.Now().Add(time.Hour))
	must(t, err)
	if n < 4 {
		t.Errorf("PruneJournal deleted %d entries, want at least 4", n)
	}
	for _, since := range []engine.ModSeq{0, box.HighestModSeq, top - 1} {
		got, err := s.Journal(c, alice, box.ID, since)
		mustIs(t, err, engine.ErrJournalExpired, "Journal below the pruned MODSEQ")
		if got != nil {
			t.Errorf("expired Journal returned a partial answer %+v", got)
		}
	}
	if got, err := s.Journal(c, alice, box.ID, top); err != nil || len(got) != 0 {
		t.Errorf("Journal(highest) after prune = %+v, %v", got, err)
	}
	_, m, err := s.Expunge(c, alice, box.ID, set[uint32](1))
	must(t, err)
	got, err := s.Journal(c, alice, box.ID, top)
	must(t, err)
	if len(got) != 1 || got[0].ModSeq != m || got[0].Kind != engine.ChangeExpunge {
		t.Errorf("Journal after prune and expunge = %+v", got)
	}
	// A prune that finds nothing old changes nothing.
	if _, err := p.PruneJournal(c, time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Journal(c, alice, box.ID, top); err != nil || len(got) != 1 {
		t.Errorf("Journal after an empty prune = %+v, %v", got, err)
	}
	// A mailbox created after the prune has its whole journal.
	fresh := newMailbox(t, s, alice, "Fresh")
	appendMsgs(t, s, alice, fresh.ID, g.messages(1)...)
	if got, err := s.Journal(c, alice, fresh.ID, 0); err != nil || len(got) != 1 {
		t.Errorf("Journal of a new mailbox = %+v, %v", got, err)
	}
}
