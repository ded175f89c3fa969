package metatest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"pgregory.net/rapid"

	"github.com/eidermail/eider/engine"
)

func day(m time.Month, d int) time.Time { return time.Date(2024, m, d, 12, 0, 0, 0, time.UTC) }

// searchCorpus is five messages covering every search key.
func searchCorpus(g *gen) []engine.NewMessage {
	msgs := []engine.NewMessage{
		{
			EmailID: 111, Flags: []string{`\Seen`, "$Work"}, InternalDate: day(1, 10), SentDate: day(1, 9), Size: 1000,
			HeaderText: "received: from relay.example.net by mx.example.com\nfrom: Alice Example <alice@example.com>\nsubject: Quarterly Report Q3\nx-priority: 1\n",
			BodyText:   "Please find the quarterly numbers attached. Größe matters.",
		},
		{
			EmailID: 222, Flags: []string{`\Flagged`}, InternalDate: day(2, 10), SentDate: day(2, 9), Size: 5000,
			HeaderText: "from: Борис <boris@пример.рф>\nsubject: Привет, мир\n",
			BodyText:   "Встреча завтра в 10:00. CAFÉ au lait",
		},
		{
			EmailID: 333, InternalDate: day(3, 10), Size: 20000,
			HeaderText: "from: 東京 <tokyo@example.jp>\nsubject: 会議のお知らせ\n",
			BodyText:   "東京タワーで会いましょう",
		},
		{
			EmailID: 444, Flags: []string{`\Deleted`, `\Answered`}, InternalDate: day(4, 10), SentDate: day(4, 9), Size: 300,
			HeaderText: "from: bob@example.com\nsubject: re: lunch?\ncc: carol@example.com\n",
			BodyText:   "ok",
		},
		{
			EmailID: 555, Flags: []string{"$work"}, InternalDate: day(5, 10), SentDate: day(5, 9), Size: 50,
		},
	}
	for i := range msgs {
		msgs[i].Envelope, msgs[i].Structure = g.bytes(10, 20), g.bytes(10, 20)
	}
	return msgs
}

