package imap

// search parses the arguments of SEARCH and UID SEARCH.
func (r *reader) search(uid bool) (*SearchCommand, error) {
	cmd := &SearchCommand{UID: uid}
	if err := r.sp(); err != nil {
		return nil, err
	}
	if r.peekKeyword("RETURN") {
		cmd.Return.Set = true
		if err := r.sp(); err != nil {
			return nil, err
		}
		if err := r.expect('('); err != nil {
			return nil, err
		}
		for n := 0; !r.peekIs(')'); n++ {
			if n > 0 {
				if err := r.sp(); err != nil {
					return nil, err
				}
			}
			kw, err := r.keyword()
			if err != nil {
				return nil, err
			}
			switch string(kw) {
			case "MIN":
				cmd.Return.Min = true
			case "MAX":
				cmd.Return.Max = true
			case "ALL":
				cmd.Return.All = true
			case "COUNT":
				cmd.Return.Count = true
			case "SAVE":
				cmd.Return.Save = true
			default:
				return nil, failf(ErrSyntax, "unknown SEARCH return option %q", safeText(string(kw)))
			}
		}
		r.i++
		// RFC 4731: RETURN () is RETURN (ALL).
		if ret := cmd.Return; !ret.Min && !ret.Max && !ret.All && !ret.Count && !ret.Save {
			cmd.Return.All = true
		}
		if err := r.sp(); err != nil {
			return nil, err
		}
	}
	if r.peekKeyword("CHARSET") {
		if err := r.sp(); err != nil {
			return nil, err
		}
		cs, err := r.astringBytes()
		if err != nil {
			return nil, err
		}
		cmd.Charset = upperString(cs)
		if err := r.sp(); err != nil {
			return nil, err
		}
	}
	var keys []*SearchKey
	for {
		k, err := r.searchKey()
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
		if r.atEnd() {
			break
		}
		if err := r.sp(); err != nil {
			return nil, err
		}
	}
	if err := r.end(); err != nil {
		return nil, err
	}
	if len(keys) == 1 {
		cmd.Criteria = keys[0]
	} else {
		cmd.Criteria = &SearchKey{Op: SearchAnd, Children: keys}
	}
	return cmd, nil
}

// peekKeyword consumes the atom kw (any case) when it comes next and is
// followed by a space.
func (r *reader) peekKeyword(kw string) bool {
	end := r.i + len(kw)
	if end >= len(r.b) || r.b[end] != ' ' {
		return false
	}
	for k := 0; k < len(kw); k++ {
		c := r.b[r.i+k]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != kw[k] {
			return false
		}
	}
	r.i = end
	return true
}

// ParseSearchCriteria parses search keys as they follow "SEARCH [CHARSET x]",
// for tools, tests and stored searches; literals must be complete.
func ParseSearchCriteria(s string) (*SearchKey, error) {
	r := &reader{b: []byte(s), maxDepth: DefaultMaxDepth}
	var keys []*SearchKey
	for {
		k, err := r.searchKey()
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
		if r.atEnd() {
			break
		}
		if err := r.sp(); err != nil {
			return nil, err
		}
	}
	if len(keys) == 1 {
		return keys[0], nil
	}
	return &SearchKey{Op: SearchAnd, Children: keys}, nil
}

