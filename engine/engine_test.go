package engine_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"pgregory.net/rapid"

	"github.com/eidermail/eider/engine"
	blobfs "github.com/eidermail/eider/engine/blob/fs"
	"github.com/eidermail/eider/engine/notify/local"
	"github.com/eidermail/eider/engine/testcorpus"
	"github.com/eidermail/eider/internal/testkit/enginekit"
)

// harness is an engine on the embedded backends in a temp dir.
type harness struct {
	e     *engine.Engine
	meta  engine.MetaStore
	blobs *blobfs.Store
	user  engine.User
	inbox engine.Mailbox
	dir   string
}

func newHarness(t testing.TB, opt engine.IngestOptions) *harness {
	t.Helper()
	env := enginekit.Open(t, enginekit.Options{Ingest: opt})
	u, inbox := enginekit.User(t, env.Engine, "alice@example.com", "pw", 0)
	return &harness{e: env.Engine, meta: env.Meta, blobs: env.Blobs, user: u, inbox: inbox, dir: env.Dir}
}

func (h *harness) append(t testing.TB, data []byte) engine.AppendResult {
	t.Helper()
	res, err := h.e.Append(context.Background(), h.user.ID, h.inbox.ID, bytes.NewReader(data), engine.AppendOptions{})
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	return res
}

func (h *harness) meta1(t testing.TB, uid engine.UID) *engine.MessageMeta {
	t.Helper()
	var got *engine.MessageMeta
	err := h.e.Messages(context.Background(), h.user.ID, h.inbox.ID, roaring.BitmapOf(uint32(uid)), func(m *engine.MessageMeta) error {
		c := *m
		got = &c
		return nil
	})
	if err != nil || got == nil {
		t.Fatalf("message %d: %v (found %v)", uid, err, got != nil)
	}
	return got
}

func (h *harness) section(t testing.TB, uid engine.UID, s engine.Section) []byte {
	t.Helper()
	data, err := h.trySection(uid, s)
	if err != nil {
		t.Fatalf("uid %d section %+v: %v", uid, s, err)
	}
	return data
}

func (h *harness) trySection(uid engine.UID, s engine.Section) ([]byte, error) {
	ctx := context.Background()
	var meta *engine.MessageMeta
	err := h.e.Messages(ctx, h.user.ID, h.inbox.ID, roaring.BitmapOf(uint32(uid)), func(m *engine.MessageMeta) error {
		c := *m
		meta = &c
		return nil
	})
	if err != nil {
		return nil, err
	}
	if meta == nil {
		return nil, engine.ErrNotFound
	}
	m, err := h.e.OpenMessage(ctx, h.user.ID, h.inbox.ID, meta)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	d, err := m.Section(s)
	if err != nil {
		return nil, err
	}
	out, err := io.ReadAll(d.Body)
	if err != nil {
		return nil, err
	}
	if int64(len(out)) != d.Length {
		return nil, errors.New("section length announced differs from bytes streamed")
	}
	return out, nil
}

// TestRoundTripCorpus is the first invariant: what was delivered is what
// FETCH BODY[] returns, byte for byte, and RFC822.SIZE is its length.
func TestRoundTripCorpus(t *testing.T) {
	// A low inline threshold sends many bodies through the blob path too.
	for _, inlineMax := range []int64{64 << 10, 1 << 10} {
		h := newHarness(t, engine.IngestOptions{InlineMax: inlineMax, FrameSize: 16 << 10})
		corpus := testcorpus.Corpus()
		if len(corpus) < 300 {
			t.Fatalf("corpus has %d messages, want >= 300", len(corpus))
		}
		for _, msg := range corpus {
			res := h.append(t, msg.Data)
			meta := h.meta1(t, res.UID)
			if meta.Size != int64(len(msg.Data)) {
				t.Errorf("%s: RFC822.SIZE %d, delivered %d bytes", msg.Name, meta.Size, len(msg.Data))
			}
			got := h.section(t, res.UID, engine.Section{})
			if sha256.Sum256(got) != sha256.Sum256(msg.Data) {
				t.Errorf("%s (inline max %d): BODY[] differs from what was delivered (%d vs %d bytes)", msg.Name, inlineMax, len(got), len(msg.Data))
			}
		}
	}
}

