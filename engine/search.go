package engine

import (
	"fmt"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
)

// SearchOp is the kind of a SearchQuery node.
type SearchOp uint8

// The search keys of RFC 3501/9051, CONDSTORE and WITHIN reduce to these
// nodes. Sequence numbers, \Recent, NEW/OLD, OLDER/YOUNGER and $ are resolved
// by the caller (they are session or clock state) into UIDs and date ranges,
// so a backend only sees stored facts.
const (
	SearchAll          SearchOp = iota + 1
	SearchAnd                   // every child matches
	SearchOr                    // any child matches
	SearchNot                   // the one child does not match
	SearchUIDs                  // UID in UIDs
	SearchFlag                  // has Flag (system flag or keyword, compared case-insensitively)
	SearchHeader                // Field contains Value; Field "" = any field; Value "" = the field exists
	SearchBody                  // decoded body text contains Value
	SearchText                  // header fields (but TraceFields) or body text contain Value
	SearchInternalDate          // Since <= INTERNALDATE < Before (zero = open end)
	SearchSentDate              // Since <= Date: header < Before (zero = open end)
	SearchSize                  // Larger < RFC822.SIZE < Smaller (0 = open end)
	SearchModSeq                // MODSEQ >= ModSeq
	SearchEmailID               // EMAILID equals EmailID
)

// SearchQuery is a node of a search tree. String matches are
// case-insensitive substring matches (i;unicode-casemap).
type SearchQuery struct {
	Op       SearchOp
	Children []*SearchQuery
	UIDs     *roaring.Bitmap
	Flag     string
	Field    string // lowercase header field name
	Value    string
	Since    time.Time
	Before   time.Time
	Larger   int64
	Smaller  int64
	ModSeq   ModSeq
	EmailID  EmailID
}

// MaxSearchDepth bounds the nesting of a SearchQuery tree a backend
// accepts, so that no client can make a store recurse without end.
const MaxSearchDepth = 256

// errBadQuery is the error of a malformed query tree.
var errBadQuery = fmt.Errorf("search query: %w", ErrInvalidName)

// Validate checks that q is a well-formed tree every backend can evaluate:
// known operators, one operand under NOT, at most MaxSearchDepth levels.
func (q *SearchQuery) Validate() error { return q.validate(0) }

func (q *SearchQuery) validate(depth int) error {
	if q == nil {
		return fmt.Errorf("%w: empty node", errBadQuery)
	}
	if depth > MaxSearchDepth {
		return fmt.Errorf("%w: nested deeper than %d", errBadQuery, MaxSearchDepth)
	}
	switch q.Op {
	case SearchAnd, SearchOr:
	case SearchNot:
		if len(q.Children) != 1 {
			return fmt.Errorf("%w: NOT with %d operands", errBadQuery, len(q.Children))
		}
	case SearchAll, SearchUIDs, SearchFlag, SearchHeader, SearchBody, SearchText,
		SearchInternalDate, SearchSentDate, SearchSize, SearchModSeq, SearchEmailID:
		return nil
	default:
		return fmt.Errorf("%w: unknown operator %d", errBadQuery, q.Op)
	}
	for _, c := range q.Children {
		if err := c.validate(depth + 1); err != nil {
			return err
		}
	}
	return nil
}