func (r *reader) searchKey() (*SearchKey, error) {
	c, ok := r.peek()
	if !ok {
		return nil, r.eof()
	}
	if c == '(' {
		if err := r.enter(); err != nil {
			return nil, err
		}
		r.i++
		var keys []*SearchKey
		for {
			k, err := r.searchKey()
			if err != nil {
				return nil, err
			}
			keys = append(keys, k)
			if r.peekIs(')') {
				r.i++
				break
			}
			if r.atEnd() && !r.partial {
				return nil, failf(ErrParens, "missing )")
			}
			if err := r.sp(); err != nil {
				return nil, err
			}
		}
		r.leave()
		if len(keys) == 1 {
			return keys[0], nil
		}
		return &SearchKey{Op: SearchAnd, Children: keys}, nil
	}
	if c >= '0' && c <= '9' || c == '*' || c == '$' {
		set, err := r.seqSet()
		if err != nil {
			return nil, err
		}
		return &SearchKey{Op: SearchSeqSet, SeqSet: set}, nil
	}
	kw, err := r.keyword()
	if err != nil {
		return nil, err
	}
	switch string(kw) {
	case "ALL":
		return &SearchKey{Op: SearchAll}, nil
	case "ANSWERED":
		return &SearchKey{Op: SearchFlag, Flag: FlagAnswered}, nil
	case "DELETED":
		return &SearchKey{Op: SearchFlag, Flag: FlagDeleted}, nil
	case "DRAFT":
		return &SearchKey{Op: SearchFlag, Flag: FlagDraft}, nil
	case "FLAGGED":
		return &SearchKey{Op: SearchFlag, Flag: FlagFlagged}, nil
	case "RECENT":
		return &SearchKey{Op: SearchFlag, Flag: FlagRecent}, nil
	case "SEEN":
		return &SearchKey{Op: SearchFlag, Flag: FlagSeen}, nil
	case "UNANSWERED":
		return &SearchKey{Op: SearchNoFlag, Flag: FlagAnswered}, nil
	case "UNDELETED":
		return &SearchKey{Op: SearchNoFlag, Flag: FlagDeleted}, nil
	case "UNDRAFT":
		return &SearchKey{Op: SearchNoFlag, Flag: FlagDraft}, nil
	case "UNFLAGGED":
		return &SearchKey{Op: SearchNoFlag, Flag: FlagFlagged}, nil
	case "UNSEEN":
		return &SearchKey{Op: SearchNoFlag, Flag: FlagSeen}, nil
	case "NEW":
		return &SearchKey{Op: SearchAnd, Children: []*SearchKey{
			{Op: SearchFlag, Flag: FlagRecent}, {Op: SearchNoFlag, Flag: FlagSeen}}}, nil
	case "OLD":
		return &SearchKey{Op: SearchNoFlag, Flag: FlagRecent}, nil
	case "KEYWORD", "UNKEYWORD":
		op := SearchFlag
		if kw[0] == 'U' {
			op = SearchNoFlag
		}
		if err := r.sp(); err != nil {
			return nil, err
		}
		f, err := r.flag()
		if err != nil {
			return nil, err
		}
		return &SearchKey{Op: op, Flag: f}, nil
	case "BCC", "CC", "FROM", "SUBJECT", "TO":
		field := headerFieldFor(kw)
		v, err := r.spAString()
		if err != nil {
			return nil, err
		}
		return &SearchKey{Op: SearchHeader, Field: field, Value: v}, nil
	case "HEADER":
		field, err := r.spAString()
		if err != nil {
			return nil, err
		}
		v, err := r.spAString()
		if err != nil {
			return nil, err
		}
		return &SearchKey{Op: SearchHeader, Field: field, Value: v}, nil
	case "BODY", "TEXT":
		op := SearchBody
		if kw[0] == 'T' {
			op = SearchText
		}
		v, err := r.spAString()
		if err != nil {
			return nil, err
		}
		return &SearchKey{Op: op, Value: v}, nil
	case "BEFORE", "ON", "SINCE", "SENTBEFORE", "SENTON", "SENTSINCE", "SAVEDBEFORE", "SAVEDON", "SAVEDSINCE":
		op := dateSearchOp(kw)
		if err := r.sp(); err != nil {
			return nil, err
		}
		d, err := r.date()
		if err != nil {
			return nil, err
		}
		return &SearchKey{Op: op, Date: d}, nil
	case "SAVEDATESUPPORTED":
		return &SearchKey{Op: SearchSaveDateSupported}, nil
	case "LARGER", "SMALLER":
		op := SearchLarger
		if kw[0] == 'S' {
			op = SearchSmaller
		}
		if err := r.sp(); err != nil {
			return nil, err
		}
		n, err := r.number64()
		if err != nil {
			return nil, err
		}
		return &SearchKey{Op: op, Num: n}, nil
	case "OLDER", "YOUNGER":
		op := SearchOlder
		if kw[0] == 'Y' {
			op = SearchYounger
		}
		if err := r.sp(); err != nil {
			return nil, err
		}
		n, err := r.nzNumber()
		if err != nil {
			return nil, err
		}
		return &SearchKey{Op: op, Num: uint64(n)}, nil
	case "UID":
		if err := r.sp(); err != nil {
			return nil, err
		}
		set, err := r.seqSet()
		if err != nil {
			return nil, err
		}
		return &SearchKey{Op: SearchUID, SeqSet: set}, nil
	case "NOT":
		if err := r.enter(); err != nil {
			return nil, err
		}
		if err := r.sp(); err != nil {
			return nil, err
		}
		k, err := r.searchKey()
		if err != nil {
			return nil, err
		}
		r.leave()
		return &SearchKey{Op: SearchNot, Children: []*SearchKey{k}}, nil
	case "OR":
		if err := r.enter(); err != nil {
			return nil, err
		}
		if err := r.sp(); err != nil {
			return nil, err
		}
		a, err := r.searchKey()
		if err != nil {
			return nil, err
		}
		if err := r.sp(); err != nil {
			return nil, err
		}
		b, err := r.searchKey()
		if err != nil {
			return nil, err
		}
		r.leave()
		return &SearchKey{Op: SearchOr, Children: []*SearchKey{a, b}}, nil
	case "MODSEQ":
		return r.searchModSeq()
	case "EMAILID", "THREADID":
		op := SearchEmailID
		if kw[0] == 'T' {
			op = SearchThreadID
		}
		if err := r.sp(); err != nil {
			return nil, err
		}
		id, err := r.objectID()
		if err != nil {
			return nil, err
		}
		return &SearchKey{Op: op, Value: id}, nil
	}
	return nil, failf(ErrSyntax, "unknown search key %q", safeText(string(kw)))
}