const sectionsMsg = "From: \"Doe, John\" <john@example.com>\r\n" +
	"To: alice@example.com, Group: a@b.c, d@e.f;\r\n" +
	"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n" +
	"Date: Mon, 2 Mar 2026 10:00:00 +0100\r\n" +
	"Message-ID: <m1@example.com>\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=\"outer\"\r\n" +
	"\r\n" +
	"preamble\r\n" +
	"--outer\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"\r\n" +
	"Hello Welt\r\n" +
	"--outer\r\n" +
	"Content-Type: application/octet-stream; name=\"a.bin\"\r\n" +
	"Content-Disposition: attachment; filename=\"a.bin\"\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4\r\n" +
	"OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiYw==\r\n" +
	"--outer\r\n" +
	"Content-Type: message/rfc822\r\n" +
	"\r\n" +
	"Subject: inner\r\n" +
	"From: x@y.z\r\n" +
	"\r\n" +
	"inner body\r\n" +
	"--outer--\r\n" +
	"epilogue\r\n"

func TestSections(t *testing.T) {
	h := newHarness(t, engine.IngestOptions{})
	uid := h.append(t, []byte(sectionsMsg)).UID
	attachment := make([]byte, 100)
	for i := range attachment {
		attachment[i] = byte(i)
	}
	header := sectionsMsg[:strings.Index(sectionsMsg, "\r\n\r\n")+4]
	cases := []struct {
		name string
		s    engine.Section
		want string
	}{
		{"BODY[]", engine.Section{}, sectionsMsg},
		{"HEADER", engine.Section{Specifier: "HEADER"}, header},
		{"TEXT", engine.Section{Specifier: "TEXT"}, sectionsMsg[len(header):]},
		{"1", engine.Section{Path: []int{1}}, "Hello Welt"},
		{"1.MIME", engine.Section{Path: []int{1}, Specifier: "MIME"}, "Content-Type: text/plain; charset=utf-8\r\n\r\n"},
		{"3", engine.Section{Path: []int{3}}, "Subject: inner\r\nFrom: x@y.z\r\n\r\ninner body"},
		{"3.HEADER", engine.Section{Path: []int{3}, Specifier: "HEADER"}, "Subject: inner\r\nFrom: x@y.z\r\n\r\n"},
		{"3.TEXT", engine.Section{Path: []int{3}, Specifier: "TEXT"}, "inner body"},
		{"3.1", engine.Section{Path: []int{3, 1}}, "inner body"},
		{"HEADER.FIELDS", engine.Section{Specifier: "HEADER.FIELDS", Fields: []string{"subject", "FROM"}},
			"From: \"Doe, John\" <john@example.com>\r\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n\r\n"},
		{"HEADER.FIELDS.NOT", engine.Section{Specifier: "HEADER.FIELDS.NOT", Fields: []string{"to", "from", "subject", "date", "message-id", "mime-version"}},
			"Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n"},
		{"partial", engine.Section{Path: []int{1}, Partial: true, Offset: 6, Count: 100}, "Welt"},
		{"partial past end", engine.Section{Path: []int{1}, Partial: true, Offset: 500, Count: 10}, ""},
		{"BINARY[2]", engine.Section{Path: []int{2}, Binary: true}, string(attachment)},
		{"BINARY[2]<10.5>", engine.Section{Path: []int{2}, Binary: true, Partial: true, Offset: 10, Count: 5}, string(attachment[10:15])},
		{"BINARY[1]", engine.Section{Path: []int{1}, Binary: true}, "Hello Welt"},
	}
	for _, c := range cases {
		got := h.section(t, uid, c.s)
		if string(got) != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
	for _, bad := range []engine.Section{{Path: []int{4}}, {Path: []int{1, 1}}, {Path: []int{0}}, {Path: []int{1}, Specifier: "HEADER"}} {
		if _, err := h.trySection(uid, bad); !errors.Is(err, engine.ErrNoSuchPart) {
			t.Errorf("%+v: got %v, want ErrNoSuchPart", bad, err)
		}
	}
	// The structure knows BINARY.SIZE and the envelope was built in the same pass.
	meta := h.meta1(t, uid)
	st, err := engine.DecodeStructure(meta.Structure)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Parts[st.Parts[0].Children[1]].DecodedSize; got != 100 {
		t.Errorf("BINARY.SIZE[2] = %d, want 100", got)
	}
	env, err := engine.DecodeEnvelope(meta.Envelope)
	if err != nil {
		t.Fatal(err)
	}
	if env.Subject != "=?utf-8?q?Gr=C3=BC=C3=9Fe?=" || len(env.From) != 1 || env.From[0].Name != "Doe, John" ||
		env.From[0].Mailbox != "john" || env.From[0].Host != "example.com" || len(env.Sender) != 1 || env.MessageID != "<m1@example.com>" {
		t.Errorf("envelope: %+v", env)
	}
	if len(env.To) != 5 || env.To[1].Mailbox != "Group" || env.To[1].Host != "" || env.To[4] != (engine.EnvelopeAddress{}) {
		t.Errorf("envelope To with group: %+v", env.To)
	}
	inner := st.Parts[st.Parts[0].Children[2]]
	if inner.Envelope == nil || inner.Envelope.Subject != "inner" {
		t.Errorf("encapsulated envelope: %+v", inner.Envelope)
	}
}

// TestSearchText checks that header and body text extracted at ingest are
// searchable: decoded encoded words, charsets, HTML reduced to text.
func TestSearchText(t *testing.T) {
	h := newHarness(t, engine.IngestOptions{})
	ctx := context.Background()
	latin1 := "Subject: caf\xe9\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nNa=EFve r=E9sum=E9\r\n"
	html := "Subject: html\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><head><style>p{color:red}</style></head><body><p>Visible&nbsp;words</p><script>hidden()</script></body></html>\r\n"
	u1 := h.append(t, []byte(sectionsMsg)).UID
	u2 := h.append(t, []byte(latin1)).UID
	u3 := h.append(t, []byte(html)).UID
	search := func(q *engine.SearchQuery) []uint32 {
		r, err := h.e.Search(ctx, h.user.ID, h.inbox.ID, q)
		if err != nil {
			t.Fatal(err)
		}
		return r.ToArray()
	}
	check := func(name string, q *engine.SearchQuery, want ...engine.UID) {
		got := search(q)
		if len(got) != len(want) {
			t.Errorf("%s: got %v, want %v", name, got, want)
			return
		}
		for i := range want {
			if got[i] != uint32(want[i]) {
				t.Errorf("%s: got %v, want %v", name, got, want)
			}
		}
	}
	check("body utf-8", &engine.SearchQuery{Op: engine.SearchBody, Value: "hello welt"}, u1)
	check("body qp latin-1", &engine.SearchQuery{Op: engine.SearchBody, Value: "résumé"}, u2)
	check("body html", &engine.SearchQuery{Op: engine.SearchBody, Value: "visible words"}, u3)
	check("html script hidden", &engine.SearchQuery{Op: engine.SearchBody, Value: "hidden()"})
	check("subject encoded word", &engine.SearchQuery{Op: engine.SearchHeader, Field: "subject", Value: "grüße"}, u1)
	check("text or", &engine.SearchQuery{Op: engine.SearchOr, Children: []*engine.SearchQuery{
		{Op: engine.SearchText, Value: "inner body"}, {Op: engine.SearchText, Value: "visible"}}}, u1, u3)
}

// TestDedupSharesBlobs: the same attachment in many messages is stored once.
func TestDedupSharesBlobs(t *testing.T) {
	h := newHarness(t, engine.IngestOptions{})
	att := bytes.Repeat([]byte("0123456789abcdef attachment bytes that repeat\n"), 20000)
	for i := 0; i < 20; i++ {
		h.append(t, testcorpus.WithAttachment(i, att))
	}
	n, size := h.blobUsage(t)
	if n != 1 {
		t.Fatalf("%d blobs stored for one attachment in 20 messages", n)
	}
	one := size
	for i := 20; i < 40; i++ {
		h.append(t, testcorpus.WithAttachment(i, att))
	}
	if _, size = h.blobUsage(t); size != one {
		t.Fatalf("blob storage grew from %d to %d bytes for 20 more copies", one, size)
	}
}

func (h *harness) blobUsage(t testing.TB) (int, int64) {
	var n int
	var size int64
	err := h.blobs.Walk(context.Background(), func(b engine.BlobInfo) error {
		n++
		size += b.Size
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n, size
}

// failingMeta fails Append after ingest wrote the blobs: the crash window
// between blob write and metadata commit.
type failingMeta struct{ engine.MetaStore }

func (failingMeta) Append(context.Context, engine.UserID, engine.MailboxID, []engine.NewMessage) (uint32, []engine.UID, error) {
	return 0, nil, errors.New("injected crash before the metadata commit")
}

func TestNoHalfVisibleMessageAfterCrash(t *testing.T) {
	h := newHarness(t, engine.IngestOptions{})
	ctx := context.Background()
	crashing, err := engine.New(engine.Config{Meta: failingMeta{h.meta}, Blobs: h.blobs, Notifier: local.New()})
	if err != nil {
		t.Fatal(err)
	}
	att := bytes.Repeat([]byte{1, 2, 3, 4, 5, 6, 7}, 100000)
	if _, err := crashing.Append(ctx, h.user.ID, h.inbox.ID, bytes.NewReader(testcorpus.WithAttachment(1, att)), engine.AppendOptions{}); err == nil {
		t.Fatal("append through a crashing store succeeded")
	}
	uids, _, err := h.e.UIDs(ctx, h.user.ID, h.inbox.ID)
	if err != nil || !uids.IsEmpty() {
		t.Fatalf("after the crash the mailbox shows %v (%v)", uids, err)
	}
	q, _ := h.e.Quota(ctx, h.user.ID)
	if q.Used != 0 || q.Messages != 0 {
		t.Fatalf("quota counts a message that never committed: %+v", q)
	}
	if n, _ := h.blobUsage(t); n != 1 {
		t.Fatalf("expected the orphan blob to exist before GC, found %d", n)
	}
	refs, err := h.meta.BlobRefs(ctx, h.blobIDs(t))
	if err != nil || refs[0] != 0 {
		t.Fatalf("orphan blob has refs %v (%v)", refs, err)
	}
}

func (h *harness) blobIDs(t testing.TB) []engine.BlobID {
	var ids []engine.BlobID
	h.blobs.Walk(context.Background(), func(b engine.BlobInfo) error {
		ids = append(ids, b.ID)
		return nil
	})
	return ids
}

// TestRoundTripRandomTrees is the round-trip invariant as a property: random
// MIME trees, and the same trees with random damage (flipped bytes, cut
// tails, inserted line breaks), rebuild byte for byte at random thresholds.
func TestRoundTripRandomTrees(t *testing.T) {
	h := newHarness(t, engine.IngestOptions{})
	rapid.Check(t, func(rt *rapid.T) {
		seed := rapid.Int64().Draw(rt, "seed")
		msg := testcorpus.GenerateWith(seed, 1, testcorpus.Options{MaxSize: 96 << 10})[0].Data
		data := append([]byte(nil), msg...)
		for range rapid.IntRange(0, 4).Draw(rt, "damage") {
			if len(data) == 0 {
				break
			}
			at := rapid.IntRange(0, len(data)-1).Draw(rt, "at")
			switch rapid.IntRange(0, 3).Draw(rt, "kind") {
			case 0:
				data[at] ^= byte(rapid.IntRange(1, 255).Draw(rt, "xor"))
			case 1:
				data = data[:at]
			case 2:
				data = append(data[:at], append([]byte("\n"), data[at:]...)...)
			case 3:
				data = append(data[:at], append([]byte(" \r\n="), data[at:]...)...)
			}
		}
		opt := engine.IngestOptions{
			InlineMax: int64(rapid.IntRange(1<<10, 128<<10).Draw(rt, "inlineMax")),
			FrameSize: rapid.IntRange(4<<10, 64<<10).Draw(rt, "frameSize"),
		}
		e, err := engine.New(engine.Config{Meta: h.meta, Blobs: h.blobs, Notifier: local.New(), Ingest: opt})
		if err != nil {
			rt.Fatal(err)
		}
		res, err := e.Append(context.Background(), h.user.ID, h.inbox.ID, bytes.NewReader(data), engine.AppendOptions{})
		if err != nil {
			rt.Fatalf("append: %v", err)
		}
		got, err := h.trySection(res.UID, engine.Section{})
		if err != nil {
			rt.Fatal(err)
		}
		if !bytes.Equal(got, data) {
			rt.Fatalf("rebuilt %d bytes differ from the %d delivered", len(got), len(data))
		}
		// Any byte range reads back as the same slice.
		if len(data) > 0 {
			off := rapid.Int64Range(0, int64(len(data))-1).Draw(rt, "off")
			n := rapid.Int64Range(1, int64(len(data))).Draw(rt, "n")
			part, err := h.trySection(res.UID, engine.Section{Partial: true, Offset: off, Count: n})
			if err != nil {
				rt.Fatal(err)
			}
			if want := data[off:min(off+n, int64(len(data)))]; !bytes.Equal(part, want) {
				rt.Fatalf("BODY[]<%d.%d> differs", off, n)
			}
		}
	})
}

// TestConcurrentAppendsOneMailbox: 8 writers appending to one mailbox get
// strictly increasing, distinct UIDs, and every message reads back.
func TestConcurrentAppendsOneMailbox(t *testing.T) {
	h := newHarness(t, engine.IngestOptions{})
	msgs := testcorpus.Generate(3, 40)
	var wg sync.WaitGroup
	uids := make([][]engine.UID, 8)
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < len(msgs); i += 8 {
				res, err := h.e.Append(context.Background(), h.user.ID, h.inbox.ID, bytes.NewReader(msgs[i].Data), engine.AppendOptions{})
				if err != nil {
					t.Error(err)
					return
				}
				uids[w] = append(uids[w], res.UID)
			}
		})
	}
	wg.Wait()
	seen := map[engine.UID]bool{}
	for _, l := range uids {
		for i, u := range l {
			if seen[u] || (i > 0 && u <= l[i-1]) {
				t.Fatalf("UID %d repeated or not increasing within one writer: %v", u, l)
			}
			seen[u] = true
		}
	}
	if len(seen) != len(msgs) {
		t.Fatalf("%d UIDs for %d messages", len(seen), len(msgs))
	}
}