func testSearch(t *testing.T, s engine.MetaStore) {
	c := ctx(t)
	g := newGen(t)
	alice := newUser(t, s, "alice")
	box := newMailbox(t, s, alice, "INBOX")
	appendMsgs(t, s, alice, box.ID, searchCorpus(g)...)
	// Another user's and another mailbox's mail must never match.
	bob := newUser(t, s, "bob")
	appendMsgs(t, s, bob, newMailbox(t, s, bob, "INBOX").ID, searchCorpus(g)...)
	appendMsgs(t, s, alice, newMailbox(t, s, alice, "Other").ID, searchCorpus(g)...)
	ch, _, err := s.StoreFlags(c, alice, box.ID, set[uint32](2), engine.FlagsAdd, []string{"$Seen2"}, 0)
	must(t, err)
	modseq2 := ch[0].ModSeq

	type q = engine.SearchQuery
	flag := func(f string) *q { return &q{Op: engine.SearchFlag, Flag: f} }
	header := func(field, value string) *q { return &q{Op: engine.SearchHeader, Field: field, Value: value} }
	body := func(v string) *q { return &q{Op: engine.SearchBody, Value: v} }
	text := func(v string) *q { return &q{Op: engine.SearchText, Value: v} }
	uids := func(u ...uint32) *q { return &q{Op: engine.SearchUIDs, UIDs: set(u...)} }
	and := func(c ...*q) *q { return &q{Op: engine.SearchAnd, Children: c} }
	or := func(c ...*q) *q { return &q{Op: engine.SearchOr, Children: c} }
	not := func(c *q) *q { return &q{Op: engine.SearchNot, Children: []*q{c}} }
	deepNot := flag(engine.FlagSeen)
	for i := 0; i < 40; i++ {
		deepNot = not(deepNot)
	}
	var manyOr []*q
	for i := uint32(1); i <= 150; i++ {
		manyOr = append(manyOr, uids(i))
	}
	var manyAnd []*q
	for i := 0; i < 150; i++ {
		manyAnd = append(manyAnd, not(flag(fmt.Sprintf("$Nope%d", i))))
	}
	// Wide subtrees side by side, each below any sensible per-query limit
	// alone but not together.
	wideOr := func(hit string) *q {
		var c []*q
		for i := 0; i < 40; i++ {
			c = append(c, flag(fmt.Sprintf("$Nope%d", i)))
		}
		return or(append(c, flag(hit))...)
	}
	deepAnd := flag("$work")
	for i := 0; i < 30; i++ {
		deepAnd = and(deepAnd, not(flag(fmt.Sprintf("$Nope%d", i))))
	}

	cases := []struct {
		name string
		q    *q
		want []uint32
	}{
		{"all", &q{Op: engine.SearchAll}, []uint32{1, 2, 3, 4, 5}},
		{"seen", flag(`\Seen`), []uint32{1}},
		{"seen lower case", flag(`\seen`), []uint32{1}},
		{"keyword any case", flag("$WORK"), []uint32{1, 5}},
		{"deleted", flag(`\Deleted`), []uint32{4}},
		{"unknown keyword", flag("$Missing"), nil},
		{"unseen", not(flag(`\Seen`)), []uint32{2, 3, 4, 5}},
		{"subject", header("subject", "quarterly"), []uint32{1}},
		{"subject upper case", header("subject", "QUARTERLY REPORT"), []uint32{1}},
		{"from", header("from", "alice"), []uint32{1}},
		{"field restricts", header("subject", "alice"), nil},
		{"any field", header("", "alice"), []uint32{1}},
		{"field exists", header("cc", ""), []uint32{4}},
		{"field exists 2", header("x-priority", ""), []uint32{1}},
		{"field missing", header("bcc", ""), nil},
		{"cyrillic subject", header("subject", "привет"), []uint32{2}},
		{"cyrillic upper case", header("subject", "ПРИВЕТ, МИР"), []uint32{2}},
		{"short cjk", header("subject", "会議"), []uint32{3}},
		{"one letter", header("from", "b"), []uint32{2, 4}},
		{"body", body("quarterly numbers"), []uint32{1}},
		{"body sharp s", body("GRÖßE"), []uint32{1}},
		{"body accent", body("café"), []uint32{2}},
		{"body cjk", body("東京タワー"), []uint32{3}},
		{"body one rune", body("タ"), []uint32{3}},
		{"body two letters", body("OK"), []uint32{4}},
		{"body empty", body(""), []uint32{1, 2, 3, 4, 5}},
		{"trace field by name", header("received", "relay.example"), []uint32{1}},
		{"text skips trace fields", text("relay.example"), nil},
		{"text around a trace field", text("alice example"), []uint32{1}},
		{"body not header", body("alice"), nil},
		{"body no match", body("zzzzzz"), nil},
		{"body with quote", body(`"quarterly"`), nil},
		{"text header", text("alice"), []uint32{1}},
		{"text body", text("встреча"), []uint32{2}},
		{"text spans nothing", text("q3please"), nil},
		{"text field name", text("subject"), []uint32{1, 2, 3, 4}},
		{"or of text", or(body("quarterly"), header("subject", "lunch")), []uint32{1, 4}},
		{"or text and flag", or(text("tokyo"), flag(`\Flagged`)), []uint32{2, 3}},
		{"not text", not(text("alice")), []uint32{2, 3, 4, 5}},
		{"and not", and(flag("$work"), not(body("quarterly"))), []uint32{5}},
		{"nested", or(and(not(flag(`\Seen`)), text("example")), body("größe")), []uint32{1, 3, 4}},
		{"internal between", &q{Op: engine.SearchInternalDate, Since: day(2, 1), Before: day(4, 1)}, []uint32{2, 3}},
		{"internal since", &q{Op: engine.SearchInternalDate, Since: day(3, 10)}, []uint32{3, 4, 5}},
		{"internal before", &q{Op: engine.SearchInternalDate, Before: day(2, 10)}, []uint32{1}},
		{"sent since", &q{Op: engine.SearchSentDate, Since: day(1, 1)}, []uint32{1, 2, 4, 5}},
		{"sent before", &q{Op: engine.SearchSentDate, Before: day(3, 1)}, []uint32{1, 2}},
		{"not sent before", not(&q{Op: engine.SearchSentDate, Before: day(3, 1)}), []uint32{3, 4, 5}},
		{"larger", &q{Op: engine.SearchSize, Larger: 1000}, []uint32{2, 3}},
		{"smaller", &q{Op: engine.SearchSize, Smaller: 1000}, []uint32{4, 5}},
		{"size between", &q{Op: engine.SearchSize, Larger: 299, Smaller: 5000}, []uint32{1, 4}},
		{"modseq", &q{Op: engine.SearchModSeq, ModSeq: modseq2}, []uint32{2}},
		{"emailid", &q{Op: engine.SearchEmailID, EmailID: 222}, []uint32{2}},
		{"uid set", uids(1, 3, 99), []uint32{1, 3}},
		{"uid and", and(uids(1, 2, 3), not(flag(`\Seen`))), []uint32{2, 3}},
		{"uid or text", or(uids(5), body("quarterly")), []uint32{1, 5}},
		{"not uids", not(uids(1, 2)), []uint32{3, 4, 5}},
		{"uids in not in or", or(not(uids(1, 2, 3)), and(uids(2), text("мир"))), []uint32{2, 4, 5}},
		{"deep not", deepNot, []uint32{1}},
		{"wide or of uids", or(manyOr...), []uint32{1, 2, 3, 4, 5}},
		{"wide and", and(manyAnd...), []uint32{1, 2, 3, 4, 5}},
		{"and of wide ors", and(wideOr(`\Seen`), wideOr("$work"), wideOr("$WORK")), []uint32{1}},
		{"or of wide ors", or(wideOr(`\Deleted`), wideOr(`\Flagged`), wideOr("$none")), []uint32{2, 4}},
		{"and of deep ands", and(deepAnd, deepAnd, not(flag(`\Seen`))), []uint32{5}},
		{"or of deep and uids", or(deepAnd, and(uids(3), deepAnd), uids(4)), []uint32{1, 4, 5}},
		{"empty and", and(), []uint32{1, 2, 3, 4, 5}},
		{"empty or", or(), nil},
	}
	for _, tc := range cases {
		got, err := s.Search(c, alice, box.ID, tc.q)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !slices.Equal(got.ToArray(), tc.want) && !(got.IsEmpty() && len(tc.want) == 0) {
			t.Errorf("%s: got %v, want %v", tc.name, got.ToArray(), tc.want)
		}
	}
	_, err = s.Search(c, alice, box.ID+1000, &q{Op: engine.SearchAll})
	mustIs(t, err, engine.ErrNotFound, "Search in a missing mailbox")
}

