package imap

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	imap "github.com/eidermail/eider/codec/imap"
	"github.com/eidermail/eider/engine"
)

// errUnsupportedKey is a SEARCH key of an extension this server does not
// offer (SAVEDATE).
var errUnsupportedKey = errors.New("unsupported search key")

// cmdSearch answers SEARCH and UID SEARCH (RFC 9051 6.4.4) with ESEARCH
// result options (RFC 4731), SEARCHRES's SAVE (RFC 5182), CONDSTORE's
// MODSEQ and WITHIN's OLDER/YOUNGER. Sequence numbers, $, \Recent and
// relative dates are resolved here; the engine searches stored facts.
func (s *session) cmdSearch(ctx context.Context, tag string, a *imap.SearchCommand) status {
	switch a.Charset {
	case "", "UTF-8", "US-ASCII":
	default:
		return no(imap.CodeBadCharsets("UTF-8", "US-ASCII"), "unsupported charset")
	}
	v := s.sel
	b := searchBuilder{s: s, now: time.Now()}
	q, err := b.build(a.Criteria)
	if err != nil {
		return bad(err.Error())
	}
	var result *roaring.Bitmap
	if q.Op == engine.SearchAll {
		result = v.uids.Clone()
	} else {
		if result, err = s.e.Search(ctx, s.user.ID, v.mb.ID, q); err != nil {
			return s.storeError(ctx, "search", err)
		}
		result.And(v.uids)
	}
	result.AndNot(v.expunged)
	var modseq uint64
	if b.modseq && !result.IsEmpty() {
		s.ext |= extCondStore
		err := s.e.Messages(ctx, s.user.ID, v.mb.ID, result, func(m *engine.MessageMeta) error {
			modseq = max(modseq, uint64(m.ModSeq))
			return nil
		})
		if err != nil {
			return s.storeError(ctx, "search", err)
		}
	}
	ret := a.Return
	if !ret.Set && s.rev2() {
		ret = imap.SearchReturn{Set: true}
	}
	if ret.Set && !ret.Min && !ret.Max && !ret.All && !ret.Count && !ret.Save {
		ret.All = true // RETURN () means ALL
	}
	if ret.Save {
		s.saved = savedResult(result, ret)
	}
	if !ret.Set {
		nums := make([]uint32, 0, result.GetCardinality())
		it := result.Iterator()
		for it.HasNext() {
			u := it.Next()
			if a.UID {
				nums = append(nums, u)
			} else {
				nums = append(nums, v.seqOf(u))
			}
		}
		s.w.Search(nums, modseq)
		return ok("SEARCH completed")
	}
	if ret.Save && !ret.Min && !ret.Max && !ret.All && !ret.Count {
		return ok("SEARCH completed, result saved")
	}
	d := imap.ESearchData{Tag: tag, UID: a.UID, ModSeq: modseq}
	if !result.IsEmpty() {
		if ret.Min {
			d.Min = s.number(result.Minimum(), a.UID)
		}
		if ret.Max {
			d.Max = s.number(result.Maximum(), a.UID)
		}
		if ret.All {
			d.All = s.seqSetOf(result, a.UID)
		}
	}
	if ret.Count {
		d.Count, d.HasCount = uint32(result.GetCardinality()), true
	}
	s.w.ESearch(&d)
	return ok("SEARCH completed")
}

// savedResult is what SAVE keeps: only MIN and/or MAX when just those
// were asked for, else the whole result (RFC 5182 2.1).
func savedResult(result *roaring.Bitmap, ret imap.SearchReturn) *roaring.Bitmap {
	if (ret.Min || ret.Max) && !ret.All && !ret.Count && !result.IsEmpty() {
		out := roaring.New()
		if ret.Min {
			out.Add(result.Minimum())
		}
		if ret.Max {
			out.Add(result.Maximum())
		}
		return out
	}
	return result.Clone()
}

func (s *session) number(uid uint32, asUID bool) uint32 {
	if asUID {
		return uid
	}
	return s.sel.seqOf(uid)
}

type searchBuilder struct {
	s      *session
	now    time.Time
	modseq bool // MODSEQ was searched: the response carries the highest
}

