package mime

import "strings"

// Address is one entry of an address list as IMAP ENVELOPE needs it. A group
// is reported as a start marker (Group set), its members, and an end marker
// (GroupEnd).
type Address struct {
	Name     string // display name, raw (encoded words stay encoded), quotes removed
	Route    string // obsolete source route ("@a,@b"), usually ""
	Mailbox  string // local part, quotes removed
	Host     string // domain; a domain literal keeps its brackets
	Group    string // set on a group-start marker: the group's display name
	GroupEnd bool   // a group-end marker
}

type addrTokKind uint8

const (
	tAtom    addrTokKind = iota // atext run, dots and 8-bit bytes included
	tQuoted                     // quoted string, unescaped, without quotes
	tComment                    // comment text, unescaped, without parentheses
	tLiteral                    // domain literal, brackets kept
	tSpecial                    // one of < > @ , ; :
)

type addrTok struct {
	kind  addrTokKind
	text  string
	space bool // whitespace or a comment came before it
}

func (t addrTok) is(c byte) bool { return t.kind == tSpecial && t.text[0] == c }

// isWord reports tokens that can be part of a phrase or an addr-spec.
func (t addrTok) isWord() bool {
	return t.kind == tAtom || t.kind == tQuoted || t.kind == tLiteral
}

func tokenizeAddresses(s string) []addrTok {
	var toks []addrTok
	space := false
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			space = true
			i++
			continue
		case c == '"':
			l := lexer{s: s, i: i}
			v := l.quoted()
			toks = append(toks, addrTok{tQuoted, v, space})
			i = l.i
		case c == '(':
			l := lexer{s: s, i: i}
			v := l.comment()
			toks = append(toks, addrTok{tComment, strings.TrimSpace(v), space})
			i = l.i
			space = true
			continue
		case c == '[':
			end := strings.IndexByte(s[i:], ']')
			if end < 0 {
				end = len(s) - i - 1
			}
			toks = append(toks, addrTok{tLiteral, s[i : i+end+1], space})
			i += end + 1
		case strings.IndexByte("<>@,;:", c) >= 0:
			toks = append(toks, addrTok{tSpecial, s[i : i+1], space})
			i++
		default:
			start := i
			for i < len(s) && strings.IndexByte(" \t\r\n\"(<>@,;:[", s[i]) < 0 {
				i++
			}
			toks = append(toks, addrTok{tAtom, s[start:i], space})
		}
		space = false
	}
	return toks
}

// ParseAddressList parses an RFC 5322 address-list leniently: groups,
// comments, quoted strings, obsolete routes, missing angle brackets, UTF-8
// (RFC 6532) and garbage never panic and never fail; what cannot be made
// sense of is dropped. Display names and local parts are kept raw. With no
// display name, a comment gives the name ("j@x (John)"). A group with an
// empty name yields its members without markers.
func ParseAddressList(value string) []Address {
	toks := tokenizeAddresses(value)
	// nextGT[k] and nextSep[k] are the first '>' and the first ',' or ';'
	// at or after k, so an entry is found in time linear in its length even
	// when angle brackets never close.
	nextGT, nextSep := make([]int, len(toks)+1), make([]int, len(toks)+1)
	nextGT[len(toks)], nextSep[len(toks)] = len(toks), len(toks)
	for k := len(toks) - 1; k >= 0; k-- {
		nextGT[k], nextSep[k] = nextGT[k+1], nextSep[k+1]
		switch {
		case toks[k].is('>'):
			nextGT[k] = k
		case toks[k].is(',') || toks[k].is(';'):
			nextSep[k] = k
		}
	}
	var out []Address
	inGroup, groupMarked := false, false
	for i := 0; i < len(toks); {
		t := toks[i]
		switch {
		case t.is(','):
			i++
			continue
		case t.is(';'):
			if inGroup && groupMarked {
				out = append(out, Address{GroupEnd: true})
			}
			inGroup = false
			i++
			continue
		}
		// Find where this entry ends, and whether it opens a group.
		j, angle, at := i, -1, false
	scan:
		for ; j < len(toks); j++ {
			switch tk := toks[j]; {
			case tk.is(',') || tk.is(';'):
				break scan
			case tk.is(':') && !inGroup && angle < 0 && !at:
				break scan
			case tk.is('@'):
				at = true
			case tk.is('<'):
				angle = j
				// Inside angle brackets ',' and ':' belong to a route; the
				// entry resumes after '>' (or, unclosed, at the next ',' or ';').
				if k := nextGT[j+1]; k < len(toks) {
					j = k
				} else {
					j = nextSep[j+1] - 1
				}
			}
		}
		if j < len(toks) && toks[j].is(':') {
			name := phrase(toks[i:j])
			inGroup, groupMarked = true, name != ""
			if groupMarked {
				out = append(out, Address{Group: name})
			}
			i = j + 1
			continue
		}
		var a Address
		if angle >= 0 {
			a = angleAddress(toks[i:angle], toks[angle+1:j])
		} else {
			a = bareAddress(toks[i:j])
		}
		if a.Name != "" || a.Mailbox != "" || a.Host != "" || a.Route != "" {
			out = append(out, a)
		}
		i = j
	}
	if inGroup && groupMarked {
		out = append(out, Address{GroupEnd: true})
	}
	return out
}

