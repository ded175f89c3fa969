package metatest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/eidermail/eider/engine"
)

func testAppend(t *testing.T, s engine.MetaStore) {
	c := ctx(t)
	g := newGen(t)
	alice := newUser(t, s, "alice")
	box := newMailbox(t, s, alice, "INBOX")
	shared := g.blobID()
	in := []engine.NewMessage{
		g.message([]string{`\seen`, "$Label", `\Recent`, `\FLAGGED`}, shared, g.blobID()),
		g.message(nil, shared, shared), // a blob listed twice is one reference
		g.message([]string{"$label", "$LABEL"}),
	}
	in[0].InternalDate = time.Date(2024, 2, 29, 23, 59, 58, 0, time.FixedZone("", -5*3600))
	uv, uids, err := s.Append(c, alice, box.ID, in)
	must(t, err)
	if uv != box.UIDValidity {
		t.Errorf("Append UIDVALIDITY %d, mailbox has %d", uv, box.UIDValidity)
	}
	if !slices.Equal(uids, []engine.UID{1, 2, 3}) {
		t.Fatalf("Append UIDs = %v, want [1 2 3]", uids)
	}
	st := status(t, s, alice, box.ID)
	if st.UIDNext != 4 || st.HighestModSeq != box.HighestModSeq+1 {
		t.Errorf("after Append: UIDNext %d, HighestModSeq %d; want 4, %d (one MODSEQ per batch)", st.UIDNext, st.HighestModSeq, box.HighestModSeq+1)
	}
	got := metas(t, s, alice, box.ID, nil)
	if len(got) != 3 {
		t.Fatalf("Messages returned %d rows", len(got))
	}
	wantFlags := [][]string{{"$Label", `\Flagged`, `\Seen`}, {}, {"$label"}}
	for i, m := range got {
		n := in[i]
		if m.UID != uids[i] || m.ModSeq != st.HighestModSeq || m.EmailID != n.EmailID || m.Size != n.Size ||
			!m.InternalDate.Equal(n.InternalDate) || !bytes.Equal(m.Envelope, n.Envelope) || !bytes.Equal(m.Structure, n.Structure) {
			t.Errorf("message %d = %+v\nappended %+v", i, m, n)
		}
		if !equalFlags(m.Flags, wantFlags[i]) || !slices.IsSorted(m.Flags) {
			t.Errorf("message %d flags = %q, want %q sorted", i, m.Flags, wantFlags[i])
		}
		inline, err := s.Inline(c, alice, box.ID, m.UID)
		must(t, err)
		if !bytes.Equal(inline, n.Inline) {
			t.Errorf("Inline(%d) = %x, want %x", m.UID, inline, n.Inline)
		}
	}
	if _, off := got[0].InternalDate.Zone(); off != -5*3600 {
		t.Logf("INTERNALDATE zone offset not kept (%d); allowed, the instant is", off)
	}
	_, err = s.Inline(c, alice, box.ID, 99)
	mustIs(t, err, engine.ErrNotFound, "Inline of a missing UID")

	if refs := blobRefs(t, s, shared); refs[0] != 2 {
		t.Errorf("shared blob has %d references, want 2", refs[0])
	}
	if q := quota(t, s, alice); q.Used != in[0].Size+in[1].Size+in[2].Size || q.Messages != 3 {
		t.Errorf("Quota = %+v", q)
	}
	changes, err := s.Journal(c, alice, box.ID, box.HighestModSeq)
	must(t, err)
	if len(changes) != 3 {
		t.Fatalf("Journal after Append = %+v", changes)
	}
	for i, ch := range changes {
		if ch.Kind != engine.ChangeAppend || ch.UID != uids[i] || ch.ModSeq != st.HighestModSeq || !equalFlags(ch.Flags, wantFlags[i]) {
			t.Errorf("journal entry %d = %+v", i, ch)
		}
	}

	// An empty batch changes nothing.
	uv, uids, err = s.Append(c, alice, box.ID, nil)
	if err != nil || uv != box.UIDValidity || len(uids) != 0 {
		t.Errorf("empty Append = %d, %v, %v", uv, uids, err)
	}
	if st2 := status(t, s, alice, box.ID); st2.HighestModSeq != st.HighestModSeq || st2.UIDNext != st.UIDNext {
		t.Errorf("empty Append changed the mailbox: %+v", st2)
	}
	_, _, err = s.Append(c, alice, box.ID+1000, g.messages(1))
	mustIs(t, err, engine.ErrNotFound, "Append to a missing mailbox")

	// UIDs are never reused, even after the highest is expunged.
	_, _, err = s.Expunge(c, alice, box.ID, set[uint32](3))
	must(t, err)
	next := appendMsgs(t, s, alice, box.ID, g.messages(2)...)
	if !slices.Equal(next, []engine.UID{4, 5}) {
		t.Errorf("Append after expunging UID 3 = %v, want [4 5]", next)
	}
}

