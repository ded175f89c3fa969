package mongo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/eidermail/eider/engine"
)

// messageDoc is a document of messages. Pending holds the op that is
// adding it (readers skip it until the op commits); Claim the op that is
// removing it (expunge, move).
type messageDoc struct {
	ID          bson.ObjectID `bson:"_id,omitempty"`
	Mailbox     int64         `bson:"mailbox"`
	UID         int64         `bson:"uid"`
	User        int64         `bson:"user"`
	ModSeq      int64         `bson:"modseq"`
	EmailID     int64         `bson:"email_id"`
	Flags       int32         `bson:"f"`
	Keywords    []string      `bson:"kw"`
	KeywordKeys []string      `bson:"kwf"`
	Internal    int64         `bson:"idate"` // unix nanoseconds
	Zone        int32         `bson:"zone"`  // its UTC offset in seconds
	Sent        *int64        `bson:"sdate,omitempty"`
	Size        int64         `bson:"size"`
	Text        int64         `bson:"text"` // texts._id, 0 when none
	Blobs       [][]byte      `bson:"blobs"`
	Envelope    []byte        `bson:"env"`
	Structure   []byte        `bson:"st"`
	Inline      []byte        `bson:"il,omitempty"`
	Pending     string        `bson:"pending,omitempty"`
	Claim       string        `bson:"claim,omitempty"`
}

var committedOnly = bson.E{Key: "pending", Value: d("$exists", false)}

func (m *messageDoc) flagSet() engine.FlagSet { return storedFlags(m.Flags, m.Keywords) }

func (m *messageDoc) meta() *engine.MessageMeta {
	return &engine.MessageMeta{UID: engine.UID(m.UID), ModSeq: engine.ModSeq(m.ModSeq), EmailID: engine.EmailID(m.EmailID),
		Flags: m.flagSet().List(), InternalDate: storedTime(m.Internal, m.Zone, true), Size: m.Size,
		Envelope: nonNil(m.Envelope), Structure: nonNil(m.Structure)}
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

func unixNano(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return math.MinInt64
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

func storedTime(n int64, zone int32, valid bool) time.Time {
	if !valid {
		return time.Time{}
	}
	t := time.Unix(0, n)
	if zone == 0 {
		return t.UTC()
	}
	return t.In(time.FixedZone("", int(zone)))
}

func zoneOffset(t time.Time) int32 {
	_, off := t.Zone()
	return int32(off)
}

// blobSet returns the distinct blob ids of a message.
func blobSet(ids []engine.BlobID) [][]byte {
	out := make([][]byte, 0, len(ids))
	seen := map[engine.BlobID]bool{}
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, append([]byte(nil), id[:]...))
		}
	}
	return out
}

// blobTally sums reference changes per blob.
type blobTally map[engine.BlobID]int64

func (t blobTally) add(ids [][]byte, n int64) {
	for _, id := range ids {
		if len(id) == len(engine.BlobID{}) {
			t[engine.BlobID(id)] += n
		}
	}
}

func (t blobTally) deltas() []blobDelta {
	out := make([]blobDelta, 0, len(t))
	for id, n := range t {
		if n != 0 {
			out = append(out, blobDelta{ID: append([]byte(nil), id[:]...), N: n})
		}
	}
	return out
}

type textTally map[int64]int64

func (t textTally) deltas() []textDelta {
	out := make([]textDelta, 0, len(t))
	for id, n := range t {
		if id != 0 && n != 0 {
			out = append(out, textDelta{ID: id, N: n})
		}
	}
	return out
}

// textDoc is a document of texts: one message's folded search text,
// shared by its copies.
type textDoc struct {
	ID   int64    `bson:"_id"`
	User int64    `bson:"user"`
	Refs int64    `bson:"refs"`
	Data []byte   `bson:"data"`
	Tri  []int32  `bson:"tri,omitempty"`
	Big  bool     `bson:"big,omitempty"`
	Ops  []string `bson:"ops"`
}

// Append commits msgs. The op document comes first; then the quota charge
// (conditional on the limit), the blob references and the new texts, each
// marked with the op; then the one mailbox write that allocates the UID
// range and MODSEQ; then the message documents, still pending, and their
// journal entries. The commit is one write on the op document; after it
// the messages are made visible and the markers cleared.
func (s *Store) Append(ctx context.Context, user engine.UserID, mailbox engine.MailboxID, msgs []engine.NewMessage) (uint32, []engine.UID, error) {
	mb, err := s.loadMailbox(ctx, user, mailbox)
	if err != nil {
		return 0, nil, wrap("append", err)
	}
	if len(msgs) == 0 {
		return uint32(mb.UIDValidity), nil, nil
	}
	ctx, cancel := s.opContext(ctx)
	defer cancel()
	op := newOp(opAppend, int64(user), s.opt.Now())
	op.Dst = int64(mailbox)
	docs, texts, err := s.prepare(ctx, op, user, msgs)
	if err != nil {
		return 0, nil, wrap("append", err)
	}
	first, err := s.add(ctx, op, docs, texts, 0)
	if err != nil {
		return 0, nil, wrap("append", err)
	}
	uids := make([]engine.UID, len(msgs))
	for i := range uids {
		uids[i] = engine.UID(first + int64(i))
	}
	return uint32(mb.UIDValidity), uids, nil
}

