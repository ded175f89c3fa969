package imap

import (
	"strconv"
	"time"
)

// SearchOp is the kind of a SEARCH key.
type SearchOp uint8

const (
	SearchAll               SearchOp = iota + 1 // ALL
	SearchAnd                                   // every child matches: "(...)" or keys side by side
	SearchOr                                    // OR: either of two children
	SearchNot                                   // NOT: the one child does not match
	SearchSeqSet                                // a sequence set of message numbers
	SearchUID                                   // UID set
	SearchFlag                                  // Flag is set: ANSWERED DELETED DRAFT FLAGGED SEEN RECENT KEYWORD
	SearchNoFlag                                // Flag is not set: UNANSWERED ... UNKEYWORD, and OLD (no \Recent)
	SearchHeader                                // header Field contains Value: BCC CC FROM SUBJECT TO HEADER
	SearchBody                                  // BODY: the body contains Value
	SearchText                                  // TEXT: header or body contains Value
	SearchBefore                                // internal date earlier than Date
	SearchOn                                    // internal date on Date
	SearchSince                                 // internal date on or after Date
	SearchSentBefore                            // Date: header earlier than Date
	SearchSentOn                                // Date: header on Date
	SearchSentSince                             // Date: header on or after Date
	SearchSavedBefore                           // save date (RFC 8514)
	SearchSavedOn                               // save date on Date
	SearchSavedSince                            // save date on or after Date
	SearchSaveDateSupported                     // SAVEDATESUPPORTED
	SearchLarger                                // RFC822.SIZE larger than Num
	SearchSmaller                               // RFC822.SIZE smaller than Num
	SearchModSeq                                // MODSEQ at least Num (CONDSTORE)
	SearchOlder                                 // internal date more than Num seconds ago (WITHIN)
	SearchYounger                               // internal date at most Num seconds ago (WITHIN)
	SearchEmailID                               // EMAILID Value (OBJECTID)
	SearchThreadID                              // THREADID Value (OBJECTID)
)

// SearchKey is a node of a SEARCH criteria tree. NEW is parsed as
// (RECENT UNSEEN) and OLD as \Recent not set, which RFC 3501 defines them
// to be.
type SearchKey struct {
	Op       SearchOp
	Children []*SearchKey // SearchAnd (any number), SearchOr (2), SearchNot (1)
	Flag     string       // SearchFlag, SearchNoFlag: canonical system flag or keyword
	Field    string       // SearchHeader: header field name as given ("From" for FROM)
	Value    string       // string argument, raw bytes in the command's charset
	Date     time.Time    // date keys: midnight UTC of the day
	Num      uint64       // LARGER, SMALLER, MODSEQ, OLDER, YOUNGER
	SeqSet   SeqSet       // SearchSeqSet, SearchUID
	// MODSEQ entry (RFC 7162): "/flags/\Seen" and priv, shared or all; empty
	// when the client gave none.
	ModSeqEntry, ModSeqEntryType string
}

// headerKeyName returns the SEARCH key that is shorthand for a header field.
func headerKeyName(field string) (string, bool) {
	switch field {
	case "Bcc":
		return "BCC", true
	case "Cc":
		return "CC", true
	case "From":
		return "FROM", true
	case "Subject":
		return "SUBJECT", true
	case "To":
		return "TO", true
	}
	return "", false
}

// flagKeyName returns the SEARCH key for a system flag being set or not.
func flagKeyName(flag string, set bool) (string, bool) {
	var on, off string
	switch flag {
	case FlagAnswered:
		on, off = "ANSWERED", "UNANSWERED"
	case FlagDeleted:
		on, off = "DELETED", "UNDELETED"
	case FlagDraft:
		on, off = "DRAFT", "UNDRAFT"
	case FlagFlagged:
		on, off = "FLAGGED", "UNFLAGGED"
	case FlagSeen:
		on, off = "SEEN", "UNSEEN"
	case FlagRecent:
		on, off = "RECENT", "OLD"
	default:
		return "", false
	}
	if set {
		return on, true
	}
	return off, true
}

// String formats the key in IMAP SEARCH syntax, e.g. `OR FROM "a" SEEN`.
func (k *SearchKey) String() string { return string(k.AppendTo(nil)) }