// angleAddress builds "display-name <[route:]addr-spec>" from the tokens
// before '<' and those after it up to the end of the entry.
func angleAddress(name, inner []addrTok) Address {
	var a Address
	end := len(inner)
	for k, t := range inner {
		if t.is('>') {
			end = k
			break
		}
	}
	trailer := inner[min(end+1, len(inner)):]
	inner = inner[:end]
	a.Name = phrase(name)
	if len(inner) > 0 && inner[0].is('@') {
		for k, t := range inner {
			if t.is(':') {
				a.Route = joinTight(inner[:k])
				inner = inner[k+1:]
				break
			}
		}
	}
	a.Mailbox, a.Host = addrSpec(inner)
	if a.Name == "" {
		a.Name = firstComment(name, trailer, inner)
	}
	return a
}

// bareAddress builds an address written without angle brackets:
// "j@x", "j@x (John)", or leniently "John Doe j@x".
func bareAddress(all []addrTok) Address {
	toks := make([]addrTok, 0, len(all))
	for _, t := range all {
		if t.kind != tComment {
			toks = append(toks, t)
		}
	}
	if len(toks) == 0 {
		return Address{} // only comments: nothing to address
	}
	at := -1
	for k := len(toks) - 1; k >= 0; k-- {
		if toks[k].is('@') {
			at = k
			break
		}
	}
	if at < 0 {
		return Address{Mailbox: phrase(toks), Name: firstComment(all)}
	}
	// The local part is the run of words glued to the '@' (dots may be
	// spaced, as obs-local-part allows); words before it are a display name
	// someone forgot to put in angle brackets.
	start := at
	if at > 0 && toks[at-1].isWord() {
		start = at - 1
		// An '@' glued inside the local part ("a@b@c") stays in it.
		for start > 0 && (toks[start-1].isWord() || toks[start-1].is('@')) && glued(toks[start-1], toks[start]) {
			start--
		}
	}
	stop := at + 1
	if stop < len(toks) && toks[stop].isWord() {
		stop++
		for stop < len(toks) && toks[stop].isWord() && glued(toks[stop-1], toks[stop]) {
			stop++
		}
	}
	a := Address{
		Name:    phrase(toks[:start]),
		Mailbox: joinTight(toks[start:at]),
		Host:    joinTight(toks[at+1 : stop]),
	}
	if a.Name == "" {
		a.Name = firstComment(all)
	}
	return a
}

// glued reports whether b continues the same local part or domain as a:
// nothing between them, or a dot on either side.
func glued(a, b addrTok) bool {
	return !b.space || strings.HasSuffix(a.text, ".") || strings.HasPrefix(b.text, ".")
}

// addrSpec splits "local@domain" at the last '@'.
func addrSpec(toks []addrTok) (local, domain string) {
	for k := len(toks) - 1; k >= 0; k-- {
		if toks[k].is('@') {
			return joinTight(toks[:k]), joinTight(toks[k+1:])
		}
	}
	return joinTight(toks), ""
}

// phrase joins the words of a display name with single spaces where the
// input had whitespace, comments left out.
func phrase(toks []addrTok) string {
	var b strings.Builder
	for _, t := range toks {
		if t.kind == tComment {
			continue
		}
		if t.space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(t.text)
	}
	return b.String()
}

// joinTight joins tokens without spaces, comments left out.
func joinTight(toks []addrTok) string {
	var b strings.Builder
	for _, t := range toks {
		if t.kind != tComment {
			b.WriteString(t.text)
		}
	}
	return b.String()
}

func firstComment(groups ...[]addrTok) string {
	for _, toks := range groups {
		for _, t := range toks {
			if t.kind == tComment && t.text != "" {
				return t.text
			}
		}
	}
	return ""
}