func (r *reader) spAString() (string, error) {
	if err := r.sp(); err != nil {
		return "", err
	}
	return r.astring()
}

func headerFieldFor(kw []byte) string {
	switch string(kw) {
	case "BCC":
		return "Bcc"
	case "CC":
		return "Cc"
	case "FROM":
		return "From"
	case "SUBJECT":
		return "Subject"
	}
	return "To"
}

func dateSearchOp(kw []byte) SearchOp {
	switch string(kw) {
	case "BEFORE":
		return SearchBefore
	case "ON":
		return SearchOn
	case "SINCE":
		return SearchSince
	case "SENTBEFORE":
		return SearchSentBefore
	case "SENTON":
		return SearchSentOn
	case "SENTSINCE":
		return SearchSentSince
	case "SAVEDBEFORE":
		return SearchSavedBefore
	case "SAVEDON":
		return SearchSavedOn
	}
	return SearchSavedSince
}

// searchModSeq reads the rest of MODSEQ [SP entry-name SP entry-type-req]
// SP mod-sequence-valzer (RFC 7162 section 3.1.5).
func (r *reader) searchModSeq() (*SearchKey, error) {
	k := &SearchKey{Op: SearchModSeq}
	if err := r.sp(); err != nil {
		return nil, err
	}
	if r.peekIs('"') {
		entry, err := r.quoted()
		if err != nil {
			return nil, err
		}
		if len(entry) < 8 || !equalFoldASCII(string(entry[:7]), "/flags/") {
			return nil, failf(ErrSyntax, "MODSEQ entry must name /flags/")
		}
		k.ModSeqEntry = string(entry)
		if err := r.sp(); err != nil {
			return nil, err
		}
		typ, err := r.keyword()
		if err != nil {
			return nil, err
		}
		switch string(typ) {
		case "PRIV":
			k.ModSeqEntryType = "priv"
		case "SHARED":
			k.ModSeqEntryType = "shared"
		case "ALL":
			k.ModSeqEntryType = "all"
		default:
			return nil, failf(ErrSyntax, "MODSEQ entry type must be priv, shared or all")
		}
		if err := r.sp(); err != nil {
			return nil, err
		}
	}
	n, err := r.number64()
	if err != nil {
		return nil, err
	}
	k.Num = n
	return k, nil
}

// objectID reads an OBJECTID value: 1*255(ALPHA / DIGIT / "_" / "-").
func (r *reader) objectID() (string, error) {
	start := r.i
	for r.i < len(r.b) {
		c := r.b[r.i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			break
		}
		r.i++
	}
	if r.i == start {
		return "", r.unexpected("object id")
	}
	if r.i-start > 255 {
		return "", failf(ErrSyntax, "object id longer than 255")
	}
	return string(r.b[start:r.i]), nil
}