// prepare turns new messages into documents (without mailbox, UID and
// MODSEQ) and texts, and fills op's quota and reference changes.
func (s *Store) prepare(ctx context.Context, op *opDoc, user engine.UserID, msgs []engine.NewMessage) ([]messageDoc, []textDoc, error) {
	docs := make([]messageDoc, len(msgs))
	var texts []textDoc
	blobs := blobTally{}
	for i, m := range msgs {
		if m.Size < 0 {
			return nil, nil, fmt.Errorf("negative size: %w", engine.ErrInvalidName)
		}
		f, err := engine.ParseFlags(m.Flags)
		if err != nil {
			return nil, nil, err
		}
		doc := messageDoc{User: int64(user), EmailID: int64(m.EmailID), Flags: int32(f.System), Keywords: nonNilStrings(f.Keywords), KeywordKeys: keywordKeys(f.Keywords),
			Internal: unixNano(m.InternalDate), Zone: zoneOffset(m.InternalDate), Size: m.Size, Blobs: blobSet(m.Blobs),
			Envelope: nonNil(m.Envelope), Structure: nonNil(m.Structure), Inline: m.Inline}
		if !m.SentDate.IsZero() {
			n := unixNano(m.SentDate)
			doc.Sent = &n
		}
		if header, body := engine.FoldText(m.HeaderText), engine.FoldText(m.BodyText); header != "" || body != "" {
			tri, big := textTrigrams(header, body)
			texts = append(texts, textDoc{User: int64(user), Refs: 1, Data: s.text.pack(header, body), Tri: tri, Big: big, Ops: []string{op.ID}})
			doc.Text = -int64(len(texts)) // numbered below
		}
		blobs.add(doc.Blobs, 1)
		op.Bytes += m.Size
		op.Count++
		docs[i] = doc
	}
	if len(texts) > 0 {
		id, err := s.nextIDs(ctx, "texts", int64(len(texts)))
		if err != nil {
			return nil, nil, err
		}
		for i := range texts {
			texts[i].ID = id + int64(i)
			op.NewTexts = append(op.NewTexts, texts[i].ID)
		}
		for i := range docs {
			if docs[i].Text < 0 {
				docs[i].Text = id + (-docs[i].Text - 1)
			}
		}
	}
	op.Blobs = blobs.deltas()
	return docs, texts, nil
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// add runs an op that adds docs to op.Dst (append, copy, load). With
// keepUIDs the docs carry their own UIDs and MODSEQs. It returns the first
// UID.
func (s *Store) add(ctx context.Context, op *opDoc, docs []messageDoc, texts []textDoc, keepUIDs int) (int64, error) {
	var delta counts
	var keywords []string
	for i := range docs {
		delta.add(1, docs[i].Size, docs[i].Flags)
		keywords = append(keywords, docs[i].Keywords...)
	}
	if err := s.insertOp(ctx, op); err != nil {
		return 0, err
	}
	first, err := s.addSteps(ctx, op, docs, texts, delta, keywords, keepUIDs > 0)
	if err != nil {
		if isCrash(err) {
			return 0, err
		}
		if op.State == statePrepared {
			if aerr := s.abortAdd(context.WithoutCancel(ctx), op); aerr != nil {
				s.opt.Logger.Error("mongo: roll back failed; recovery will retry", "op", op.ID, "err", aerr)
			}
		}
		return 0, err
	}
	return first, nil
}

func (s *Store) addSteps(ctx context.Context, op *opDoc, docs []messageDoc, texts []textDoc, delta counts, keywords []string, keep bool) (int64, error) {
	kind := op.Kind
	if err := s.stepErr(kind + ":op"); err != nil {
		return 0, err
	}
	if err := s.chargeQuota(ctx, op, op.Kind != opLoad); err != nil {
		return 0, err
	}
	if err := s.stepErr(kind + ":quota"); err != nil {
		return 0, err
	}
	if err := s.applyRefs(ctx, s.blobRefs, op, op.blobChanges(1), true); err != nil {
		return 0, err
	}
	if err := s.applyRefs(ctx, s.texts, op, op.textChanges(1), false); err != nil {
		return 0, err
	}
	if len(texts) > 0 {
		tdocs := make([]any, len(texts))
		for i := range texts {
			tdocs[i] = &texts[i]
		}
		if _, err := s.texts.InsertMany(ctx, tdocs, options.InsertMany().SetOrdered(false)); onlyDups(err) != nil {
			return 0, err
		}
	}
	if err := s.stepErr(kind + ":refs"); err != nil {
		return 0, err
	}
	mb, err := s.loadMailbox(ctx, engine.UserID(op.User), engine.MailboxID(op.Dst))
	if err != nil {
		return 0, err
	}
	if err := s.recordKeywords(ctx, mb, keywords); err != nil {
		return 0, err
	}
	a, err := s.allocate(ctx, engine.UserID(op.User), engine.MailboxID(op.Dst), op.ID, int64(len(docs)), delta, keep, false)
	if err != nil {
		return 0, err
	}
	if err := s.stepErr(kind + ":allocated"); err != nil {
		return 0, err
	}
	if keep {
		a.first = docs[0].UID
	}
	ins := make([]any, len(docs))
	entries := make([]journalEntry, 0, len(docs))
	now := s.opt.Now()
	for i := range docs {
		m := &docs[i]
		m.ID, m.Mailbox, m.Pending, m.Claim = bson.ObjectID{}, op.Dst, op.ID, ""
		if !keep {
			m.UID, m.ModSeq = a.first+int64(i), a.modseq
		}
		ins[i] = m
		if op.Journal {
			entries = append(entries, journalEntry{Mailbox: op.Dst, ModSeq: m.ModSeq, UID: m.UID, Kind: int32(engine.ChangeAppend), Flags: m.flagSet().List(), At: now})
		}
	}
	for start := 0; start < len(ins); start += insertBatch {
		if _, err := s.messages.InsertMany(ctx, ins[start:min(start+insertBatch, len(ins))], options.InsertMany().SetOrdered(false)); onlyDups(err) != nil {
			return 0, err
		}
	}
	if err := s.stepErr(kind + ":messages"); err != nil {
		return 0, err
	}
	if err := s.writeJournal(ctx, entries); err != nil {
		return 0, err
	}
	if err := s.stepErr(kind + ":journal"); err != nil {
		return 0, err
	}
	if err := s.commit(ctx, op); err != nil {
		return 0, err
	}
	if err := s.stepErr(kind + ":committed"); err != nil {
		return 0, err
	}
	return a.first, s.finishAdd(ctx, op)
}

// insertBatch bounds one insertMany, well below the 16 MB message limit
// for messages with inline segments.
const insertBatch = 256

// stepErr is step as an error a crash test recognises.
func (s *Store) stepErr(name string) error {
	if err := s.step(name); err != nil {
		return crash{name}
	}
	return nil
}

// finishAdd rolls a committed append, load or copy forward.
func (s *Store) finishAdd(ctx context.Context, op *opDoc) error {
	if _, err := s.messages.UpdateMany(ctx, bson.D{{Key: "mailbox", Value: op.Dst}, {Key: "pending", Value: op.ID}}, d("$unset", d("pending", ""))); err != nil {
		return err
	}
	if err := s.stepErr(op.Kind + ":visible"); err != nil {
		return err
	}
	if err := s.release(ctx, op.Dst, op.ID, counts{}); err != nil {
		return err
	}
	if err := s.clearQuotaMarker(ctx, op); err != nil {
		return err
	}
	if err := s.clearMarkers(ctx, s.blobRefs, op.ID, op.blobChanges(1), false); err != nil {
		return err
	}
	newTexts := make([]refChange, len(op.NewTexts))
	for i, id := range op.NewTexts {
		newTexts[i] = refChange{id, 1}
	}
	if err := s.clearMarkers(ctx, s.texts, op.ID, append(op.textChanges(1), newTexts...), false); err != nil {
		return err
	}
	_, err := s.ops.DeleteOne(ctx, d("_id", op.ID))
	return err
}

// abortAdd rolls back an append, load or copy that did not commit.
func (s *Store) abortAdd(ctx context.Context, op *opDoc) error {
	if _, err := s.messages.DeleteMany(ctx, bson.D{{Key: "mailbox", Value: op.Dst}, {Key: "pending", Value: op.ID}}); err != nil {
		return err
	}
	if err := s.undoAllocation(ctx, op.Dst, op.ID); err != nil {
		return err
	}
	if len(op.NewTexts) > 0 {
		if _, err := s.texts.DeleteMany(ctx, d("_id", d("$in", op.NewTexts))); err != nil {
			return err
		}
	}
	if err := s.undoRefs(ctx, s.texts, op.ID, op.textChanges(1)); err != nil {
		return err
	}
	if err := s.undoRefs(ctx, s.blobRefs, op.ID, op.blobChanges(1)); err != nil {
		return err
	}
	if err := s.undoQuota(ctx, op); err != nil {
		return err
	}
	_, err := s.ops.DeleteOne(ctx, d("_id", op.ID))
	return err
}

// UIDs returns the mailbox's visible UIDs and highest MODSEQ.
func (s *Store) UIDs(ctx context.Context, user engine.UserID, mailbox engine.MailboxID) (*roaring.Bitmap, engine.ModSeq, error) {
	mb, err := s.loadMailbox(ctx, user, mailbox)
	if err != nil {
		return nil, 0, wrap("uids", err)
	}
	highest, limit := mb.visible()
	set := roaring.New()
	cur, err := s.messages.Find(ctx, bson.D{{Key: "mailbox", Value: mb.ID}, {Key: "uid", Value: d("$lt", limit)}, committedOnly},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 0}, {Key: "uid", Value: 1}}).SetSort(d("uid", 1)))
	if err != nil {
		return nil, 0, wrap("uids", err)
	}
	defer cur.Close(ctx)
	buf := make([]uint32, 0, 4096)
	for cur.Next(ctx) {
		v, ok := intField(cur.Current, "uid")
		if !ok {
			return nil, 0, wrap("uids", errors.New("message without a UID"))
		}
		if buf = append(buf, uint32(v)); len(buf) == cap(buf) {
			set.AddMany(buf)
			buf = buf[:0]
		}
	}
	set.AddMany(buf)
	if err := cur.Err(); err != nil {
		return nil, 0, wrap("uids", err)
	}
	return set, engine.ModSeq(highest), nil
}