func testMessages(t *testing.T, s engine.MetaStore, n int) {
	c := ctx(t)
	g := newGen(t)
	alice := newUser(t, s, "alice")
	box := newMailbox(t, s, alice, "INBOX")
	var all []engine.UID
	for len(all) < n {
		all = append(all, appendMsgs(t, s, alice, box.ID, g.messages(min(500, n-len(all)))...)...)
	}
	// Expunge every third message so the set has holes.
	holes := set[uint32]()
	for i := 0; i < n; i += 3 {
		holes.Add(uint32(all[i]))
	}
	_, _, err := s.Expunge(c, alice, box.ID, holes)
	must(t, err)

	cases := []struct {
		name string
		uids []uint32
	}{
		{"everything", nil},
		{"sparse", []uint32{2, 3, 5, uint32(n / 3), uint32(n - 1), uint32(n), uint32(n + 1), uint32(3*n + 9)}},
		{"one", []uint32{uint32(n / 2)}},
		{"missing only", []uint32{1, 4, 7, uint32(n + 1000)}},
	}
	for _, tc := range cases {
		req := everything()
		if tc.uids != nil {
			req = set(tc.uids...)
		}
		got := metas(t, s, alice, box.ID, req)
		var want []uint32
		for _, u := range all {
			if !holes.Contains(uint32(u)) && req.Contains(uint32(u)) {
				want = append(want, uint32(u))
			}
		}
		var have []uint32
		for _, m := range got {
			have = append(have, uint32(m.UID))
		}
		if !slices.Equal(have, want) {
			t.Errorf("%s: Messages returned %d UIDs %v…, want %d", tc.name, len(have), have[:min(len(have), 10)], len(want))
		}
	}

	uids, highest, err := s.UIDs(c, alice, box.ID)
	must(t, err)
	if uids.GetCardinality() != uint64(n)-holes.GetCardinality() || uids.Intersects(holes) {
		t.Errorf("UIDs has %d members", uids.GetCardinality())
	}
	if st := status(t, s, alice, box.ID); highest != st.HighestModSeq {
		t.Errorf("UIDs MODSEQ %d, Status %d", highest, st.HighestModSeq)
	}

	stop := errors.New("enough")
	seen := 0
	err = s.Messages(c, alice, box.ID, everything(), func(*engine.MessageMeta) error {
		seen++
		if seen == 10 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || seen != 10 {
		t.Errorf("Messages with a failing callback: %v after %d calls, want the callback's error after 10", err, seen)
	}
	// The callback may call the store (a FETCH reads inline segments).
	count, upTo := 0, uint32(n*2/5)
	must(t, s.Messages(c, alice, box.ID, rangeSet(1, upTo), func(m *engine.MessageMeta) error {
		count++
		_, err := s.Inline(c, alice, box.ID, m.UID)
		return err
	}))
	if want := int(upTo) - int(holes.Rank(upTo)); count != want {
		t.Errorf("nested reads: %d messages, want %d", count, want)
	}
}

func testUIDMonotonicConcurrent(t *testing.T, s engine.MetaStore) {
	c := ctx(t)
	alice := newUser(t, s, "alice")
	box := newMailbox(t, s, alice, "INBOX")
	const writers, rounds = 8, 25
	results := make([][][]engine.UID, writers)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := newGen(t)
			for r := 0; r < rounds; r++ {
				_, uids, err := s.Append(c, alice, box.ID, g.messages(1+(w+r)%3))
				if err != nil {
					errs[w] = err
					return
				}
				results[w] = append(results[w], uids)
			}
		}()
	}
	// Readers run meanwhile and must not fail.
	done := make(chan struct{})
	var readErr error
	go func() {
		defer close(done)
		for i := 0; i < 50; i++ {
			if _, _, err := s.UIDs(c, alice, box.ID); err != nil {
				readErr = err
				return
			}
		}
	}()
	wg.Wait()
	<-done
	must(t, errors.Join(append(errs, readErr)...))

	seen := map[engine.UID]bool{}
	total := 0
	for w, batches := range results {
		var last engine.UID
		for _, b := range batches {
			for i, u := range b {
				if seen[u] {
					t.Fatalf("UID %d handed out twice", u)
				}
				seen[u] = true
				if u <= last || (i > 0 && u != b[i-1]+1) {
					t.Fatalf("writer %d: UIDs %v after %d are not increasing consecutive", w, b, last)
				}
				last = u
				total++
			}
		}
	}
	for u := engine.UID(1); u <= engine.UID(total); u++ {
		if !seen[u] {
			t.Fatalf("UID %d missing from 1..%d", u, total)
		}
	}
	// One MODSEQ per batch, distinct between batches, growing with UIDs.
	byModSeq := map[engine.ModSeq][]engine.UID{}
	var prev engine.MessageMeta
	for i, m := range metas(t, s, alice, box.ID, nil) {
		byModSeq[m.ModSeq] = append(byModSeq[m.ModSeq], m.UID)
		if i > 0 && m.ModSeq < prev.ModSeq {
			t.Fatalf("UID %d has MODSEQ %d below UID %d's %d", m.UID, m.ModSeq, prev.UID, prev.ModSeq)
		}
		prev = m
	}
	batches := 0
	for _, b := range results {
		batches += len(b)
		for _, uids := range b {
			if got := byModSeq[metaByUID(t, s, alice, box.ID, uids[0]).ModSeq]; !slices.Equal(got, uids) {
				t.Fatalf("batch %v shares its MODSEQ with %v", uids, got)
			}
		}
	}
	if len(byModSeq) != batches {
		t.Errorf("%d MODSEQs for %d batches", len(byModSeq), batches)
	}
}

