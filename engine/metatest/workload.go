package metatest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"pgregory.net/rapid"

	"github.com/eidermail/eider/engine"
)

// model is what the suite believes one user's account holds; a workload
// of random operations runs against the store and the model side by side.
type model struct {
	ctx   context.Context
	t     *rapid.T
	s     engine.MetaStore
	user  engine.UserID
	boxes map[engine.MailboxID]map[engine.UID]modelMsg
	names int             // mailboxes created, for fresh names
	pool  []engine.BlobID // blobs this workload references, unique to it
	refs  map[engine.BlobID]int64
	limit int64
}

type modelMsg struct {
	size  int64
	seen  bool
	del   bool
	blobs []engine.BlobID
}

func (m *model) fatalf(format string, args ...any) {
	m.t.Helper()
	m.t.Fatalf(format, args...)
}

func (m *model) check(err error, what string) {
	m.t.Helper()
	if err != nil {
		m.fatalf("%s: %v", what, err)
	}
}

// newModel creates the n-th user of a workload; n keeps names and blob
// pools apart between rapid's runs on one store.
func newModel(ctx context.Context, t *rapid.T, s engine.MetaStore, n int) *model {
	user, err := s.CreateUser(ctx, engine.User{Name: fmt.Sprintf("workload%d", n), PasswordHash: "x"})
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	m := &model{ctx: ctx, t: t, s: s, user: user, boxes: map[engine.MailboxID]map[engine.UID]modelMsg{}, refs: map[engine.BlobID]int64{}}
	for i := 0; i < 4; i++ {
		var id engine.BlobID
		copy(id[:], fmt.Sprintf("workload %d blob %d", n, i))
		m.pool = append(m.pool, id)
	}
	m.createMailbox()
	m.createMailbox()
	return m
}

func (m *model) createMailbox() {
	m.names++
	mb, err := m.s.CreateMailbox(m.ctx, m.user, fmt.Sprintf("box%d", m.names), "")
	m.check(err, "CreateMailbox")
	m.boxes[mb.ID] = map[engine.UID]modelMsg{}
}

