package migrate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/eidermail/eider/engine"
	"github.com/eidermail/eider/engine/notify/local"
)

// maxMismatches bounds the differences a verification reports.
const maxMismatches = 20

// MismatchError is what Verify found different between the stores.
type MismatchError struct {
	Mismatches []string // the first maxMismatches differences
	More       int      // how many more there were
}

func (e *MismatchError) Error() string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "migrate: verification found %d differences:", len(e.Mismatches)+e.More)
	for _, m := range e.Mismatches {
		b.WriteString("\n\t")
		b.WriteString(m)
	}
	if e.More > 0 {
		fmt.Fprintf(&b, "\n\t... and %d more", e.More)
	}
	return b.String()
}

// verifier compares the stores after a copy.
type verifier struct {
	m        *migration
	src, dst *engine.Engine // for byte-exact rebuilds
	found    MismatchError
}

func (v *verifier) mismatch(format string, args ...any) {
	if len(v.found.Mismatches) < maxMismatches {
		v.found.Mismatches = append(v.found.Mismatches, fmt.Sprintf(format, args...))
	} else {
		v.found.More++
	}
}

// readEngine builds an engine over stores only to read messages through
// the engine's own section code. It is not closed (that would close the
// store, which belongs to the caller); its notifier is.
func readEngine(s Stores) (*engine.Engine, func(), error) {
	n := local.New()
	e, err := engine.New(engine.Config{Meta: s.Meta, Blobs: s.Blobs, Notifier: n, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, nil, err
	}
	return e, func() { n.Close() }, nil
}

func (m *migration) verify(ctx context.Context, plans []userPlan) error {
	v := &verifier{m: m}
	if m.opt.ContentSample > 0 {
		var closeSrc, closeDst func()
		var err error
		if v.src, closeSrc, err = readEngine(m.src); err != nil {
			return err
		}
		defer closeSrc()
		if v.dst, closeDst, err = readEngine(m.dst); err != nil {
			return err
		}
		defer closeDst()
	}
	for _, p := range plans {
		if err := v.user(ctx, p); err != nil {
			return fmt.Errorf("migrate: verify user %q: %w", p.user.Name, err)
		}
	}
	if len(v.found.Mismatches) > 0 {
		return &v.found
	}
	return nil
}

func (v *verifier) user(ctx context.Context, p userPlan) error {
	src, dst := v.m.src.Meta, v.m.dst.Meta
	u := p.user
	du, err := dst.UserByName(ctx, u.Name)
	if err != nil {
		return err
	}
	if du.PasswordHash != u.PasswordHash || du.QuotaBytes != u.QuotaBytes {
		v.mismatch("user %q: password hash or quota limit differ", u.Name)
	}
	qs, err := src.Quota(ctx, u.ID)
	if err != nil {
		return err
	}
	qd, err := dst.Quota(ctx, du.ID)
	if err != nil {
		return err
	}
	if qs.Used != qd.Used || qs.Messages != qd.Messages {
		v.mismatch("user %q: quota use %d bytes in %d messages, source %d in %d", u.Name, qd.Used, qd.Messages, qs.Used, qs.Messages)
	}
	as, err := src.Addresses(ctx, u.ID)
	if err != nil {
		return err
	}
	ad, err := dst.Addresses(ctx, du.ID)
	if err != nil {
		return err
	}
	for _, a := range as {
		if !slices.ContainsFunc(ad, func(b engine.Address) bool { return b.Address == a.Address && b.Alias == a.Alias }) {
			v.mismatch("user %q: address %q (alias %v) missing", u.Name, a.Address, a.Alias)
		}
	}
	ss, err := src.Subscriptions(ctx, u.ID)
	if err != nil {
		return err
	}
	sd, err := dst.Subscriptions(ctx, du.ID)
	if err != nil {
		return err
	}
	for _, name := range ss {
		if !slices.Contains(sd, name) {
			v.mismatch("user %q: subscription %q missing", u.Name, name)
		}
	}
	for _, st := range p.mailboxes {
		if err := v.mailbox(ctx, u, du.ID, st); err != nil {
			return fmt.Errorf("mailbox %q: %w", st.Name, err)
		}
	}
	return nil
}

func (v *verifier) mailbox(ctx context.Context, u engine.User, du engine.UserID, s engine.MailboxStatus) error {
	src, dst := v.m.src.Meta, v.m.dst.Meta
	where := fmt.Sprintf("user %q mailbox %q", u.Name, s.Name)
	mb, err := dst.MailboxByName(ctx, du, s.Name)
	if errors.Is(err, engine.ErrNotFound) {
		v.mismatch("%s: missing", where)
		return nil
	}
	if err != nil {
		return err
	}
	d, err := dst.Status(ctx, du, mb.ID)
	if err != nil {
		return err
	}
	if d.UIDValidity != s.UIDValidity || d.UIDNext != s.UIDNext || d.HighestModSeq != s.HighestModSeq ||
		d.SpecialUse != s.SpecialUse || d.Messages != s.Messages || d.Unseen != s.Unseen || d.Deleted != s.Deleted || d.Size != s.Size {
		v.mismatch("%s: UIDVALIDITY %d UIDNEXT %d HIGHESTMODSEQ %d use %q, %d messages (%d unseen, %d deleted, %d bytes); source %d %d %d %q, %d (%d, %d, %d)",
			where, d.UIDValidity, d.UIDNext, d.HighestModSeq, d.SpecialUse, d.Messages, d.Unseen, d.Deleted, d.Size,
			s.UIDValidity, s.UIDNext, s.HighestModSeq, s.SpecialUse, s.Messages, s.Unseen, s.Deleted, s.Size)
	}
	uS, _, err := src.UIDs(ctx, u.ID, s.ID)
	if err != nil {
		return err
	}
	uD, _, err := dst.UIDs(ctx, du, mb.ID)
	if err != nil {
		return err
	}
	if !uS.Equals(uD) {
		missing, extra := roaring.AndNot(uS, uD), roaring.AndNot(uD, uS)
		v.mismatch("%s: %d UIDs missing (first %v), %d extra (first %v)", where,
			missing.GetCardinality(), first(missing), extra.GetCardinality(), first(extra))
	}
	both := roaring.And(uS, uD)
	// Both sides are read a chunk of UIDs at a time, so memory stays flat
	// however large the mailbox.
	const chunk = 1000
	it := both.ManyIterator()
	buf := make([]uint32, chunk)
	var index int64 // position in the mailbox, for spreading the sample
	for {
		n := it.NextMany(buf)
		if n == 0 {
			return nil
		}
		set := roaring.BitmapOf(buf[:n]...)
		var metas []*engine.MessageMeta
		if err := src.Messages(ctx, u.ID, s.ID, set, func(m *engine.MessageMeta) error {
			metas = append(metas, m)
			return nil
		}); err != nil {
			return err
		}
		i := 0
		err := dst.Messages(ctx, du, mb.ID, set, func(d *engine.MessageMeta) error {
			for i < len(metas) && metas[i].UID < d.UID {
				v.mismatch("%s UID %d: missing from the destination's rows (was a store changed while verifying?)", where, metas[i].UID)
				i++
			}
			if i == len(metas) || metas[i].UID != d.UID {
				return nil
			}
			sm := metas[i]
			i++
			v.m.res.Verified++
			if diff := metaDiff(sm, d); diff != "" {
				v.mismatch("%s UID %d: %s", where, d.UID, diff)
				return nil
			}
			if v.src != nil && sampled(index, v.m.opt.ContentSample) {
				if err := v.content(ctx, u.ID, s.ID, sm, du, mb.ID, d); err != nil {
					v.mismatch("%s UID %d: %v", where, d.UID, err)
				} else {
					v.m.res.ContentVerified++
				}
			}
			index++
			return nil
		})
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// sampled reports whether message i of a mailbox is among an evenly
// spread share of them.
func sampled(i int64, share float64) bool {
	return share >= 1 || int64(float64(i+1)*share) > int64(float64(i)*share)
}

func first(b *roaring.Bitmap) any {
	if b.IsEmpty() {
		return "-"
	}
	return b.Minimum()
}

// metaDiff names what differs between two rows of the same UID, or "".
func metaDiff(a, b *engine.MessageMeta) string {
	_, za := a.InternalDate.Zone()
	_, zb := b.InternalDate.Zone()
	switch {
	case a.ModSeq != b.ModSeq:
		return fmt.Sprintf("MODSEQ %d, source %d", b.ModSeq, a.ModSeq)
	case !slices.Equal(a.Flags, b.Flags):
		return fmt.Sprintf("flags %q, source %q", b.Flags, a.Flags)
	case a.EmailID != b.EmailID:
		return fmt.Sprintf("EMAILID %d, source %d", b.EmailID, a.EmailID)
	case !a.InternalDate.Equal(b.InternalDate) || za != zb:
		return fmt.Sprintf("INTERNALDATE %s, source %s", b.InternalDate.Format(time.RFC3339Nano), a.InternalDate.Format(time.RFC3339Nano))
	case a.Size != b.Size:
		return fmt.Sprintf("RFC822.SIZE %d, source %d", b.Size, a.Size)
	case !bytes.Equal(a.Envelope, b.Envelope):
		return "ENVELOPE differs"
	case !bytes.Equal(a.Structure, b.Structure):
		return "structure differs"
	}
	return ""
}

// content rebuilds a message on both sides, as FETCH BODY[] does, and
// compares the streams byte for byte.
func (v *verifier) content(ctx context.Context, su engine.UserID, sb engine.MailboxID, sm *engine.MessageMeta, du engine.UserID, db engine.MailboxID, dm *engine.MessageMeta) error {
	open := func(e *engine.Engine, user engine.UserID, mailbox engine.MailboxID, meta *engine.MessageMeta) (*engine.Message, io.Reader, error) {
		msg, err := e.OpenMessage(ctx, user, mailbox, meta)
		if err != nil {
			return nil, nil, err
		}
		sec, err := msg.Section(engine.Section{})
		if err != nil {
			msg.Close()
			return nil, nil, err
		}
		return msg, sec.Body, nil
	}
	ms, rs, err := open(v.src, su, sb, sm)
	if err != nil {
		return fmt.Errorf("source: %w", err)
	}
	defer ms.Close()
	md, rd, err := open(v.dst, du, db, dm)
	if err != nil {
		return fmt.Errorf("destination: %w", err)
	}
	defer md.Close()
	return sameStream(rs, rd, sm.Size)
}

// sameStream compares two readers that should both yield size bytes.
func sameStream(a, b io.Reader, size int64) error {
	const piece = 64 << 10
	bufA, bufB := make([]byte, piece), make([]byte, piece)
	var off int64
	for {
		na, errA := io.ReadFull(a, bufA)
		nb, errB := io.ReadFull(b, bufB)
		if errA != nil && errA != io.EOF && errA != io.ErrUnexpectedEOF {
			return fmt.Errorf("source at byte %d: %w", off, errA)
		}
		if errB != nil && errB != io.EOF && errB != io.ErrUnexpectedEOF {
			return fmt.Errorf("destination at byte %d: %w", off, errB)
		}
		if !bytes.Equal(bufA[:na], bufB[:nb]) {
			i := 0
			for i < min(na, nb) && bufA[i] == bufB[i] {
				i++
			}
			return fmt.Errorf("content differs at byte %d", off+int64(i))
		}
		off += int64(na)
		if na < piece {
			break
		}
	}
	if off != size {
		return fmt.Errorf("content is %d bytes, RFC822.SIZE %d", off, size)
	}
	return nil
}
