package engine

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

// AddressRules say how delivery addresses compare. The zero value is the
// default: local parts are case-insensitive and "+" starts a sub-address label.
type AddressRules struct {
	CaseSensitiveLocal bool   // compare local parts byte for byte after NFC (RFC 5321 allows it; few users expect it)
	LabelSeparator     string // "" means "+"; "-" is common on qmail-style systems
	NoLabels           bool   // turn user+label@ resolution off
}

func (r AddressRules) separator() string {
	if r.LabelSeparator == "" {
		return "+"
	}
	return r.LabelSeparator
}

// idnaProfile maps a domain to its Unicode form so that the punycode and the
// Unicode spelling of a domain are one address (RFC 5890).
var idnaProfile = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.Transitional(false))

// NormalizeDomain returns the canonical (lowercase, Unicode, NFC) form of a domain.
// Address literals ([1.2.3.4]) are returned lowercased.
func NormalizeDomain(domain string) (string, error) {
	d := strings.TrimSuffix(strings.TrimSpace(domain), ".")
	if d == "" {
		return "", fmt.Errorf("%w: empty domain", ErrInvalidName)
	}
	if strings.HasPrefix(d, "[") {
		return strings.ToLower(d), nil
	}
	u, err := idnaProfile.ToUnicode(d)
	if err != nil {
		return "", fmt.Errorf("%w: domain %q: %v", ErrInvalidName, domain, err)
	}
	return norm.NFC.String(strings.ToLower(u)), nil
}

// ParsedAddress is an address split into the parts delivery cares about.
type ParsedAddress struct {
	Local  string // without the label
	Label  string // the sub-address after the separator, "" if none
	Domain string // normalised
}

// Canonical is the address that is stored and looked up: local@domain.
func (p ParsedAddress) Canonical() string { return p.Local + "@" + p.Domain }

// ParseAddress normalises an address (RFC 6530/6531: UTF-8 local parts, IDN
// domains) and splits off a sub-address label.
func (r AddressRules) ParseAddress(addr string) (ParsedAddress, error) {
	addr = strings.TrimSpace(addr)
	addr = strings.TrimSuffix(strings.TrimPrefix(addr, "<"), ">")
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || at == len(addr)-1 {
		return ParsedAddress{}, fmt.Errorf("%w: %q is not local@domain", ErrInvalidName, addr)
	}
	local, domain := addr[:at], addr[at+1:]
	if !utf8.ValidString(local) || strings.ContainsAny(local, " \t\r\n\x00") && !strings.HasPrefix(local, `"`) {
		return ParsedAddress{}, fmt.Errorf("%w: bad local part %q", ErrInvalidName, local)
	}
	d, err := NormalizeDomain(domain)
	if err != nil {
		return ParsedAddress{}, err
	}
	local = norm.NFC.String(local)
	if !r.CaseSensitiveLocal {
		local = strings.ToLower(local)
	}
	p := ParsedAddress{Local: local, Domain: d}
	if !r.NoLabels && !strings.HasPrefix(local, `"`) {
		if i := strings.Index(local, r.separator()); i > 0 {
			p.Local, p.Label = local[:i], local[i+len(r.separator()):]
		}
	}
	return p, nil
}

// NormalizeAddress returns the canonical form of a full address, label included
// (it is what an alias or a primary address is stored as).
func (r AddressRules) NormalizeAddress(addr string) (string, error) {
	p, err := AddressRules{CaseSensitiveLocal: r.CaseSensitiveLocal, NoLabels: true}.ParseAddress(addr)
	if err != nil {
		return "", err
	}
	return p.Canonical(), nil
}

// NormalizeUserName returns the canonical form of a login name: an address is
// normalised as one; a plain name is NFC and lowercase.
func (r AddressRules) NormalizeUserName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || !utf8.ValidString(name) || strings.ContainsAny(name, " \t\r\n\x00\"") {
		return "", fmt.Errorf("%w: user name %q", ErrInvalidName, name)
	}
	if strings.Contains(name, "@") {
		return r.NormalizeAddress(name)
	}
	return strings.ToLower(norm.NFC.String(name)), nil
}