func testFlags(t *testing.T, s engine.MetaStore) {
	c := ctx(t)
	g := newGen(t)
	alice := newUser(t, s, "alice")
	box := newMailbox(t, s, alice, "INBOX")
	appendMsgs(t, s, alice, box.ID, g.messages(4)...)
	base := status(t, s, alice, box.ID)
	if base.Unseen != 4 {
		t.Fatalf("Unseen = %d, want 4", base.Unseen)
	}

	store := func(uids []uint32, op engine.FlagOp, flags ...string) []engine.FlagChange {
		t.Helper()
		changed, modified, err := s.StoreFlags(c, alice, box.ID, set(uids...), op, flags, 0)
		must(t, err)
		if modified != nil && !modified.IsEmpty() {
			t.Errorf("modified = %v without UNCHANGEDSINCE", modified.ToArray())
		}
		return changed
	}
	check := func(uid engine.UID, want ...string) {
		t.Helper()
		if m := metaByUID(t, s, alice, box.ID, uid); !equalFlags(m.Flags, want) {
			t.Errorf("UID %d flags %q, want %q", uid, m.Flags, want)
		}
	}

	changed := store([]uint32{1, 2, 9}, engine.FlagsAdd, `\SEEN`, "$Work")
	if len(changed) != 2 || changed[0].UID != 1 || changed[1].UID != 2 {
		t.Fatalf("changed = %+v", changed)
	}
	m1 := changed[0].ModSeq
	if m1 <= base.HighestModSeq || changed[1].ModSeq != m1 {
		t.Errorf("changed MODSEQs %d, %d; want one new MODSEQ above %d", changed[0].ModSeq, changed[1].ModSeq, base.HighestModSeq)
	}
	if !equalFlags(changed[0].Flags, []string{"$Work", `\Seen`}) {
		t.Errorf("changed flags %q", changed[0].Flags)
	}
	check(1, "$Work", `\Seen`)
	st := status(t, s, alice, box.ID)
	if st.HighestModSeq != m1 || st.Unseen != 2 {
		t.Errorf("Status after STORE = %+v", st)
	}
	if m := metaByUID(t, s, alice, box.ID, 3); m.ModSeq != base.HighestModSeq {
		t.Errorf("untouched message's MODSEQ moved to %d", m.ModSeq)
	}

	// No change, no MODSEQ: same flags again, a keyword in other case, \Recent.
	for _, flags := range [][]string{{`\Seen`}, {"$WORK"}, {`\Recent`}} {
		if ch := store([]uint32{1, 2}, engine.FlagsAdd, flags...); len(ch) != 0 {
			t.Errorf("adding %q changed %+v", flags, ch)
		}
	}
	if ch := store([]uint32{3}, engine.FlagsRemove, `\Seen`); len(ch) != 0 {
		t.Errorf("removing an absent flag changed %+v", ch)
	}
	if st := status(t, s, alice, box.ID); st.HighestModSeq != m1 {
		t.Errorf("no-op STOREs moved HighestModSeq to %d", st.HighestModSeq)
	}

	changed = store([]uint32{1}, engine.FlagsRemove, "$work")
	check(1, `\Seen`)
	m2 := changed[0].ModSeq
	if m2 <= m1 {
		t.Errorf("MODSEQ %d after %d", m2, m1)
	}
	store([]uint32{2}, engine.FlagsReplace, `\Flagged`, `\Deleted`, `\Draft`, `\Answered`)
	check(2, `\Answered`, `\Deleted`, `\Draft`, `\Flagged`)
	if st := status(t, s, alice, box.ID); st.Deleted != 1 || st.Unseen != 3 {
		t.Errorf("Status after REPLACE = %+v", st)
	}
	// Replacing with the same set in another case changes nothing.
	store([]uint32{4}, engine.FlagsAdd, "Urgent")
	if ch := store([]uint32{4}, engine.FlagsReplace, "urgent"); len(ch) != 0 {
		t.Errorf("case-only REPLACE changed %+v", ch)
	}
	store([]uint32{4}, engine.FlagsReplace)
	check(4)

	changes, err := s.Journal(c, alice, box.ID, base.HighestModSeq)
	must(t, err)
	var flagEntries []engine.Change
	for _, ch := range changes {
		if ch.Kind == engine.ChangeFlags {
			flagEntries = append(flagEntries, ch)
		}
	}
	if len(flagEntries) != 6 {
		t.Errorf("journal has %d flag entries, want 6: %+v", len(flagEntries), changes)
	}
	if last := flagEntries[len(flagEntries)-1]; last.UID != 4 || len(last.Flags) != 0 {
		t.Errorf("last flag entry %+v, want UID 4 with no flags", last)
	}
	_, _, err = s.StoreFlags(c, alice, box.ID, set[uint32](1), engine.FlagsAdd, []string{"bad flag"}, 0)
	if err == nil {
		t.Errorf("a flag with a space was stored")
	}
}