// intField reads an integer field whatever width the server stored it in.
func intField(doc bson.Raw, key string) (int64, bool) {
	v := doc.Lookup(key)
	if n, ok := v.Int64OK(); ok {
		return n, true
	}
	if n, ok := v.Int32OK(); ok {
		return int64(n), true
	}
	return 0, false
}

// metaProjection is what Messages reads.
var metaProjection = bson.D{{Key: "il", Value: 0}, {Key: "blobs", Value: 0}, {Key: "kwf", Value: 0}}

// Messages streams the committed messages of uids in UID order.
func (s *Store) Messages(ctx context.Context, user engine.UserID, mailbox engine.MailboxID, uids *roaring.Bitmap, fn func(*engine.MessageMeta) error) error {
	mb, err := s.loadMailbox(ctx, user, mailbox)
	if err != nil {
		return wrap("messages", err)
	}
	err = s.scan(ctx, mb, uids, bson.D{committedOnly}, metaProjection, func(m *messageDoc) error { return fn(m.meta()) })
	return wrap("messages", err)
}

// scanGap is how many absent UIDs may lie inside one range query.
const scanGap = 64

// scan calls fn for the documents of mailbox whose UID is in uids (all
// when nil), in UID order, reading one range query per run of the set.
func (s *Store) scan(ctx context.Context, mb *mailboxDoc, uids *roaring.Bitmap, filter bson.D, projection bson.D, fn func(*messageDoc) error) error {
	last := uint32(min(mb.UIDNext-1, math.MaxUint32))
	var ranges [][2]uint32
	if uids == nil {
		if last > 0 {
			ranges = [][2]uint32{{1, last}}
		}
	} else {
		ranges = coverRanges(uids, last, scanGap)
	}
	for _, r := range ranges {
		f := append(bson.D{{Key: "mailbox", Value: mb.ID}, {Key: "uid", Value: bson.D{{Key: "$gte", Value: int64(r[0])}, {Key: "$lte", Value: int64(r[1])}}}}, filter...)
		cur, err := s.messages.Find(ctx, f, options.Find().SetSort(d("uid", 1)).SetProjection(projection))
		if err != nil {
			return err
		}
		for cur.Next(ctx) {
			var m messageDoc
			if err := cur.Decode(&m); err != nil {
				cur.Close(ctx)
				return err
			}
			if uids != nil && !uids.Contains(uint32(m.UID)) {
				continue
			}
			if err := fn(&m); err != nil {
				cur.Close(ctx)
				return err
			}
		}
		err = cur.Err()
		cur.Close(ctx)
		if err != nil {
			return err
		}
	}
	return nil
}

