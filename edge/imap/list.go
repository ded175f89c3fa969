package imap

import (
	"context"
	"slices"
	"strings"
	"unicode/utf8"

	imap "github.com/eidermail/eider/codec/imap"
	"github.com/eidermail/eider/engine"
)

// listEntry is a name LIST may return: an existing mailbox, a parent
// implied by a child's name, or a subscription to a name that does not
// exist.
type listEntry struct {
	name        string
	mb          engine.Mailbox
	exists      bool
	hasChildren bool
	subscribed  bool
}

// cmdList answers LIST (with LIST-EXTENDED selection and return options,
// SPECIAL-USE and LIST-STATUS) and LSUB.
func (s *session) cmdList(ctx context.Context, a *imap.ListCommand) status {
	mbs, err := s.e.Mailboxes(ctx, s.user.ID)
	if err != nil {
		return s.storeError(ctx, "list", err)
	}
	needSubs := a.LSub || a.Select.Subscribed || a.Return.Subscribed || a.Select.RecursiveMatch
	var subs []string
	if needSubs {
		if subs, err = s.e.Meta().Subscriptions(ctx, s.user.ID); err != nil {
			return s.storeError(ctx, "list", err)
		}
	}
	entries := buildEntries(mbs, subs)

	patterns := a.Patterns
	if len(patterns) == 0 {
		patterns = []string{""}
	}
	seen := map[string]bool{}
	var out []*listEntry
	childInfo := map[string]bool{}
	for _, pat := range patterns {
		if pat == "" && a.Reference == "" || pat == "" && !a.Extended {
			// The hierarchy delimiter and root (RFC 9051 6.3.9).
			if a.LSub {
				s.w.LSub(&imap.ListData{Attrs: []string{`\Noselect`}, Delim: '/'})
			} else {
				s.w.List(&imap.ListData{Attrs: []string{`\Noselect`}, Delim: '/'})
			}
			continue
		}
		full := imap.NormalizeMailbox(a.Reference+pat, '/')
		for _, en := range entries {
			match := matchPattern(full, en.name)
			switch {
			case a.LSub:
				if !en.subscribed && !(match && hasSubscribedBelow(entries, en.name, full)) {
					continue
				}
				if !match {
					continue
				}
			case a.Select.Subscribed:
				if !match {
					continue
				}
				if !en.subscribed {
					if !(a.Select.RecursiveMatch && hasSubscribedBelow(entries, en.name, full)) {
						continue
					}
					childInfo[en.name] = true
				} else if a.Select.RecursiveMatch && hasSubscribedBelow(entries, en.name, full) {
					childInfo[en.name] = true
				}
			case a.Select.SpecialUse:
				if !match || !en.exists || en.mb.SpecialUse == "" {
					continue
				}
			default:
				if !match || (!en.exists && !en.hasChildren) {
					continue
				}
			}
			if !seen[en.name] {
				seen[en.name] = true
				out = append(out, en)
			}
		}
	}
	slices.SortFunc(out, func(x, y *listEntry) int { return compareNames(x.name, y.name) })
	for _, en := range out {
		d := &imap.ListData{Delim: '/', Mailbox: en.name}
		if a.LSub {
			if !en.subscribed {
				d.Attrs = []string{`\Noselect`}
			}
			s.w.LSub(d)
			continue
		}
		d.Attrs = s.entryAttrs(en, a.Select.Subscribed || a.Return.Subscribed)
		if childInfo[en.name] {
			d.ChildInfo = []string{"SUBSCRIBED"}
		}
		s.w.List(d)
		if len(a.Return.Status) > 0 && en.exists {
			if vals, st := s.statusValues(ctx, en.mb, a.Return.Status); st.res == "" {
				s.w.Status(en.name, vals)
			}
		}
	}
	if a.LSub {
		return ok("LSUB completed")
	}
	return ok("LIST completed")
}

// buildEntries lists every existing mailbox, every parent implied by a
// deeper name, and every subscribed name, with children known.
func buildEntries(mbs []engine.Mailbox, subs []string) []*listEntry {
	byName := make(map[string]*listEntry, len(mbs)+len(subs))
	get := func(name string) *listEntry {
		en := byName[name]
		if en == nil {
			en = &listEntry{name: name}
			byName[name] = en
		}
		return en
	}
	for _, mb := range mbs {
		en := get(mb.Name)
		en.mb, en.exists = mb, true
		en.subscribed = en.subscribed || mb.Subscribed
	}
	for _, name := range subs {
		n, err := engine.NormalizeMailboxName(name)
		if err != nil {
			continue
		}
		get(n).subscribed = true
		// Parents of a subscription may be RECURSIVEMATCH answers.
		for {
			i := strings.LastIndex(n, "/")
			if i <= 0 {
				break
			}
			n = n[:i]
			get(n)
		}
	}
	for _, mb := range mbs {
		name := mb.Name
		for {
			i := strings.LastIndex(name, "/")
			if i <= 0 {
				break
			}
			name = name[:i]
			get(name).hasChildren = true
		}
	}
	out := make([]*listEntry, 0, len(byName))
	for _, en := range byName {
		out = append(out, en)
	}
	slices.SortFunc(out, func(x, y *listEntry) int { return compareNames(x.name, y.name) })
	return out
}