func testUnchangedSince(t *testing.T, s engine.MetaStore) {
	c := ctx(t)
	g := newGen(t)
	alice := newUser(t, s, "alice")
	box := newMailbox(t, s, alice, "INBOX")
	appendMsgs(t, s, alice, box.ID, g.messages(3)...)
	m0 := status(t, s, alice, box.ID).HighestModSeq
	ch, _, err := s.StoreFlags(c, alice, box.ID, set[uint32](2), engine.FlagsAdd, []string{`\Seen`}, 0)
	must(t, err)
	m1 := ch[0].ModSeq

	changed, modified, err := s.StoreFlags(c, alice, box.ID, rangeSet(1, 3), engine.FlagsAdd, []string{`\Flagged`}, m0)
	must(t, err)
	if modified == nil || !slices.Equal(modified.ToArray(), []uint32{2}) {
		t.Errorf("modified = %v, want [2]", modified)
	}
	if len(changed) != 2 || changed[0].UID != 1 || changed[1].UID != 3 {
		t.Errorf("changed = %+v, want UIDs 1 and 3", changed)
	}
	if m := metaByUID(t, s, alice, box.ID, 2); !equalFlags(m.Flags, []string{`\Seen`}) || m.ModSeq != m1 {
		t.Errorf("guarded message changed: %+v", m)
	}
	// A MODSEQ equal to UNCHANGEDSINCE passes.
	changed, modified, err = s.StoreFlags(c, alice, box.ID, set[uint32](2), engine.FlagsAdd, []string{`\Flagged`}, m1)
	must(t, err)
	if len(changed) != 1 || (modified != nil && !modified.IsEmpty()) {
		t.Errorf("UNCHANGEDSINCE equal to the MODSEQ: changed %+v, modified %v", changed, modified)
	}
	// A message that would not change but is newer still fails the test.
	_, modified, err = s.StoreFlags(c, alice, box.ID, set[uint32](2), engine.FlagsAdd, []string{`\Flagged`}, m0)
	must(t, err)
	if modified == nil || !modified.Contains(2) {
		t.Errorf("newer unchanged message not reported modified")
	}
}