// AppendTo appends the key in IMAP SEARCH syntax. Strings are written as
// atoms, quoted strings or literals as their bytes require.
func (k *SearchKey) AppendTo(dst []byte) []byte {
	switch k.Op {
	case SearchAll:
		return append(dst, "ALL"...)
	case SearchAnd:
		dst = append(dst, '(')
		for i, c := range k.Children {
			if i > 0 {
				dst = append(dst, ' ')
			}
			dst = c.AppendTo(dst)
		}
		return append(dst, ')')
	case SearchOr:
		dst = append(dst, "OR "...)
		dst = k.child(0).AppendTo(dst)
		dst = append(dst, ' ')
		return k.child(1).AppendTo(dst)
	case SearchNot:
		dst = append(dst, "NOT "...)
		return k.child(0).AppendTo(dst)
	case SearchSeqSet:
		return k.SeqSet.AppendTo(dst)
	case SearchUID:
		dst = append(dst, "UID "...)
		return k.SeqSet.AppendTo(dst)
	case SearchFlag, SearchNoFlag:
		if name, ok := flagKeyName(k.Flag, k.Op == SearchFlag); ok {
			return append(dst, name...)
		}
		if k.Op == SearchFlag {
			dst = append(dst, "KEYWORD "...)
		} else {
			dst = append(dst, "UNKEYWORD "...)
		}
		return append(dst, k.Flag...)
	case SearchHeader:
		if name, ok := headerKeyName(k.Field); ok {
			dst = append(dst, name...)
		} else {
			dst = append(dst, "HEADER "...)
			dst = appendAStringASCII(dst, k.Field)
		}
		dst = append(dst, ' ')
		return appendAStringASCII(dst, k.Value)
	case SearchBody, SearchText, SearchEmailID, SearchThreadID:
		dst = append(dst, searchOpNames[k.Op]...)
		dst = append(dst, ' ')
		return appendAStringASCII(dst, k.Value)
	case SearchBefore, SearchOn, SearchSince, SearchSentBefore, SearchSentOn, SearchSentSince,
		SearchSavedBefore, SearchSavedOn, SearchSavedSince:
		dst = append(dst, searchOpNames[k.Op]...)
		dst = append(dst, ' ')
		return AppendDate(dst, k.Date)
	case SearchSaveDateSupported:
		return append(dst, "SAVEDATESUPPORTED"...)
	case SearchLarger, SearchSmaller, SearchOlder, SearchYounger:
		dst = append(dst, searchOpNames[k.Op]...)
		dst = append(dst, ' ')
		return strconv.AppendUint(dst, k.Num, 10)
	case SearchModSeq:
		dst = append(dst, "MODSEQ "...)
		if k.ModSeqEntry != "" {
			dst = appendQuotedASCII(dst, k.ModSeqEntry)
			dst = append(dst, ' ')
			dst = append(dst, k.ModSeqEntryType...)
			dst = append(dst, ' ')
		}
		return strconv.AppendUint(dst, k.Num, 10)
	}
	return append(dst, "ALL"...)
}

// child returns the i-th child, or an ALL key when a hand-built tree lacks it.
func (k *SearchKey) child(i int) *SearchKey {
	if i < len(k.Children) && k.Children[i] != nil {
		return k.Children[i]
	}
	return &SearchKey{Op: SearchAll}
}

var searchOpNames = [...]string{
	SearchBody:        "BODY",
	SearchText:        "TEXT",
	SearchEmailID:     "EMAILID",
	SearchThreadID:    "THREADID",
	SearchBefore:      "BEFORE",
	SearchOn:          "ON",
	SearchSince:       "SINCE",
	SearchSentBefore:  "SENTBEFORE",
	SearchSentOn:      "SENTON",
	SearchSentSince:   "SENTSINCE",
	SearchSavedBefore: "SAVEDBEFORE",
	SearchSavedOn:     "SAVEDON",
	SearchSavedSince:  "SAVEDSINCE",
	SearchLarger:      "LARGER",
	SearchSmaller:     "SMALLER",
	SearchOlder:       "OLDER",
	SearchYounger:     "YOUNGER",
}