// coverRanges covers the members of set up to last with ranges, joining
// runs separated by at most gap absent UIDs.
func coverRanges(set *roaring.Bitmap, last, gap uint32) [][2]uint32 {
	if set == nil || set.IsEmpty() || last == 0 || set.Minimum() > last {
		return nil
	}
	var out [][2]uint32
	var cur [2]uint32
	started := false
	it := set.ManyIterator()
	buf := make([]uint32, 1024)
walk:
	for {
		n := it.NextMany(buf)
		if n == 0 {
			break
		}
		for _, v := range buf[:n] {
			switch {
			case v > last:
				break walk
			case !started:
				cur, started = [2]uint32{v, v}, true
			case uint64(v) <= uint64(cur[1])+uint64(gap)+1:
				cur[1] = v
			default:
				out = append(out, cur)
				cur = [2]uint32{v, v}
			}
		}
	}
	if started {
		out = append(out, cur)
	}
	return out
}

// Inline returns a message's compressed inline segments.
func (s *Store) Inline(ctx context.Context, user engine.UserID, mailbox engine.MailboxID, uid engine.UID) ([]byte, error) {
	if _, err := s.loadMailbox(ctx, user, mailbox); err != nil {
		return nil, wrap("inline", err)
	}
	var m messageDoc
	err := s.messages.FindOne(ctx, bson.D{{Key: "mailbox", Value: int64(mailbox)}, {Key: "uid", Value: int64(uid)}, committedOnly},
		options.FindOne().SetProjection(bson.D{{Key: "il", Value: 1}})).Decode(&m)
	if err != nil {
		return nil, wrap("inline", notFound(err, fmt.Sprintf("message %d", uid)))
	}
	return nonNil(m.Inline), nil
}