func (m *model) mailboxIDs() []engine.MailboxID {
	ids := make([]engine.MailboxID, 0, len(m.boxes))
	for id := range m.boxes {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func (m *model) pickBox(label string) engine.MailboxID {
	return rapid.SampledFrom(m.mailboxIDs()).Draw(m.t, label)
}

// pickUIDs draws a subset of a mailbox's UIDs, sometimes with UIDs that do
// not exist.
func (m *model) pickUIDs(box engine.MailboxID, label string) *roaring.Bitmap {
	b := roaring.New()
	for uid := range m.boxes[box] {
		if rapid.Bool().Draw(m.t, label) {
			b.Add(uint32(uid))
		}
	}
	if rapid.IntRange(0, 3).Draw(m.t, label+" extra") == 0 {
		b.Add(uint32(rapid.IntRange(1, 200).Draw(m.t, label+" missing")))
	}
	return b
}

func (m *model) used() int64 {
	var n int64
	for _, msgs := range m.boxes {
		for _, msg := range msgs {
			n += msg.size
		}
	}
	return n
}

func (m *model) count() int64 {
	var n int64
	for _, msgs := range m.boxes {
		n += int64(len(msgs))
	}
	return n
}

func (m *model) ref(blobs []engine.BlobID, delta int64) {
	for _, b := range blobs {
		m.refs[b] += delta
	}
}

// overQuota says whether adding bytes must fail, and checks that it did.
func (m *model) overQuota(bytes int64, err error, what string) bool {
	m.t.Helper()
	over := m.limit > 0 && m.used()+bytes > m.limit
	if over {
		if !errors.Is(err, engine.ErrOverQuota) {
			m.fatalf("%s over quota (%d+%d > %d): got %v", what, m.used(), bytes, m.limit, err)
		}
		return true
	}
	m.check(err, what)
	return false
}

func (m *model) opAppend() {
	box := m.pickBox("append to")
	n := rapid.IntRange(0, 4).Draw(m.t, "messages")
	msgs := make([]engine.NewMessage, n)
	mm := make([]modelMsg, n)
	var bytes int64
	for i := range msgs {
		var blobs []engine.BlobID
		for _, b := range m.pool {
			if rapid.IntRange(0, 2).Draw(m.t, "uses blob") == 0 {
				blobs = append(blobs, b)
			}
		}
		var flags []string
		seen, del := rapid.Bool().Draw(m.t, "seen"), rapid.Bool().Draw(m.t, "deleted")
		if seen {
			flags = append(flags, engine.FlagSeen)
		}
		if del {
			flags = append(flags, engine.FlagDeleted)
		}
		size := int64(rapid.IntRange(0, 10000).Draw(m.t, "size"))
		msgs[i] = engine.NewMessage{EmailID: engine.EmailID(i + 1), Flags: flags, Size: size, Blobs: blobs,
			Envelope: []byte("e"), Structure: []byte("s"), HeaderText: "subject: workload\n"}
		mm[i] = modelMsg{size: size, seen: seen, del: del, blobs: blobs}
		bytes += size
	}
	_, uids, err := m.s.Append(m.ctx, m.user, box, msgs)
	if m.overQuota(bytes, err, "Append") {
		return
	}
	if len(uids) != n {
		m.fatalf("Append of %d returned %d UIDs", n, len(uids))
	}
	for i, uid := range uids {
		if _, dup := m.boxes[box][uid]; dup {
			m.fatalf("Append reused UID %d", uid)
		}
		m.boxes[box][uid] = mm[i]
		m.ref(mm[i].blobs, 1)
	}
}

func (m *model) opCopy() {
	src, dst := m.pickBox("copy from"), m.pickBox("copy to")
	uids := m.pickUIDs(src, "copy")
	var bytes int64
	for uid, msg := range m.boxes[src] {
		if uids.Contains(uint32(uid)) {
			bytes += msg.size
		}
	}
	res, err := m.s.Copy(m.ctx, m.user, src, dst, uids)
	if m.overQuota(bytes, err, "Copy") {
		return
	}
	m.checkPairs(src, uids, res)
	for i, uid := range res.Source {
		msg := m.boxes[src][uid]
		m.boxes[dst][res.Target[i]] = msg
		m.ref(msg.blobs, 1)
	}
}

func (m *model) checkPairs(src engine.MailboxID, uids *roaring.Bitmap, res engine.CopyResult) {
	m.t.Helper()
	var want []engine.UID
	for uid := range m.boxes[src] {
		if uids.Contains(uint32(uid)) {
			want = append(want, uid)
		}
	}
	slices.Sort(want)
	if !slices.Equal(res.Source, want) || len(res.Target) != len(want) {
		m.fatalf("CopyResult %+v, want sources %v", res, want)
	}
}

func (m *model) opMove() {
	src, dst := m.pickBox("move from"), m.pickBox("move to")
	uids := m.pickUIDs(src, "move")
	res, err := m.s.Move(m.ctx, m.user, src, dst, uids)
	m.check(err, "Move")
	m.checkPairs(src, uids, res)
	moved := make([]modelMsg, len(res.Source))
	for i, uid := range res.Source {
		moved[i] = m.boxes[src][uid]
		delete(m.boxes[src], uid)
	}
	for i, uid := range res.Target {
		m.boxes[dst][uid] = moved[i]
	}
}

func (m *model) opExpunge() {
	box := m.pickBox("expunge in")
	uids := m.pickUIDs(box, "expunge")
	removed, _, err := m.s.Expunge(m.ctx, m.user, box, uids)
	m.check(err, "Expunge")
	want := roaring.New()
	for uid, msg := range m.boxes[box] {
		if uids.Contains(uint32(uid)) {
			want.Add(uint32(uid))
			m.ref(msg.blobs, -1)
			delete(m.boxes[box], uid)
		}
	}
	if !removed.Equals(want) {
		m.fatalf("Expunge removed %v, want %v", removed.ToArray(), want.ToArray())
	}
}

func (m *model) opFlags() {
	box := m.pickBox("store in")
	uids := m.pickUIDs(box, "store")
	op := rapid.SampledFrom([]engine.FlagOp{engine.FlagsAdd, engine.FlagsRemove, engine.FlagsReplace}).Draw(m.t, "op")
	flags := subset(m.t, "flags", []string{engine.FlagSeen, engine.FlagDeleted, "$Later"})
	_, _, err := m.s.StoreFlags(m.ctx, m.user, box, uids, op, flags, 0)
	m.check(err, "StoreFlags")
	has := func(f string) bool { return slices.Contains(flags, f) }
	for uid, msg := range m.boxes[box] {
		if !uids.Contains(uint32(uid)) {
			continue
		}
		switch op {
		case engine.FlagsAdd:
			msg.seen = msg.seen || has(engine.FlagSeen)
			msg.del = msg.del || has(engine.FlagDeleted)
		case engine.FlagsRemove:
			msg.seen = msg.seen && !has(engine.FlagSeen)
			msg.del = msg.del && !has(engine.FlagDeleted)
		case engine.FlagsReplace:
			msg.seen, msg.del = has(engine.FlagSeen), has(engine.FlagDeleted)
		}
		m.boxes[box][uid] = msg
	}
}

func (m *model) opDeleteMailbox() {
	if len(m.boxes) < 2 {
		return
	}
	box := m.pickBox("delete")
	m.check(m.s.DeleteMailbox(m.ctx, m.user, box), "DeleteMailbox")
	for _, msg := range m.boxes[box] {
		m.ref(msg.blobs, -1)
	}
	delete(m.boxes, box)
}

func (m *model) opSetLimit() {
	used := m.used()
	m.limit = rapid.SampledFrom([]int64{0, used, used + 5000, used + 20000}).Draw(m.t, "limit")
	m.check(m.s.SetQuotaLimit(m.ctx, m.user, m.limit), "SetQuotaLimit")
}

// step runs one random operation.
func (m *model) step() {
	ops := []func(){m.opAppend, m.opAppend, m.opAppend, m.opCopy, m.opMove, m.opExpunge, m.opFlags, m.opDeleteMailbox, m.createMailbox, m.opSetLimit}
	ops[rapid.IntRange(0, len(ops)-1).Draw(m.t, "op")]()
}

// uids returns the mailbox's UIDs as the store reports them, checked
// against the model.
func (m *model) uids(box engine.MailboxID) *roaring.Bitmap {
	m.t.Helper()
	b, _, err := m.s.UIDs(m.ctx, m.user, box)
	m.check(err, "UIDs")
	if b.GetCardinality() != uint64(len(m.boxes[box])) {
		m.fatalf("mailbox %d has UIDs %v, model %d messages", box, b.ToArray(), len(m.boxes[box]))
	}
	for uid := range m.boxes[box] {
		if !b.Contains(uint32(uid)) {
			m.fatalf("mailbox %d lacks UID %d", box, uid)
		}
	}
	return b
}

// checkQuota compares Quota with the model and with the rows themselves.
func (m *model) checkQuota() {
	m.t.Helper()
	q, err := m.s.Quota(m.ctx, m.user)
	m.check(err, "Quota")
	if q.Used != m.used() || q.Messages != m.count() || q.Limit != m.limit {
		m.fatalf("Quota = %+v, model has %d bytes in %d messages, limit %d", q, m.used(), m.count(), m.limit)
	}
	var rows int64
	for _, box := range m.mailboxIDs() {
		err := m.s.Messages(m.ctx, m.user, box, m.uids(box), func(meta *engine.MessageMeta) error {
			rows += meta.Size
			return nil
		})
		m.check(err, "Messages")
	}
	if rows != q.Used {
		m.fatalf("Quota.Used %d, message sizes sum to %d", q.Used, rows)
	}
}

// checkRefs compares BlobRefs with the model.
func (m *model) checkRefs() {
	m.t.Helper()
	got, err := m.s.BlobRefs(m.ctx, m.pool)
	m.check(err, "BlobRefs")
	for i, id := range m.pool {
		if got[i] < 0 || got[i] != m.refs[id] {
			m.fatalf("blob %d has %d references, model %d", i, got[i], m.refs[id])
		}
	}
	// ReferencedBlobs lists exactly the blobs with references, with their counts.
	listed := map[engine.BlobID]int64{}
	err = m.s.ReferencedBlobs(m.ctx, func(id engine.BlobID, refs int64) error {
		listed[id] = refs
		return nil
	})
	m.check(err, "ReferencedBlobs")
	for _, id := range m.pool {
		if want := m.refs[id]; listed[id] != want {
			m.fatalf("ReferencedBlobs lists %d references for a blob with %d", listed[id], want)
		}
	}
	for id, n := range listed {
		if n <= 0 || m.refs[id] != n {
			m.fatalf("ReferencedBlobs lists a blob with %d references, model %d", n, m.refs[id])
		}
	}
}

// checkStatus compares every mailbox's STATUS counters with its rows.
func (m *model) checkStatus() {
	m.t.Helper()
	for _, box := range m.mailboxIDs() {
		st, err := m.s.Status(m.ctx, m.user, box)
		m.check(err, "Status")
		var want engine.MailboxStatus
		var maxUID engine.UID
		var maxModSeq engine.ModSeq
		err = m.s.Messages(m.ctx, m.user, box, m.uids(box), func(meta *engine.MessageMeta) error {
			want.Messages++
			want.Size += meta.Size
			if !slices.Contains(meta.Flags, engine.FlagSeen) {
				want.Unseen++
			}
			if slices.Contains(meta.Flags, engine.FlagDeleted) {
				want.Deleted++
			}
			maxUID = max(maxUID, meta.UID)
			maxModSeq = max(maxModSeq, meta.ModSeq)
			return nil
		})
		m.check(err, "Messages")
		if st.Messages != want.Messages || st.Unseen != want.Unseen || st.Deleted != want.Deleted || st.Size != want.Size {
			m.fatalf("Status of %d = messages %d unseen %d deleted %d size %d; rows say %d %d %d %d",
				box, st.Messages, st.Unseen, st.Deleted, st.Size, want.Messages, want.Unseen, want.Deleted, want.Size)
		}
		if st.Messages != int64(len(m.boxes[box])) {
			m.fatalf("Status of %d counts %d messages, model %d", box, st.Messages, len(m.boxes[box]))
		}
		if st.UIDNext <= maxUID || st.HighestModSeq < maxModSeq || st.HighestModSeq == 0 {
			m.fatalf("Status of %d: UIDNext %d, HighestModSeq %d; highest UID %d, MODSEQ %d", box, st.UIDNext, st.HighestModSeq, maxUID, maxModSeq)
		}
	}
}

// finish deletes the user and checks every reference is gone.
func (m *model) finish() {
	m.t.Helper()
	m.check(m.s.DeleteUser(m.ctx, m.user), "DeleteUser")
	got, err := m.s.BlobRefs(m.ctx, m.pool)
	m.check(err, "BlobRefs")
	for i, n := range got {
		if n != 0 {
			m.fatalf("blob %d keeps %d references after DeleteUser", i, n)
		}
	}
}

// workload runs random operations, checking after each one.
func workload(t *testing.T, s engine.MetaStore, checks ...func(*model)) {
	c := t.Context()
	runs := 0
	rapid.Check(t, func(rt *rapid.T) {
		runs++
		m := newModel(c, rt, s, runs)
		steps := rapid.IntRange(1, 20).Draw(rt, "steps")
		for i := 0; i < steps; i++ {
			m.step()
			for _, check := range checks {
				check(m)
			}
		}
		m.finish()
	})
}

func testQuota(t *testing.T, s engine.MetaStore) {
	workload(t, s, (*model).checkQuota)
}

func testBlobRefs(t *testing.T, s engine.MetaStore) {
	workload(t, s, (*model).checkRefs)
}

func testStatus(t *testing.T, s engine.MetaStore) {
	workload(t, s, (*model).checkStatus)
}

// testRecount checks that the recounts find nothing to repair after any
// sequence of operations (drift cannot be made through the interface; each
// backend tests repair by damaging its own storage).
func testRecount(t *testing.T, s engine.MetaStore) {
	workload(t, s, func(m *model) {
		blobs, err := m.s.RecountBlobRefs(m.ctx, false)
		m.check(err, "RecountBlobRefs")
		quota, err := m.s.RecountQuota(m.ctx, false)
		m.check(err, "RecountQuota")
		if len(blobs) != 0 || len(quota) != 0 {
			m.fatalf("drift after ordinary operations: blobs %+v, quota %+v", blobs, quota)
		}
	})
	// Repair on a consistent store reports and changes nothing.
	blobs, err := s.RecountBlobRefs(t.Context(), true)
	must(t, err)
	quota, err := s.RecountQuota(t.Context(), true)
	must(t, err)
	if len(blobs) != 0 || len(quota) != 0 {
		t.Errorf("repair found drift: %+v, %+v", blobs, quota)
	}
}

// subset draws some of items, in order.
func subset(t *rapid.T, label string, items []string) []string {
	var out []string
	for _, it := range items {
		if rapid.Bool().Draw(t, label+" "+it) {
			out = append(out, it)
		}
	}
	return out
}