// searchWords is the vocabulary of the search model test: mixed scripts
// and cases where lower-casing each rune is the whole of case folding.
var searchWords = []string{"Alpha", "bravo", "CHARLIE", "Délta", "ÉCHO", "straße", "Привет", "МИР", "жук", "東京", "タワー", "ok", "X", "Ωmega", "quick brown"}

var searchFields = []string{"from", "subject", "x-label", "received"}

type modelSearchMsg struct {
	uid    uint32
	modseq engine.ModSeq
	n      engine.NewMessage
	flags  []string
}

func lower(s string) string { return strings.ToLower(s) }

// matches is the reference evaluation of a search node.
func (m *modelSearchMsg) matches(q *engine.SearchQuery) bool {
	n := &m.n
	switch q.Op {
	case engine.SearchAll:
		return true
	case engine.SearchAnd:
		for _, c := range q.Children {
			if !m.matches(c) {
				return false
			}
		}
		return true
	case engine.SearchOr:
		for _, c := range q.Children {
			if m.matches(c) {
				return true
			}
		}
		return false
	case engine.SearchNot:
		return !m.matches(q.Children[0])
	case engine.SearchUIDs:
		return q.UIDs.Contains(m.uid)
	case engine.SearchFlag:
		return slices.ContainsFunc(m.flags, func(f string) bool { return strings.EqualFold(f, q.Flag) })
	case engine.SearchHeader:
		for _, line := range strings.Split(n.HeaderText, "\n") {
			name, value, ok := strings.Cut(line, ":")
			if !ok || (q.Field != "" && lower(name) != q.Field) {
				continue
			}
			if strings.Contains(lower(strings.TrimLeft(value, " ")), lower(q.Value)) {
				return true
			}
		}
		return false
	case engine.SearchBody:
		return strings.Contains(lower(n.BodyText), lower(q.Value))
	case engine.SearchText:
		var header strings.Builder
		for _, line := range strings.SplitAfter(n.HeaderText, "\n") {
			if name, _, ok := strings.Cut(line, ":"); !ok || !slices.Contains(engine.TraceFields, lower(name)) {
				header.WriteString(line)
			}
		}
		return strings.Contains(lower(header.String()), lower(q.Value)) || strings.Contains(lower(n.BodyText), lower(q.Value))
	case engine.SearchInternalDate:
		return inRange(n.InternalDate, q.Since, q.Before)
	case engine.SearchSentDate:
		return inRange(n.SentDate, q.Since, q.Before)
	case engine.SearchSize:
		return (q.Larger == 0 || n.Size > q.Larger) && (q.Smaller == 0 || n.Size < q.Smaller)
	case engine.SearchModSeq:
		return m.modseq >= q.ModSeq
	case engine.SearchEmailID:
		return n.EmailID == q.EmailID
	}
	panic(fmt.Sprintf("search op %d", q.Op))
}