func TestAppendOverSizeLimit(t *testing.T) {
	h := newHarness(t, engine.IngestOptions{MaxMessageSize: 4 << 10})
	_, err := h.e.Append(context.Background(), h.user.ID, h.inbox.ID, bytes.NewReader(bytes.Repeat([]byte("x"), 5<<10)), engine.AppendOptions{})
	if !errors.Is(err, engine.ErrTooBig) {
		t.Fatalf("got %v, want ErrTooBig", err)
	}
	exact := append([]byte("Subject: fits\r\n\r\n"), bytes.Repeat([]byte("y"), 4<<10-17)...)
	h.append(t, exact)
}

func TestQuotaRefusesAndCounts(t *testing.T) {
	h := newHarness(t, engine.IngestOptions{})
	ctx := context.Background()
	u, err := h.e.CreateUser(ctx, "small@example.com", "pw", 3000)
	if err != nil {
		t.Fatal(err)
	}
	inbox, _ := h.e.Mailbox(ctx, u.ID, "INBOX")
	msg := append([]byte("Subject: q\r\n\r\n"), bytes.Repeat([]byte("z"), 1400)...)
	for i := 0; i < 2; i++ {
		if _, err := h.e.Append(ctx, u.ID, inbox.ID, bytes.NewReader(msg), engine.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.e.Append(ctx, u.ID, inbox.ID, bytes.NewReader(msg), engine.AppendOptions{}); !errors.Is(err, engine.ErrOverQuota) {
		t.Fatalf("third message: got %v, want ErrOverQuota", err)
	}
	q, _ := h.e.Quota(ctx, u.ID)
	if q.Used != 2*int64(len(msg)) || q.Messages != 2 || q.Limit != 3000 {
		t.Fatalf("quota %+v", q)
	}
}

// TestUserLifecycle covers what `eider user` relies on: default mailboxes,
// authentication by name, alias and sub-address, and resolution rules.
func TestUserLifecycle(t *testing.T) {
	h := newHarness(t, engine.IngestOptions{})
	ctx := context.Background()
	mbs, err := h.e.Mailboxes(ctx, h.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	special := map[string]string{}
	for _, mb := range mbs {
		special[mb.Name] = mb.SpecialUse
	}
	for _, d := range engine.DefaultMailboxes() {
		if su, ok := special[d.Name]; !ok || su != d.SpecialUse {
			t.Errorf("mailbox %s: present %v, special-use %q", d.Name, ok, su)
		}
	}
	if err := h.e.AddAlias(ctx, h.user.ID, "Ali@XN--MNCHEN-3YA.de"); err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{"alice@example.com", "ALICE+lists@Example.COM", "ali@münchen.de", "ali+x@xn--mnchen-3ya.de"} {
		r, err := h.e.ResolveRecipient(ctx, addr)
		if err != nil || r.User != h.user.ID {
			t.Errorf("%s: resolved to %+v, %v", addr, r, err)
		}
	}
	if r, _ := h.e.ResolveRecipient(ctx, "alice+news@example.com"); r.Label != "news" {
		t.Errorf("label not kept: %+v", r)
	}
	if _, err := h.e.ResolveRecipient(ctx, "nobody@example.com"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("unknown address: %v", err)
	}
	for _, login := range []string{"alice@example.com", "Alice@EXAMPLE.com", "ali@münchen.de"} {
		if _, err := h.e.Authenticate(ctx, login, "pw"); err != nil {
			t.Errorf("login %s: %v", login, err)
		}
	}
	if _, err := h.e.Authenticate(ctx, "alice@example.com", "wrong"); !errors.Is(err, engine.ErrAuthFailed) {
		t.Errorf("wrong password: %v", err)
	}
	if err := h.e.SetPassword(ctx, "alice@example.com", "new"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.e.Authenticate(ctx, "alice@example.com", "new"); err != nil {
		t.Errorf("after passwd: %v", err)
	}
	if err := h.e.DeleteUser(ctx, "alice@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.e.ResolveRecipient(ctx, "ali@münchen.de"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("alias of a deleted user still resolves: %v", err)
	}
}

// TestMailboxRenameAndInbox: renaming moves children; renaming INBOX moves
// its messages and leaves INBOX in place, empty.
func TestMailboxRenameAndInbox(t *testing.T) {
	h := newHarness(t, engine.IngestOptions{})
	ctx := context.Background()
	for _, n := range []string{"Work/A/B", "Work/C"} {
		if _, err := h.e.CreateMailbox(ctx, h.user.ID, n, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.e.RenameMailbox(ctx, h.user.ID, "Work", "Job/Old"); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"Job", "Job/Old", "Job/Old/A", "Job/Old/A/B", "Job/Old/C"} {
		if _, err := h.e.Mailbox(ctx, h.user.ID, n); err != nil {
			t.Errorf("%s after rename: %v", n, err)
		}
	}
	if _, err := h.e.Mailbox(ctx, h.user.ID, "Work/A"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("old child still there: %v", err)
	}
	h.append(t, []byte("Subject: a\r\n\r\nx\r\n"))
	h.append(t, []byte("Subject: b\r\n\r\ny\r\n"))
	if err := h.e.RenameMailbox(ctx, h.user.ID, "inbox", "Old Inbox"); err != nil {
		t.Fatal(err)
	}
	inbox, _ := h.e.Mailbox(ctx, h.user.ID, "INBOX")
	old, err := h.e.Mailbox(ctx, h.user.ID, "Old Inbox")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := h.e.Status(ctx, h.user.ID, inbox.ID)
	b, _ := h.e.Status(ctx, h.user.ID, old.ID)
	if a.Messages != 0 || b.Messages != 2 {
		t.Fatalf("after RENAME INBOX: INBOX %d, new %d messages", a.Messages, b.Messages)
	}
	if err := h.e.DeleteMailbox(ctx, h.user.ID, "INBOX"); !errors.Is(err, engine.ErrPermission) {
		t.Fatalf("deleting INBOX: %v", err)
	}
}

// TestDeliverSharesBodyAcrossRecipients: one read, per-recipient prefixes,
// shared blobs, per-recipient quota failure, junk filing.
func TestDeliverSharesBodyAcrossRecipients(t *testing.T) {
	h := newHarness(t, engine.IngestOptions{})
	ctx := context.Background()
	bob, _ := h.e.CreateUser(ctx, "bob@example.com", "pw", 0)
	tiny, _ := h.e.CreateUser(ctx, "tiny@example.com", "pw", 100)
	att := bytes.Repeat([]byte("attachment "), 30000)
	msg := testcorpus.WithAttachment(7, att)
	rcpts := []engine.Delivery{
		{User: h.user.ID, Prefix: []byte("Return-Path: <s@x.org>\r\nDelivered-To: alice+news@example.com\r\n")},
		{User: bob.ID, Prefix: []byte("Delivered-To: bob@example.com\r\n")},
		{User: tiny.ID},
	}
	res, err := h.e.Deliver(ctx, bytes.NewReader(msg), rcpts, engine.DefaultJunkRules())
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err != nil || res[1].Err != nil || !errors.Is(res[2].Err, engine.ErrOverQuota) {
		t.Fatalf("results: %+v", res)
	}
	want := append([]byte("Return-Path: <s@x.org>\r\nDelivered-To: alice+news@example.com\r\n"), msg...)
	if got := h.section(t, res[0].UID, engine.Section{}); !bytes.Equal(got, want) {
		t.Fatalf("alice's copy differs (%d vs %d bytes)", len(got), len(want))
	}
	if got := h.section(t, res[0].UID, engine.Section{Path: []int{2}, Binary: true}); !bytes.Equal(got, att) {
		t.Fatal("attachment of the prefixed copy differs")
	}
	if n, _ := h.blobUsage(t); n != 1 {
		t.Fatalf("%d blobs for one attachment delivered to two users", n)
	}
	hits, err := h.e.Search(ctx, h.user.ID, h.inbox.ID, &engine.SearchQuery{Op: engine.SearchHeader, Field: "delivered-to", Value: "+news"})
	if err != nil || hits.GetCardinality() != 1 {
		t.Fatalf("label not searchable: %v, %v", hits, err)
	}
	spam := append([]byte("X-Spam-Flag: YES\r\n"), msg...)
	res, err = h.e.Deliver(ctx, bytes.NewReader(spam), rcpts[:1], engine.DefaultJunkRules())
	if err != nil || res[0].Err != nil || !res[0].Junk || res[0].Mailbox.Name != "Junk" {
		t.Fatalf("junk delivery: %+v, %v", res, err)
	}
}