func testExpunge(t *testing.T, s engine.MetaStore) {
	c := ctx(t)
	g := newGen(t)
	alice := newUser(t, s, "alice")
	box := newMailbox(t, s, alice, "INBOX")
	shared := g.blobID()
	msgs := make([]engine.NewMessage, 5)
	for i := range msgs {
		msgs[i] = g.message([]string{`\Deleted`}, shared)
	}
	appendMsgs(t, s, alice, box.ID, msgs...)
	before := status(t, s, alice, box.ID)

	removed, modseq, err := s.Expunge(c, alice, box.ID, set[uint32](2, 4, 9))
	must(t, err)
	if !slices.Equal(removed.ToArray(), []uint32{2, 4}) {
		t.Errorf("removed = %v, want [2 4]", removed.ToArray())
	}
	if modseq <= before.HighestModSeq {
		t.Errorf("expunge MODSEQ %d, not above %d", modseq, before.HighestModSeq)
	}
	if got := uidList(t, s, alice, box.ID); !slices.Equal(got, []uint32{1, 3, 5}) {
		t.Errorf("UIDs after Expunge = %v", got)
	}
	st := status(t, s, alice, box.ID)
	if st.Messages != 3 || st.Deleted != 3 || st.Size != before.Size-msgs[1].Size-msgs[3].Size || st.HighestModSeq != modseq {
		t.Errorf("Status after Expunge = %+v", st)
	}
	if q := quota(t, s, alice); q.Used != st.Size || q.Messages != 3 {
		t.Errorf("Quota after Expunge = %+v, want %d bytes", q, st.Size)
	}
	if refs := blobRefs(t, s, shared); refs[0] != 3 {
		t.Errorf("blob references %d, want 3", refs[0])
	}
	changes, err := s.Journal(c, alice, box.ID, before.HighestModSeq)
	must(t, err)
	if len(changes) != 2 || changes[0].Kind != engine.ChangeExpunge || changes[0].UID != 2 || changes[1].UID != 4 || changes[0].ModSeq != modseq {
		t.Errorf("journal after Expunge = %+v", changes)
	}
	removed, _, err = s.Expunge(c, alice, box.ID, set[uint32](2))
	must(t, err)
	if !removed.IsEmpty() {
		t.Errorf("second Expunge removed %v", removed.ToArray())
	}
	removed, _, err = s.Expunge(c, alice, box.ID, everything())
	must(t, err)
	if removed.GetCardinality() != 3 {
		t.Errorf("Expunge 1:* removed %v", removed.ToArray())
	}
	if refs := blobRefs(t, s, shared); refs[0] != 0 {
		t.Errorf("blob references %d after expunging everything", refs[0])
	}
	if q := quota(t, s, alice); q.Used != 0 || q.Messages != 0 {
		t.Errorf("Quota of an empty account = %+v", q)
	}
}

// sameContent compares what a copy or move must keep.
func sameContent(a, b engine.MessageMeta) error {
	if a.EmailID != b.EmailID || a.Size != b.Size || !a.InternalDate.Equal(b.InternalDate) ||
		!bytes.Equal(a.Envelope, b.Envelope) || !bytes.Equal(a.Structure, b.Structure) || !equalFlags(a.Flags, b.Flags) {
		return fmt.Errorf("copy %+v differs from source %+v", b, a)
	}
	return nil
}