// claim marks the committed, unclaimed messages of uids (all when nil, up
// to maxClaim of them) in mailbox as taken by op, and returns them.
func (s *Store) claim(ctx context.Context, mb *mailboxDoc, uids *roaring.Bitmap, op string, projection bson.D) ([]messageDoc, error) {
	var want []int64
	err := s.scan(ctx, mb, uids, bson.D{committedOnly, {Key: "claim", Value: d("$exists", false)}}, bson.D{{Key: "uid", Value: 1}}, func(m *messageDoc) error {
		if len(want) >= maxClaim && uids == nil {
			return errEnough
		}
		want = append(want, m.UID)
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return nil, err
	}
	for start := 0; start < len(want); start += 1000 {
		part := want[start:min(start+1000, len(want))]
		if _, err := s.messages.UpdateMany(ctx, bson.D{{Key: "mailbox", Value: mb.ID}, {Key: "uid", Value: d("$in", part)}, committedOnly,
			{Key: "claim", Value: d("$exists", false)}}, d("$set", d("claim", op))); err != nil {
			return nil, err
		}
	}
	return s.claimed(ctx, mb.ID, op, projection)
}

var errEnough = errors.New("enough")

// maxClaim bounds one batch of a mailbox deletion.
const maxClaim = 1000

func (s *Store) claimed(ctx context.Context, mailbox int64, op string, projection bson.D) ([]messageDoc, error) {
	cur, err := s.messages.Find(ctx, bson.D{{Key: "mailbox", Value: mailbox}, {Key: "claim", Value: op}},
		options.Find().SetSort(d("uid", 1)).SetProjection(projection))
	if err != nil {
		return nil, err
	}
	var docs []messageDoc
	err = cur.All(ctx, &docs)
	return docs, err
}

var expungeProjection = bson.D{{Key: "uid", Value: 1}, {Key: "size", Value: 1}, {Key: "f", Value: 1}, {Key: "blobs", Value: 1}, {Key: "text", Value: 1}}

// Expunge removes uids. The messages are claimed by the op first, and the
// op document then records exactly what their removal releases; the
// mailbox write gives the MODSEQ and takes them off the counters, the
// journal gets their entries, and after the commit they are deleted and
// their quota and references released.
func (s *Store) Expunge(ctx context.Context, user engine.UserID, mailbox engine.MailboxID, uids *roaring.Bitmap) (*roaring.Bitmap, engine.ModSeq, error) {
	ctx, cancel := s.opContext(ctx)
	defer cancel()
	if uids == nil {
		uids = roaring.New()
	}
	removed, modseq, err := s.expunge(ctx, user, mailbox, uids, true)
	if err != nil {
		return nil, 0, wrap("expunge", err)
	}
	if removed.IsEmpty() {
		mb, err := s.loadMailbox(ctx, user, mailbox)
		if err != nil {
			return nil, 0, wrap("expunge", err)
		}
		modseq, _ = mb.visible()
	}
	return removed, engine.ModSeq(modseq), nil
}

// expunge removes uids (a batch of every message when nil, for a mailbox
// being deleted, without journal entries).
func (s *Store) expunge(ctx context.Context, user engine.UserID, mailbox engine.MailboxID, uids *roaring.Bitmap, journal bool) (*roaring.Bitmap, int64, error) {
	var mb mailboxDoc
	filter := bson.D{{Key: "_id", Value: int64(mailbox)}, {Key: "user", Value: int64(user)}}
	if journal {
		filter = append(filter, liveMailbox)
	}
	if err := s.mailboxes.FindOne(ctx, filter).Decode(&mb); err != nil {
		return nil, 0, notFound(err, fmt.Sprintf("mailbox %d", mailbox))
	}
	removed := roaring.New()
	op := newOp(opExpunge, int64(user), s.opt.Now())
	op.Src, op.Journal = mb.ID, journal
	if err := s.insertOp(ctx, op); err != nil {
		return nil, 0, err
	}
	var modseq int64
	err := s.expungeSteps(ctx, op, &mb, uids, removed, &modseq)
	if err != nil && !isCrash(err) && op.State == statePrepared {
		if aerr := s.abortExpunge(context.WithoutCancel(ctx), op); aerr != nil {
			s.opt.Logger.Error("mongo: roll back failed; recovery will retry", "op", op.ID, "err", aerr)
		}
	}
	return removed, modseq, err
}

func (s *Store) expungeSteps(ctx context.Context, op *opDoc, mb *mailboxDoc, uids *roaring.Bitmap, removed *roaring.Bitmap, modseq *int64) error {
	if err := s.stepErr("expunge:op"); err != nil {
		return err
	}
	docs, err := s.claim(ctx, mb, uids, op.ID, expungeProjection)
	if err != nil {
		return err
	}
	if err := s.stepErr("expunge:claimed"); err != nil {
		return err
	}
	if len(docs) == 0 {
		_, err := s.ops.DeleteOne(ctx, d("_id", op.ID))
		return err
	}
	var delta counts
	blobs, texts := blobTally{}, textTally{}
	for i := range docs {
		m := &docs[i]
		delta.add(-1, m.Size, m.Flags)
		blobs.add(m.Blobs, -1)
		texts[m.Text]--
		removed.Add(uint32(m.UID))
	}
	op.Bytes, op.Count, op.Blobs, op.Texts = delta.Size, delta.Messages, blobs.deltas(), texts.deltas()
	if _, err := s.ops.UpdateOne(ctx, d("_id", op.ID), d("$set", bson.D{{Key: "bytes", Value: op.Bytes}, {Key: "count", Value: op.Count},
		{Key: "blobs", Value: op.Blobs}, {Key: "texts", Value: op.Texts}})); err != nil {
		return err
	}
	if err := s.stepErr("expunge:planned"); err != nil {
		return err
	}
	a, err := s.allocate(ctx, engine.UserID(op.User), engine.MailboxID(op.Src), op.ID, 0, delta, false, !op.Journal)
	if err != nil {
		return err
	}
	*modseq = a.modseq
	if err := s.stepErr("expunge:allocated"); err != nil {
		return err
	}
	if op.Journal {
		entries := make([]journalEntry, len(docs))
		now := s.opt.Now()
		for i, m := range docs {
			entries[i] = journalEntry{Mailbox: op.Src, ModSeq: a.modseq, UID: m.UID, Kind: int32(engine.ChangeExpunge), At: now}
		}
		if err := s.writeJournal(ctx, entries); err != nil {
			return err
		}
		if err := s.stepErr("expunge:journal"); err != nil {
			return err
		}
	}
	if err := s.commit(ctx, op); err != nil {
		return err
	}
	if err := s.stepErr("expunge:committed"); err != nil {
		return err
	}
	return s.finishExpunge(ctx, op)
}

// finishExpunge rolls a committed expunge forward.
func (s *Store) finishExpunge(ctx context.Context, op *opDoc) error {
	if _, err := s.messages.DeleteMany(ctx, bson.D{{Key: "mailbox", Value: op.Src}, {Key: "claim", Value: op.ID}}); err != nil {
		return err
	}
	if err := s.stepErr("expunge:deleted"); err != nil {
		return err
	}
	return s.releaseAll(ctx, op, op.Src)
}

// releaseAll applies an op's negative quota and reference changes, clears
// its markers, ends its entry on mailbox and deletes the op.
func (s *Store) releaseAll(ctx context.Context, op *opDoc, mailbox int64) error {
	if err := s.chargeQuota(ctx, op, false); err != nil && !errors.Is(err, engine.ErrNotFound) {
		return err
	}
	if err := s.applyRefs(ctx, s.blobRefs, op, op.blobChanges(-1), false); err != nil {
		return err
	}
	if err := s.applyRefs(ctx, s.texts, op, op.textChanges(-1), false); err != nil {
		return err
	}
	if err := s.stepErr(op.Kind + ":released"); err != nil {
		return err
	}
	if err := s.release(ctx, mailbox, op.ID, counts{}); err != nil {
		return err
	}
	if err := s.clearQuotaMarker(ctx, op); err != nil {
		return err
	}
	if err := s.clearMarkers(ctx, s.blobRefs, op.ID, op.blobChanges(-1), true); err != nil {
		return err
	}
	if err := s.clearMarkers(ctx, s.texts, op.ID, op.textChanges(-1), true); err != nil {
		return err
	}
	_, err := s.ops.DeleteOne(ctx, d("_id", op.ID))
	return err
}

// abortExpunge rolls back an expunge or move source that did not commit.
func (s *Store) abortExpunge(ctx context.Context, op *opDoc) error {
	if err := s.undoAllocation(ctx, op.Src, op.ID); err != nil {
		return err
	}
	if _, err := s.messages.UpdateMany(ctx, bson.D{{Key: "mailbox", Value: op.Src}, {Key: "claim", Value: op.ID}}, d("$unset", d("claim", ""))); err != nil {
		return err
	}
	_, err := s.ops.DeleteOne(ctx, d("_id", op.ID))
	return err
}

// loadPair loads the source and target of a copy or move.
func (s *Store) loadPair(ctx context.Context, user engine.UserID, src, dst engine.MailboxID) (*mailboxDoc, *mailboxDoc, error) {
	from, err := s.loadMailbox(ctx, user, src)
	if err != nil {
		return nil, nil, err
	}
	if src == dst {
		return from, from, nil
	}
	to, err := s.loadMailbox(ctx, user, dst)
	if err != nil {
		return nil, nil, err
	}
	return from, to, nil
}

// Copy copies uids into dst: new UIDs, the same texts and blobs with one
// more reference each, run as an add op like Append.
func (s *Store) Copy(ctx context.Context, user engine.UserID, src, dst engine.MailboxID, uids *roaring.Bitmap) (engine.CopyResult, error) {
	ctx, cancel := s.opContext(ctx)
	defer cancel()
	from, to, err := s.loadPair(ctx, user, src, dst)
	if err != nil {
		return engine.CopyResult{}, wrap("copy", err)
	}
	res := engine.CopyResult{UIDValidity: uint32(to.UIDValidity)}
	var docs []messageDoc
	err = s.scan(ctx, from, uids, bson.D{committedOnly}, bson.D{}, func(m *messageDoc) error {
		docs = append(docs, *m)
		return nil
	})
	if err != nil || len(docs) == 0 {
		return res, wrap("copy", err)
	}
	op := newOp(opCopy, int64(user), s.opt.Now())
	op.Src, op.Dst = from.ID, to.ID
	blobs, texts := blobTally{}, textTally{}
	for i := range docs {
		op.Bytes += docs[i].Size
		op.Count++
		blobs.add(docs[i].Blobs, 1)
		texts[docs[i].Text]++
		res.Source = append(res.Source, engine.UID(docs[i].UID))
	}
	op.Blobs, op.Texts = blobs.deltas(), texts.deltas()
	first, err := s.add(ctx, op, docs, nil, 0)
	if err != nil {
		if errors.Is(err, engine.ErrOverQuota) {
			return engine.CopyResult{}, fmt.Errorf("mongo: copy: %w", err)
		}
		return engine.CopyResult{}, wrap("copy", err)
	}
	for i := range docs {
		res.Target = append(res.Target, engine.UID(first+int64(i)))
	}
	return res, nil
}

// Move moves uids into dst. The op claims the sources, allocates both
// mailboxes (one write each), inserts the targets pending and writes both
// journals; after the commit the targets become visible and then the
// sources are deleted. Before the commit recovery drops the targets and
// releases the sources; after it, it completes the move: a message is in
// the source or the target, never both, never neither.
func (s *Store) Move(ctx context.Context, user engine.UserID, src, dst engine.MailboxID, uids *roaring.Bitmap) (engine.CopyResult, error) {
	ctx, cancel := s.opContext(ctx)
	defer cancel()
	from, to, err := s.loadPair(ctx, user, src, dst)
	if err != nil {
		return engine.CopyResult{}, wrap("move", err)
	}
	res := engine.CopyResult{UIDValidity: uint32(to.UIDValidity)}
	if uids == nil || uids.IsEmpty() {
		return res, nil
	}
	op := newOp(opMove, int64(user), s.opt.Now())
	op.Src, op.Dst = from.ID, to.ID
	if err := s.insertOp(ctx, op); err != nil {
		return engine.CopyResult{}, wrap("move", err)
	}
	err = s.moveSteps(ctx, op, from, uids, &res)
	if err != nil {
		if !isCrash(err) && op.State == statePrepared {
			if aerr := s.abortMove(context.WithoutCancel(ctx), op); aerr != nil {
				s.opt.Logger.Error("mongo: roll back failed; recovery will retry", "op", op.ID, "err", aerr)
			}
		}
		return engine.CopyResult{}, wrap("move", err)
	}
	return res, nil
}

func (s *Store) moveSteps(ctx context.Context, op *opDoc, from *mailboxDoc, uids *roaring.Bitmap, res *engine.CopyResult) error {
	if err := s.stepErr("move:op"); err != nil {
		return err
	}
	docs, err := s.claim(ctx, from, uids, op.ID, bson.D{})
	if err != nil {
		return err
	}
	if err := s.stepErr("move:claimed"); err != nil {
		return err
	}
	if len(docs) == 0 {
		_, err := s.ops.DeleteOne(ctx, d("_id", op.ID))
		return err
	}
	var delta counts
	var keywords []string
	for i := range docs {
		delta.add(1, docs[i].Size, docs[i].Flags)
		keywords = append(keywords, docs[i].Keywords...)
	}
	user := engine.UserID(op.User)
	var srcA, dstA allocation
	if op.Src == op.Dst {
		if dstA, err = s.allocate(ctx, user, engine.MailboxID(op.Dst), op.ID, int64(len(docs)), counts{}, false, false); err != nil {
			return err
		}
		srcA = dstA
	} else {
		if srcA, err = s.allocate(ctx, user, engine.MailboxID(op.Src), op.ID, 0, delta.neg(), false, false); err != nil {
			return err
		}
		if err := s.stepErr("move:source allocated"); err != nil {
			return err
		}
		if dstA, err = s.allocate(ctx, user, engine.MailboxID(op.Dst), op.ID, int64(len(docs)), delta, false, false); err != nil {
			return err
		}
	}
	if err := s.recordKeywords(ctx, dstA.mb, keywords); err != nil {
		return err
	}
	if err := s.stepErr("move:allocated"); err != nil {
		return err
	}
	ins := make([]any, len(docs))
	entries := make([]journalEntry, 0, 2*len(docs))
	now := s.opt.Now()
	for i := range docs {
		t := docs[i]
		res.Source = append(res.Source, engine.UID(t.UID))
		entries = append(entries, journalEntry{Mailbox: op.Src, ModSeq: srcA.modseq, UID: t.UID, Kind: int32(engine.ChangeExpunge), At: now})
		t.ID, t.Mailbox, t.UID, t.ModSeq, t.Pending, t.Claim = bson.ObjectID{}, op.Dst, dstA.first+int64(i), dstA.modseq, op.ID, ""
		res.Target = append(res.Target, engine.UID(t.UID))
		entries = append(entries, journalEntry{Mailbox: op.Dst, ModSeq: dstA.modseq, UID: t.UID, Kind: int32(engine.ChangeAppend), Flags: t.flagSet().List(), At: now})
		ins[i] = &t
	}
	for start := 0; start < len(ins); start += insertBatch {
		if _, err := s.messages.InsertMany(ctx, ins[start:min(start+insertBatch, len(ins))], options.InsertMany().SetOrdered(false)); onlyDups(err) != nil {
			return err
		}
	}
	if err := s.stepErr("move:targets"); err != nil {
		return err
	}
	if err := s.writeJournal(ctx, entries); err != nil {
		return err
	}
	if err := s.stepErr("move:journal"); err != nil {
		return err
	}
	if err := s.commit(ctx, op); err != nil {
		return err
	}
	if err := s.stepErr("move:committed"); err != nil {
		return err
	}
	return s.finishMove(ctx, op)
}

// finishMove rolls a committed move forward: targets visible, sources
// deleted, entries ended.
func (s *Store) finishMove(ctx context.Context, op *opDoc) error {
	if _, err := s.messages.UpdateMany(ctx, bson.D{{Key: "mailbox", Value: op.Dst}, {Key: "pending", Value: op.ID}}, d("$unset", d("pending", ""))); err != nil {
		return err
	}
	if err := s.stepErr("move:visible"); err != nil {
		return err
	}
	if _, err := s.messages.DeleteMany(ctx, bson.D{{Key: "mailbox", Value: op.Src}, {Key: "claim", Value: op.ID}}); err != nil {
		return err
	}
	if err := s.stepErr("move:sources deleted"); err != nil {
		return err
	}
	if err := s.release(ctx, op.Src, op.ID, counts{}); err != nil {
		return err
	}
	if err := s.release(ctx, op.Dst, op.ID, counts{}); err != nil {
		return err
	}
	_, err := s.ops.DeleteOne(ctx, d("_id", op.ID))
	return err
}

// abortMove rolls back a move that did not commit.
func (s *Store) abortMove(ctx context.Context, op *opDoc) error {
	if _, err := s.messages.DeleteMany(ctx, bson.D{{Key: "mailbox", Value: op.Dst}, {Key: "pending", Value: op.ID}}); err != nil {
		return err
	}
	if err := s.undoAllocation(ctx, op.Dst, op.ID); err != nil {
		return err
	}
	return s.abortExpunge(ctx, op)
}