func inRange(t, since, before time.Time) bool {
	if since.IsZero() && before.IsZero() {
		return true
	}
	if t.IsZero() {
		return false
	}
	return (since.IsZero() || !t.Before(since)) && (before.IsZero() || t.Before(before))
}

// needle draws a search string: a piece of a vocabulary word in some case.
func needle(t *rapid.T) string {
	w := []rune(rapid.SampledFrom(searchWords).Draw(t, "word"))
	i := rapid.IntRange(0, len(w)-1).Draw(t, "from")
	j := rapid.IntRange(i, len(w)).Draw(t, "to")
	s := string(w[i:j])
	switch rapid.IntRange(0, 2).Draw(t, "case") {
	case 0:
		return strings.ToUpper(s)
	case 1:
		return strings.ToLower(s)
	}
	return s
}

var searchDays = []time.Time{{}, day(1, 1), day(1, 15), day(2, 1), day(3, 1)}

func drawQuery(t *rapid.T, depth int, modseqs []engine.ModSeq) *engine.SearchQuery {
	type q = engine.SearchQuery
	top := 13
	if depth >= 3 {
		top = 9 // leaves only
	}
	switch rapid.IntRange(0, top).Draw(t, "node") {
	case 0:
		return &q{Op: engine.SearchAll}
	case 1:
		b := roaring.New()
		for _, u := range rapid.SliceOfN(rapid.Uint32Range(1, 30), 0, 8).Draw(t, "uids") {
			b.Add(u)
		}
		return &q{Op: engine.SearchUIDs, UIDs: b}
	case 2:
		f := rapid.SampledFrom([]string{`\Seen`, `\FLAGGED`, "$Label", "$label", "$other"}).Draw(t, "flag")
		return &q{Op: engine.SearchFlag, Flag: f}
	case 3:
		field := rapid.SampledFrom(append([]string{""}, searchFields...)).Draw(t, "field")
		v := needle(t)
		if rapid.IntRange(0, 4).Draw(t, "exists") == 0 {
			v = ""
		}
		return &q{Op: engine.SearchHeader, Field: field, Value: v}
	case 4:
		return &q{Op: engine.SearchBody, Value: needle(t)}
	case 5:
		return &q{Op: engine.SearchText, Value: needle(t)}
	case 6:
		return &q{Op: engine.SearchInternalDate, Since: rapid.SampledFrom(searchDays).Draw(t, "since"), Before: rapid.SampledFrom(searchDays).Draw(t, "before")}
	case 7:
		return &q{Op: engine.SearchSentDate, Since: rapid.SampledFrom(searchDays).Draw(t, "since"), Before: rapid.SampledFrom(searchDays).Draw(t, "before")}
	case 8:
		return &q{Op: engine.SearchSize, Larger: rapid.Int64Range(0, 3000).Draw(t, "larger"), Smaller: rapid.Int64Range(0, 3000).Draw(t, "smaller")}
	case 9:
		if rapid.Bool().Draw(t, "emailid") {
			return &q{Op: engine.SearchEmailID, EmailID: engine.EmailID(rapid.IntRange(1, 5).Draw(t, "id"))}
		}
		return &q{Op: engine.SearchModSeq, ModSeq: rapid.SampledFrom(modseqs).Draw(t, "modseq")}
	case 10, 11:
		op := engine.SearchAnd
		if rapid.Bool().Draw(t, "or") {
			op = engine.SearchOr
		}
		n := rapid.IntRange(0, 3).Draw(t, "children")
		node := &q{Op: op}
		for i := 0; i < n; i++ {
			node.Children = append(node.Children, drawQuery(t, depth+1, modseqs))
		}
		return node
	default:
		return &q{Op: engine.SearchNot, Children: []*q{drawQuery(t, depth+1, modseqs)}}
	}
}