func testCopy(t *testing.T, s engine.MetaStore) {
	c := ctx(t)
	g := newGen(t)
	alice := newUser(t, s, "alice")
	src := newMailbox(t, s, alice, "INBOX")
	dst := newMailbox(t, s, alice, "Archive")
	blob := g.blobID()
	m := []engine.NewMessage{g.message([]string{`\Seen`, "$Keep"}, blob), g.message(nil, blob), g.message([]string{`\Flagged`})}
	m[2].BodyText = "the copy keeps its searchable text: Zebrafish"
	appendMsgs(t, s, alice, src.ID, m...)
	appendMsgs(t, s, alice, dst.ID, g.messages(2)...) // dst UIDs 1, 2
	srcBefore, dstBefore := status(t, s, alice, src.ID), status(t, s, alice, dst.ID)
	q0 := quota(t, s, alice)

	res, err := s.Copy(c, alice, src.ID, dst.ID, set[uint32](3, 1, 7))
	must(t, err)
	if res.UIDValidity != dst.UIDValidity || !slices.Equal(res.Source, []engine.UID{1, 3}) || !slices.Equal(res.Target, []engine.UID{3, 4}) {
		t.Errorf("CopyResult = %+v", res)
	}
	for i := range res.Source {
		if err := sameContent(metaByUID(t, s, alice, src.ID, res.Source[i]), metaByUID(t, s, alice, dst.ID, res.Target[i])); err != nil {
			t.Error(err)
		}
		a, err := s.Inline(c, alice, src.ID, res.Source[i])
		must(t, err)
		b, err := s.Inline(c, alice, dst.ID, res.Target[i])
		must(t, err)
		if !bytes.Equal(a, b) {
			t.Errorf("copied inline differs")
		}
	}
	if refs := blobRefs(t, s, blob); refs[0] != 3 {
		t.Errorf("blob references after Copy %d, want 3", refs[0])
	}
	if q := quota(t, s, alice); q.Used != q0.Used+m[0].Size+m[2].Size || q.Messages != q0.Messages+2 {
		t.Errorf("Quota after Copy = %+v (before %+v)", q, q0)
	}
	if st := status(t, s, alice, src.ID); st != srcBefore {
		t.Errorf("Copy changed the source: %+v → %+v", srcBefore, st)
	}
	dstAfter := status(t, s, alice, dst.ID)
	if dstAfter.Messages != 4 || dstAfter.UIDNext != 5 || dstAfter.Unseen != dstBefore.Unseen+1 || dstAfter.HighestModSeq <= dstBefore.HighestModSeq {
		t.Errorf("target Status after Copy = %+v (before %+v)", dstAfter, dstBefore)
	}
	changes, err := s.Journal(c, alice, dst.ID, dstBefore.HighestModSeq)
	must(t, err)
	if len(changes) != 2 || changes[0].Kind != engine.ChangeAppend || changes[0].UID != 3 || !equalFlags(changes[0].Flags, []string{"$Keep", `\Seen`}) {
		t.Errorf("target journal after Copy = %+v", changes)
	}
	found, err := s.Search(c, alice, dst.ID, &engine.SearchQuery{Op: engine.SearchBody, Value: "zebrafish"})
	must(t, err)
	if !slices.Equal(found.ToArray(), []uint32{4}) {
		t.Errorf("search in the copy = %v, want [4]", found.ToArray())
	}

	// Into the same mailbox.
	res, err = s.Copy(c, alice, src.ID, src.ID, rangeSet(1, 3))
	must(t, err)
	if !slices.Equal(res.Target, []engine.UID{4, 5, 6}) {
		t.Errorf("Copy into the source = %+v", res)
	}
	// Nothing to copy.
	res, err = s.Copy(c, alice, src.ID, dst.ID, set[uint32](99))
	if err != nil || len(res.Source) != 0 || res.UIDValidity != dst.UIDValidity {
		t.Errorf("Copy of nothing = %+v, %v", res, err)
	}
	// Over quota: all or nothing.
	used := quota(t, s, alice).Used
	refsBefore := blobRefs(t, s, blob)[0]
	must(t, s.SetQuotaLimit(c, alice, used+m[0].Size))
	before := status(t, s, alice, dst.ID)
	_, err = s.Copy(c, alice, src.ID, dst.ID, rangeSet(1, 3))
	mustIs(t, err, engine.ErrOverQuota, "Copy over quota")
	if st := status(t, s, alice, dst.ID); st != before {
		t.Errorf("failed Copy changed the target: %+v → %+v", before, st)
	}
	if q := quota(t, s, alice); q.Used != used {
		t.Errorf("failed Copy changed quota to %d", q.Used)
	}
	if refs := blobRefs(t, s, blob); refs[0] != refsBefore {
		t.Errorf("failed Copy changed blob references from %d to %d", refsBefore, refs[0])
	}
	_, err = s.Copy(c, alice, src.ID, dst.ID+1000, rangeSet(1, 3))
	mustIs(t, err, engine.ErrNotFound, "Copy to a missing mailbox")
}