// compareNames orders INBOX first, then by name.
func compareNames(a, b string) int {
	ai, bi := a == "INBOX" || strings.HasPrefix(a, "INBOX/"), b == "INBOX" || strings.HasPrefix(b, "INBOX/")
	switch {
	case ai && !bi:
		return -1
	case bi && !ai:
		return 1
	}
	return strings.Compare(a, b)
}

// hasSubscribedBelow reports whether a subscribed mailbox below name does
// not itself match pattern, which makes name a RECURSIVEMATCH parent.
func hasSubscribedBelow(entries []*listEntry, name, pattern string) bool {
	prefix := name + "/"
	for _, en := range entries {
		if en.subscribed && strings.HasPrefix(en.name, prefix) && !matchPattern(pattern, en.name) {
			return true
		}
	}
	return false
}

// entryAttrs are the LIST attributes of a name.
func (s *session) entryAttrs(en *listEntry, withSubscribed bool) []string {
	var attrs []string
	if !en.exists {
		if s.rev2() || !en.hasChildren {
			attrs = append(attrs, `\NonExistent`)
		} else {
			attrs = append(attrs, `\Noselect`)
		}
	}
	if en.exists || en.hasChildren {
		if en.hasChildren {
			attrs = append(attrs, `\HasChildren`)
		} else {
			attrs = append(attrs, `\HasNoChildren`)
		}
	}
	if withSubscribed && en.subscribed {
		attrs = append(attrs, `\Subscribed`)
	}
	if en.exists && en.mb.SpecialUse != "" {
		attrs = append(attrs, en.mb.SpecialUse)
	}
	return attrs
}

// listAttrs are the attributes of one existing mailbox (SELECT's LIST
// response in IMAP4rev2).
func (s *session) listAttrs(ctx context.Context, mb engine.Mailbox) []string {
	attrs := []string{`\HasNoChildren`}
	if mbs, err := s.e.Mailboxes(ctx, s.user.ID); err == nil {
		for _, o := range mbs {
			if strings.HasPrefix(o.Name, mb.Name+"/") {
				attrs[0] = `\HasChildren`
				break
			}
		}
	}
	if mb.SpecialUse != "" {
		attrs = append(attrs, mb.SpecialUse)
	}
	return attrs
}

// matchPattern matches a LIST pattern: "*" matches anything, "%" anything
// but the hierarchy delimiter. INBOX matches case-insensitively.
func matchPattern(pattern, name string) bool {
	pattern = collapseWildcards(pattern)
	if strings.Count(pattern, "*")+strings.Count(pattern, "%") > maxWildcards {
		return false // backtracking over that many would cost too much
	}
	if name == "INBOX" || strings.HasPrefix(name, "INBOX/") {
		if len(pattern) >= 5 && strings.EqualFold(pattern[:5], "INBOX") {
			pattern = "INBOX" + pattern[5:]
		}
	}
	return match(pattern, name)
}

// maxWildcards bounds the wildcards of one LIST pattern.
const maxWildcards = 12

// collapseWildcards merges runs of wildcards: "**" and "%*" match what "*"
// does, "%%" what "%" does.
func collapseWildcards(p string) string {
	if !strings.Contains(p, "**") && !strings.Contains(p, "%%") && !strings.Contains(p, "*%") && !strings.Contains(p, "%*") {
		return p
	}
	b := make([]byte, 0, len(p))
	for i := 0; i < len(p); i++ {
		c := p[i]
		if (c == '*' || c == '%') && len(b) > 0 && (b[len(b)-1] == '*' || b[len(b)-1] == '%') {
			if c == '*' {
				b[len(b)-1] = '*'
			}
			continue
		}
		b = append(b, c)
	}
	return string(b)
}

func match(p, n string) bool {
	for len(p) > 0 {
		switch p[0] {
		case '*', '%':
			wild := p[0]
			p = p[1:]
			if len(p) == 0 {
				return wild == '*' || !strings.Contains(n, "/")
			}
			for i := 0; i <= len(n); {
				if match(p, n[i:]) {
					return true
				}
				if i == len(n) || (wild == '%' && n[i] == '/') {
					return false
				}
				_, size := utf8.DecodeRuneInString(n[i:])
				i += size
			}
			return false
		default:
			if len(n) == 0 || n[0] != p[0] {
				return false
			}
			p, n = p[1:], n[1:]
		}
	}
	return len(n) == 0
}