func (b *searchBuilder) build(k *imap.SearchKey) (*engine.SearchQuery, error) {
	if k == nil {
		return &engine.SearchQuery{Op: engine.SearchAll}, nil
	}
	v := b.s.sel
	switch k.Op {
	case imap.SearchAll:
		return &engine.SearchQuery{Op: engine.SearchAll}, nil
	case imap.SearchAnd, imap.SearchOr:
		if len(k.Children) == 0 {
			return &engine.SearchQuery{Op: engine.SearchAll}, nil
		}
		if len(k.Children) == 1 {
			return b.build(k.Children[0])
		}
		op := engine.SearchAnd
		if k.Op == imap.SearchOr {
			op = engine.SearchOr
		}
		q := &engine.SearchQuery{Op: op, Children: make([]*engine.SearchQuery, 0, len(k.Children))}
		for _, c := range k.Children {
			cq, err := b.build(c)
			if err != nil {
				return nil, err
			}
			q.Children = append(q.Children, cq)
		}
		return q, nil
	case imap.SearchNot:
		if len(k.Children) != 1 {
			return nil, errors.New("NOT takes one key")
		}
		c, err := b.build(k.Children[0])
		if err != nil {
			return nil, err
		}
		return not(c), nil
	case imap.SearchSeqSet, imap.SearchUID:
		uids, err := b.s.resolve(k.SeqSet, k.Op == imap.SearchUID, false)
		if err != nil {
			return nil, err
		}
		return &engine.SearchQuery{Op: engine.SearchUIDs, UIDs: uids}, nil
	case imap.SearchFlag, imap.SearchNoFlag:
		var q *engine.SearchQuery
		if strings.EqualFold(k.Flag, imap.FlagRecent) {
			q = &engine.SearchQuery{Op: engine.SearchUIDs, UIDs: v.recent.Clone()}
		} else {
			q = &engine.SearchQuery{Op: engine.SearchFlag, Flag: k.Flag}
		}
		if k.Op == imap.SearchNoFlag {
			return not(q), nil
		}
		return q, nil
	case imap.SearchHeader:
		return &engine.SearchQuery{Op: engine.SearchHeader, Field: strings.ToLower(k.Field), Value: k.Value}, nil
	case imap.SearchBody:
		return &engine.SearchQuery{Op: engine.SearchBody, Value: k.Value}, nil
	case imap.SearchText:
		return &engine.SearchQuery{Op: engine.SearchText, Value: k.Value}, nil
	case imap.SearchBefore:
		return &engine.SearchQuery{Op: engine.SearchInternalDate, Before: k.Date}, nil
	case imap.SearchOn:
		return &engine.SearchQuery{Op: engine.SearchInternalDate, Since: k.Date, Before: k.Date.AddDate(0, 0, 1)}, nil
	case imap.SearchSince:
		return &engine.SearchQuery{Op: engine.SearchInternalDate, Since: k.Date}, nil
	case imap.SearchSentBefore:
		return &engine.SearchQuery{Op: engine.SearchSentDate, Before: k.Date}, nil
	case imap.SearchSentOn:
		return &engine.SearchQuery{Op: engine.SearchSentDate, Since: k.Date, Before: k.Date.AddDate(0, 0, 1)}, nil
	case imap.SearchSentSince:
		return &engine.SearchQuery{Op: engine.SearchSentDate, Since: k.Date}, nil
	case imap.SearchLarger:
		return &engine.SearchQuery{Op: engine.SearchSize, Larger: clampInt64(k.Num)}, nil
	case imap.SearchSmaller:
		return &engine.SearchQuery{Op: engine.SearchSize, Smaller: clampInt64(k.Num)}, nil
	case imap.SearchModSeq:
		b.modseq = true
		return &engine.SearchQuery{Op: engine.SearchModSeq, ModSeq: engine.ModSeq(k.Num)}, nil
	case imap.SearchOlder:
		return &engine.SearchQuery{Op: engine.SearchInternalDate, Before: b.now.Add(-seconds(k.Num))}, nil
	case imap.SearchYounger:
		return &engine.SearchQuery{Op: engine.SearchInternalDate, Since: b.now.Add(-seconds(k.Num))}, nil
	case imap.SearchEmailID:
		if id, ok := parseEmailObjectID(k.Value); ok {
			return &engine.SearchQuery{Op: engine.SearchEmailID, EmailID: id}, nil
		}
		return &engine.SearchQuery{Op: engine.SearchUIDs, UIDs: roaring.New()}, nil
	case imap.SearchThreadID:
		// No threads are kept: no message has a THREADID.
		return &engine.SearchQuery{Op: engine.SearchUIDs, UIDs: roaring.New()}, nil
	}
	return nil, errUnsupportedKey
}

func not(q *engine.SearchQuery) *engine.SearchQuery {
	return &engine.SearchQuery{Op: engine.SearchNot, Children: []*engine.SearchQuery{q}}
}

func clampInt64(n uint64) int64 {
	if n > 1<<62 {
		return 1 << 62
	}
	return int64(n)
}

func seconds(n uint64) time.Duration {
	if n > uint64(200*365*24*3600) {
		n = 200 * 365 * 24 * 3600
	}
	return time.Duration(n) * time.Second
}