func drawText(t *rapid.T, label string, sep string) string {
	words := rapid.SliceOfN(rapid.SampledFrom(searchWords), 0, 5).Draw(t, label)
	return strings.Join(words, sep)
}

// testSearchModel compares Search with a reference evaluation over random
// messages and random query trees.
func testSearchModel(t *testing.T, s engine.MetaStore) {
	c := t.Context()
	runs := 0
	rapid.Check(t, func(rt *rapid.T) {
		runs++
		user, err := s.CreateUser(c, engine.User{Name: fmt.Sprintf("searcher%d", runs), PasswordHash: "x"})
		if err != nil {
			rt.Fatal(err)
		}
		defer s.DeleteUser(c, user)
		box, err := s.CreateMailbox(c, user, "INBOX", "")
		if err != nil {
			rt.Fatal(err)
		}
		n := rapid.IntRange(1, 12).Draw(rt, "messages")
		msgs := make([]engine.NewMessage, n)
		for i := range msgs {
			var header strings.Builder
			for _, f := range searchFields {
				if rapid.IntRange(0, 3).Draw(rt, "has field") > 0 {
					fmt.Fprintf(&header, "%s: %s\n", f, drawText(rt, "value", " "))
				}
			}
			var sent time.Time
			if rapid.Bool().Draw(rt, "has date") {
				sent = day(1, 1).Add(time.Duration(rapid.IntRange(0, 60*24).Draw(rt, "sent")) * time.Hour)
			}
			msgs[i] = engine.NewMessage{
				EmailID:      engine.EmailID(rapid.IntRange(1, 5).Draw(rt, "emailid")),
				Flags:        subset(rt, "flags", []string{`\Seen`, `\Flagged`, "$Label"}),
				InternalDate: day(1, 1).Add(time.Duration(rapid.IntRange(0, 60*24).Draw(rt, "date")) * time.Hour),
				SentDate:     sent,
				Size:         rapid.Int64Range(0, 3000).Draw(rt, "size"),
				Envelope:     []byte("e"), Structure: []byte("s"),
				HeaderText: header.String(),
				BodyText:   drawText(rt, "body", rapid.SampledFrom([]string{" ", "\n", ""}).Draw(rt, "sep")),
			}
		}
		if _, _, err := s.Append(c, user, box.ID, msgs); err != nil {
			rt.Fatal(err)
		}
		if rapid.Bool().Draw(rt, "store") {
			if _, _, err := s.StoreFlags(c, user, box.ID, set[uint32](1, 3), engine.FlagsAdd, []string{"$other"}, 0); err != nil {
				rt.Fatal(err)
			}
		}
		if rapid.Bool().Draw(rt, "expunge") {
			if _, _, err := s.Expunge(c, user, box.ID, set[uint32](2)); err != nil {
				rt.Fatal(err)
			}
		}
		var model []modelSearchMsg
		modseqs := []engine.ModSeq{0}
		err = s.Messages(c, user, box.ID, rangeSet(1, 100), func(m *engine.MessageMeta) error {
			model = append(model, modelSearchMsg{uid: uint32(m.UID), modseq: m.ModSeq, n: msgs[m.UID-1], flags: m.Flags})
			modseqs = append(modseqs, m.ModSeq, m.ModSeq+1)
			return nil
		})
		if err != nil {
			rt.Fatal(err)
		}
		for i := 0; i < 10; i++ {
			q := drawQuery(rt, 0, modseqs)
			got, err := s.Search(c, user, box.ID, q)
			if err != nil {
				rt.Fatalf("Search(%s): %v", describe(q), err)
			}
			want := roaring.New()
			for j := range model {
				if model[j].matches(q) {
					want.Add(model[j].uid)
				}
			}
			if !got.Equals(want) {
				rt.Fatalf("Search(%s) = %v, want %v", describe(q), got.ToArray(), want.ToArray())
			}
		}
	})
}