func testMove(t *testing.T, s engine.MetaStore) {
	c := ctx(t)
	g := newGen(t)
	alice := newUser(t, s, "alice")
	src := newMailbox(t, s, alice, "INBOX")
	dst := newMailbox(t, s, alice, "Trash")
	blob := g.blobID()
	m := []engine.NewMessage{g.message([]string{`\Seen`}, blob), g.message([]string{"$Junk"}, blob), g.message(nil)}
	m[1].HeaderText = "subject: Moving Day\n"
	appendMsgs(t, s, alice, src.ID, m...)
	appendMsgs(t, s, alice, dst.ID, g.messages(1)...)
	orig := metas(t, s, alice, src.ID, nil)
	srcBefore, dstBefore := status(t, s, alice, src.ID), status(t, s, alice, dst.ID)
	q0 := quota(t, s, alice)

	res, err := s.Move(c, alice, src.ID, dst.ID, set[uint32](1, 2, 8))
	must(t, err)
	if res.UIDValidity != dst.UIDValidity || !slices.Equal(res.Source, []engine.UID{1, 2}) || !slices.Equal(res.Target, []engine.UID{2, 3}) {
		t.Errorf("MoveResult = %+v", res)
	}
	if got := uidList(t, s, alice, src.ID); !slices.Equal(got, []uint32{3}) {
		t.Errorf("source UIDs after Move = %v", got)
	}
	for i := range res.Source {
		if err := sameContent(orig[i], metaByUID(t, s, alice, dst.ID, res.Target[i])); err != nil {
			t.Error(err)
		}
	}
	if refs := blobRefs(t, s, blob); refs[0] != 2 {
		t.Errorf("blob references after Move %d, want 2", refs[0])
	}
	if q := quota(t, s, alice); q != q0 {
		t.Errorf("Move changed quota %+v → %+v", q0, q)
	}
	srcAfter, dstAfter := status(t, s, alice, src.ID), status(t, s, alice, dst.ID)
	if srcAfter.Messages != 1 || srcAfter.Size != m[2].Size || srcAfter.Unseen != 1 || srcAfter.HighestModSeq <= srcBefore.HighestModSeq {
		t.Errorf("source Status after Move = %+v", srcAfter)
	}
	if dstAfter.Messages != 3 || dstAfter.Size != dstBefore.Size+m[0].Size+m[1].Size || dstAfter.Unseen != dstBefore.Unseen+1 || dstAfter.UIDNext != 4 {
		t.Errorf("target Status after Move = %+v", dstAfter)
	}
	changes, err := s.Journal(c, alice, src.ID, srcBefore.HighestModSeq)
	must(t, err)
	if len(changes) != 2 || changes[0].Kind != engine.ChangeExpunge || changes[0].UID != 1 || changes[1].UID != 2 || changes[0].ModSeq != srcAfter.HighestModSeq {
		t.Errorf("source journal after Move = %+v", changes)
	}
	changes, err = s.Journal(c, alice, dst.ID, dstBefore.HighestModSeq)
	must(t, err)
	if len(changes) != 2 || changes[0].Kind != engine.ChangeAppend || changes[1].UID != 3 || !equalFlags(changes[1].Flags, []string{"$Junk"}) {
		t.Errorf("target journal after Move = %+v", changes)
	}
	found, err := s.Search(c, alice, dst.ID, &engine.SearchQuery{Op: engine.SearchHeader, Field: "subject", Value: "moving"})
	must(t, err)
	if !slices.Equal(found.ToArray(), []uint32{3}) {
		t.Errorf("search after Move = %v, want [3]", found.ToArray())
	}
	found, err = s.Search(c, alice, src.ID, &engine.SearchQuery{Op: engine.SearchHeader, Field: "subject", Value: "moving"})
	must(t, err)
	if !found.IsEmpty() {
		t.Errorf("moved message still found in the source: %v", found.ToArray())
	}

	// Within one mailbox: new UIDs, same count.
	res, err = s.Move(c, alice, dst.ID, dst.ID, set[uint32](1))
	must(t, err)
	if !slices.Equal(res.Target, []engine.UID{4}) {
		t.Errorf("Move within a mailbox = %+v", res)
	}
	if got := uidList(t, s, alice, dst.ID); !slices.Equal(got, []uint32{2, 3, 4}) {
		t.Errorf("UIDs after Move within = %v", got)
	}
	if st := status(t, s, alice, dst.ID); st.Messages != 3 || st.Size != dstAfter.Size {
		t.Errorf("Status after Move within = %+v", st)
	}
	// Moving is allowed at the quota limit: it adds nothing.
	must(t, s.SetQuotaLimit(c, alice, quota(t, s, alice).Used))
	_, err = s.Move(c, alice, dst.ID, src.ID, everything())
	must(t, err)
}