// describe renders a query for failure messages.
func describe(q *engine.SearchQuery) string {
	switch q.Op {
	case engine.SearchAll:
		return "ALL"
	case engine.SearchAnd, engine.SearchOr, engine.SearchNot:
		name := map[engine.SearchOp]string{engine.SearchAnd: "AND", engine.SearchOr: "OR", engine.SearchNot: "NOT"}[q.Op]
		parts := make([]string, len(q.Children))
		for i, c := range q.Children {
			parts[i] = describe(c)
		}
		return name + "(" + strings.Join(parts, " ") + ")"
	case engine.SearchUIDs:
		return fmt.Sprintf("UID%v", q.UIDs.ToArray())
	case engine.SearchFlag:
		return "FLAG " + q.Flag
	case engine.SearchHeader:
		return fmt.Sprintf("HEADER %q %q", q.Field, q.Value)
	case engine.SearchBody:
		return fmt.Sprintf("BODY %q", q.Value)
	case engine.SearchText:
		return fmt.Sprintf("TEXT %q", q.Value)
	case engine.SearchInternalDate:
		return fmt.Sprintf("INTERNALDATE [%s, %s)", q.Since.Format(time.DateTime), q.Before.Format(time.DateTime))
	case engine.SearchSentDate:
		return fmt.Sprintf("SENTDATE [%s, %s)", q.Since.Format(time.DateTime), q.Before.Format(time.DateTime))
	case engine.SearchSize:
		return fmt.Sprintf("SIZE (%d, %d)", q.Larger, q.Smaller)
	case engine.SearchModSeq:
		return fmt.Sprintf("MODSEQ %d", q.ModSeq)
	case engine.SearchEmailID:
		return fmt.Sprintf("EMAILID %d", q.EmailID)
	}
	return fmt.Sprintf("op%d", q.Op)
}
