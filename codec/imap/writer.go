package imap

import (
	"encoding/base64"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode/utf8"
)

// Result is the condition of a status response.
type Result string

const (
	OK      Result = "OK"
	NO      Result = "NO"
	BAD     Result = "BAD"
	BYE     Result = "BYE"
	PREAUTH Result = "PREAUTH"
)

// Code is the content of a response code, written between brackets: an
// atom, optionally followed by its arguments in wire syntax.
type Code string

// Response codes without arguments (RFC 3501, 9051, 4315, 5530, 7162,
// 4978, 6154, 4469, 3516, 8474).
const (
	CodeAlert                Code = "ALERT"
	CodeParse                Code = "PARSE"
	CodeReadOnly             Code = "READ-ONLY"
	CodeReadWrite            Code = "READ-WRITE"
	CodeTryCreate            Code = "TRYCREATE"
	CodeNoModSeq             Code = "NOMODSEQ"
	CodeClosed               Code = "CLOSED"
	CodeOverQuota            Code = "OVERQUOTA"
	CodeLimit                Code = "LIMIT"
	CodeAlreadyExists        Code = "ALREADYEXISTS"
	CodeNonExistent          Code = "NONEXISTENT"
	CodeCannot               Code = "CANNOT"
	CodeTooBig               Code = "TOOBIG"
	CodeUnavailable          Code = "UNAVAILABLE"
	CodeAuthenticationFailed Code = "AUTHENTICATIONFAILED"
	CodeAuthorizationFailed  Code = "AUTHORIZATIONFAILED"
	CodeExpired              Code = "EXPIRED"
	CodePrivacyRequired      Code = "PRIVACYREQUIRED"
	CodeContactAdmin         Code = "CONTACTADMIN"
	CodeNoPerm               Code = "NOPERM"
	CodeInUse                Code = "INUSE"
	CodeExpungeIssued        Code = "EXPUNGEISSUED"
	CodeCorruption           Code = "CORRUPTION"
	CodeServerBug            Code = "SERVERBUG"
	CodeClientBug            Code = "CLIENTBUG"
	CodeUnknownCTE           Code = "UNKNOWN-CTE"
	CodeHasChildren          Code = "HASCHILDREN"
	CodeUIDNotSticky         Code = "UIDNOTSTICKY"
	CodeCompressionActive    Code = "COMPRESSIONACTIVE"
	CodeNotSaved             Code = "NOTSAVED"
	CodeUseAttr              Code = "USEATTR"
	CodeBadCharset           Code = "BADCHARSET"
)

func codeNum(name string, n uint64) Code {
	return Code(strconv.AppendUint(append(make([]byte, 0, len(name)+21), name...), n, 10))
}

// CodeUIDNext is [UIDNEXT n].
func CodeUIDNext(uid uint32) Code { return codeNum("UIDNEXT ", uint64(uid)) }

// CodeUIDValidity is [UIDVALIDITY n].
func CodeUIDValidity(v uint32) Code { return codeNum("UIDVALIDITY ", uint64(v)) }

// CodeUnseen is [UNSEEN n] (IMAP4rev1 SELECT).
func CodeUnseen(seq uint32) Code { return codeNum("UNSEEN ", uint64(seq)) }

// CodeHighestModSeq is [HIGHESTMODSEQ n] (CONDSTORE).
func CodeHighestModSeq(m uint64) Code { return codeNum("HIGHESTMODSEQ ", m) }

// CodeAppendUID is [APPENDUID validity uids] (UIDPLUS); several UIDs after
// MULTIAPPEND.
func CodeAppendUID(validity uint32, uids SeqSet) Code {
	b := strconv.AppendUint([]byte("APPENDUID "), uint64(validity), 10)
	b = append(b, ' ')
	return Code(uids.AppendTo(b))
}

// CodeCopyUID is [COPYUID validity source-uids destination-uids].
func CodeCopyUID(validity uint32, src, dst SeqSet) Code {
	b := strconv.AppendUint([]byte("COPYUID "), uint64(validity), 10)
	b = append(b, ' ')
	b = src.AppendTo(b)
	b = append(b, ' ')
	return Code(dst.AppendTo(b))
}

// CodeModified is [MODIFIED set]: messages STORE left alone because of
// UNCHANGEDSINCE (CONDSTORE).
func CodeModified(set SeqSet) Code { return Code(set.AppendTo([]byte("MODIFIED "))) }

// CodeCapability is [CAPABILITY ...].
func CodeCapability(caps ...string) Code {
	b := []byte("CAPABILITY")
	for _, c := range caps {
		b = append(b, ' ')
		b = append(b, c...)
	}
	return Code(b)
}

// CodePermanentFlags is [PERMANENTFLAGS (...)]; include `\*` when clients
// may create keywords.
func CodePermanentFlags(flags []string) Code {
	return Code(appendFlagList([]byte("PERMANENTFLAGS "), flags))
}

// CodeMailboxID is [MAILBOXID (id)] (OBJECTID).
func CodeMailboxID(id string) Code { return Code("MAILBOXID (" + id + ")") }

// CodeBadCharsets is [BADCHARSET (charsets)], listing those supported.
func CodeBadCharsets(charsets ...string) Code {
	b := []byte("BADCHARSET (")
	for i, c := range charsets {
		if i > 0 {
			b = append(b, ' ')
		}
		b = appendAString(b, c, false)
	}
	return Code(append(b, ')'))
}

func appendFlagList(b []byte, flags []string) []byte {
	b = append(b, '(')
	for i, f := range flags {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, f...)
	}
	return append(b, ')')
}

// Writer formats server responses onto an io.Writer, which the caller
// buffers: each response is handed over in one Write call, except FETCH
// body sections, whose content the caller writes itself. After a write
// error every method returns that error.
type Writer struct {
	w    io.Writer
	buf  []byte
	utf8 bool
	err  error
	fw   FetchWriter
}

// NewWriter returns a writer of responses onto w. Its scratch buffer is
// allocated on first use.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w}
}

// Release drops the scratch buffer, so that an idle connection holds no
// writer memory beyond the struct; it is allocated again when needed.
func (w *Writer) Release() {
	if len(w.buf) == 0 { // no FETCH response half built
		w.buf = nil
	}
}

// SetUTF8 makes mailbox names and strings go out as UTF-8 (the client
// enabled UTF8=ACCEPT or IMAP4rev2) instead of modified UTF-7 and literals.
func (w *Writer) SetUTF8(on bool) { w.utf8 = on }

// Err returns the first write error.
func (w *Writer) Err() error { return w.err }

func (w *Writer) flush() error {
	if w.err != nil {
		w.buf = w.buf[:0]
		return w.err
	}
	_, err := w.w.Write(w.buf)
	w.buf = w.buf[:0]
	if err != nil {
		w.err = fmt.Errorf("imap: write response: %w", err)
	}
	return w.err
}

func (w *Writer) end() error {
	w.buf = append(w.buf, '\r', '\n')
	return w.flush()
}

func (w *Writer) untagged(what string) {
	w.buf = append(w.buf[:0], "* "...)
	w.buf = append(w.buf, what...)
}

// StatusResponse writes "tag result [code] text"; an empty tag writes an
// untagged "*" response.
func (w *Writer) StatusResponse(tag string, r Result, code Code, text string) error {
	b := w.buf[:0]
	if tag == "" {
		b = append(b, '*')
	} else {
		b = append(b, tag...)
	}
	b = append(b, ' ')
	b = append(b, r...)
	b = append(b, ' ')
	if code != "" {
		b = append(b, '[')
		b = appendText(b, string(code))
		b = append(b, "] "...)
	}
	if text == "" {
		text = defaultText(r)
	}
	w.buf = appendText(b, text)
	return w.end()
}

func defaultText(r Result) string {
	switch r {
	case OK:
		return "completed"
	case NO:
		return "failed"
	case BAD:
		return "invalid command"
	case BYE:
		return "closing connection"
	}
	return "ready"
}

// OK writes "tag OK [code] text".
func (w *Writer) OK(tag string, code Code, text string) error {
	return w.StatusResponse(tag, OK, code, text)
}

// NO writes "tag NO [code] text".
func (w *Writer) NO(tag string, code Code, text string) error {
	return w.StatusResponse(tag, NO, code, text)
}

// BAD writes "tag BAD [code] text".
func (w *Writer) BAD(tag string, code Code, text string) error {
	return w.StatusResponse(tag, BAD, code, text)
}

// Bye writes "* BYE [code] text".
func (w *Writer) Bye(code Code, text string) error {
	return w.StatusResponse("", BYE, code, text)
}

// RejectCommand answers a command the parser refused: "tag BAD" or
// "* BAD" with the error's code and text. If e.Fatal the caller closes the
// connection next.
func (w *Writer) RejectCommand(e *ParseError) error {
	return w.StatusResponse(e.Tag, BAD, e.Code, e.ResponseText())
}

// Continue writes a continuation request "+ text".
func (w *Writer) Continue(text string) error {
	w.buf = append(w.buf[:0], "+ "...)
	w.buf = appendText(w.buf, text)
	return w.end()
}

// ContinueBase64 writes a SASL challenge "+ base64".
func (w *Writer) ContinueBase64(data []byte) error {
	w.buf = append(w.buf[:0], "+ "...)
	w.buf = base64.StdEncoding.AppendEncode(w.buf, data)
	return w.end()
}

// Capability writes "* CAPABILITY ...".
func (w *Writer) Capability(caps ...string) error {
	w.untagged("CAPABILITY")
	for _, c := range caps {
		w.buf = append(w.buf, ' ')
		w.buf = append(w.buf, c...)
	}
	return w.end()
}

// Enabled writes "* ENABLED ..." (RFC 5161).
func (w *Writer) Enabled(caps ...string) error {
	w.untagged("ENABLED")
	for _, c := range caps {
		w.buf = append(w.buf, ' ')
		w.buf = append(w.buf, c...)
	}
	return w.end()
}

func (w *Writer) numberData(n uint64, what string) error {
	w.buf = append(w.buf[:0], "* "...)
	w.buf = strconv.AppendUint(w.buf, n, 10)
	w.buf = append(w.buf, ' ')
	w.buf = append(w.buf, what...)
	return w.end()
}

// Exists writes "* n EXISTS".
func (w *Writer) Exists(n uint32) error { return w.numberData(uint64(n), "EXISTS") }

// Recent writes "* n RECENT" (IMAP4rev1).
func (w *Writer) Recent(n uint32) error { return w.numberData(uint64(n), "RECENT") }

// Expunge writes "* seq EXPUNGE".
func (w *Writer) Expunge(seq uint32) error { return w.numberData(uint64(seq), "EXPUNGE") }

// Vanished writes "* VANISHED [(EARLIER)] uids" (QRESYNC).
func (w *Writer) Vanished(uids SeqSet, earlier bool) error {
	w.untagged("VANISHED ")
	if earlier {
		w.buf = append(w.buf, "(EARLIER) "...)
	}
	w.buf = uids.AppendTo(w.buf)
	return w.end()
}

// Flags writes "* FLAGS (...)".
func (w *Writer) Flags(flags []string) error {
	w.untagged("FLAGS ")
	w.buf = appendFlagList(w.buf, flags)
	return w.end()
}

// ListData is one LIST or LSUB response.
type ListData struct {
	Attrs     []string // e.g. `\HasNoChildren`, `\Subscribed`, `\Sent`
	Delim     rune     // hierarchy delimiter; 0 writes NIL
	Mailbox   string   // UTF-8; encoded to modified UTF-7 unless UTF-8 is on
	ChildInfo []string // CHILDINFO extended data, e.g. "SUBSCRIBED" (RFC 5258)
	OldName   string   // OLDNAME extended data (RFC 9051); "" for none
}

// List writes "* LIST (attrs) delim mailbox [extended data]".
func (w *Writer) List(d *ListData) error { return w.list("LIST ", d) }

// LSub writes "* LSUB (attrs) delim mailbox".
func (w *Writer) LSub(d *ListData) error { return w.list("LSUB ", d) }

func (w *Writer) list(what string, d *ListData) error {
	w.untagged(what)
	w.buf = appendFlagList(w.buf, d.Attrs)
	w.buf = append(w.buf, ' ')
	w.buf = w.appendDelim(w.buf, d.Delim)
	w.buf = append(w.buf, ' ')
	w.buf = w.appendMailbox(w.buf, d.Mailbox)
	if len(d.ChildInfo) > 0 || d.OldName != "" {
		w.buf = append(w.buf, " ("...)
		if len(d.ChildInfo) > 0 {
			w.buf = append(w.buf, `"CHILDINFO" (`...)
			for i, c := range d.ChildInfo {
				if i > 0 {
					w.buf = append(w.buf, ' ')
				}
				w.buf = appendString(w.buf, c, false)
			}
			w.buf = append(w.buf, ')')
		}
		if d.OldName != "" {
			if len(d.ChildInfo) > 0 {
				w.buf = append(w.buf, ' ')
			}
			w.buf = append(w.buf, `"OLDNAME" (`...)
			w.buf = w.appendMailbox(w.buf, d.OldName)
			w.buf = append(w.buf, ')')
		}
		w.buf = append(w.buf, ')')
	}
	return w.end()
}

func (w *Writer) appendDelim(b []byte, d rune) []byte {
	if d == 0 {
		return append(b, "NIL"...)
	}
	b = append(b, '"')
	if d == '"' || d == '\\' {
		b = append(b, '\\')
	}
	b = utf8.AppendRune(b, d)
	return append(b, '"')
}

// appendMailbox writes a mailbox name: modified UTF-7 unless UTF-8 is on,
// always as a string so that clients never see it as NIL or an atom.
func (w *Writer) appendMailbox(b []byte, name string) []byte {
	if IsInbox(name) {
		return append(b, `"INBOX"`...)
	}
	if !w.utf8 {
		name = EncodeMailboxUTF7(name)
	}
	return appendString(b, name, w.utf8)
}

// StatusValue is one item of a STATUS response.
type StatusValue struct {
	Item  StatusItem
	Value uint64
	ID    string // StatusMailboxID
	Nil   bool   // StatusAppendLimit: no limit
}

// Status writes "* STATUS mailbox (item value ...)".
func (w *Writer) Status(mailbox string, values []StatusValue) error {
	w.untagged("STATUS ")
	w.buf = w.appendMailbox(w.buf, mailbox)
	w.buf = append(w.buf, " ("...)
	for i, v := range values {
		if i > 0 {
			w.buf = append(w.buf, ' ')
		}
		w.buf = append(w.buf, v.Item.String()...)
		w.buf = append(w.buf, ' ')
		switch {
		case v.Item == StatusMailboxID:
			w.buf = append(w.buf, '(')
			w.buf = append(w.buf, v.ID...)
			w.buf = append(w.buf, ')')
		case v.Nil:
			w.buf = append(w.buf, "NIL"...)
		default:
			w.buf = strconv.AppendUint(w.buf, v.Value, 10)
		}
	}
	w.buf = append(w.buf, ')')
	return w.end()
}

// Search writes "* SEARCH n..." and, when modSeq is not 0, the CONDSTORE
// "(MODSEQ m)".
func (w *Writer) Search(nums []uint32, modSeq uint64) error {
	w.untagged("SEARCH")
	for _, n := range nums {
		w.buf = append(w.buf, ' ')
		w.buf = strconv.AppendUint(w.buf, uint64(n), 10)
	}
	if modSeq != 0 {
		w.buf = append(w.buf, " (MODSEQ "...)
		w.buf = strconv.AppendUint(w.buf, modSeq, 10)
		w.buf = append(w.buf, ')')
	}
	return w.end()
}

// ESearchData is an ESEARCH response (RFC 4731). Zero fields are omitted,
// except Count when HasCount is set.
type ESearchData struct {
	Tag      string // the SEARCH command's tag
	UID      bool
	Min, Max uint32
	All      SeqSet
	Count    uint32
	HasCount bool
	ModSeq   uint64
}

// ESearch writes "* ESEARCH (TAG "t") [UID] MIN n MAX n ALL set COUNT n
// MODSEQ m".
func (w *Writer) ESearch(d *ESearchData) error {
	w.untagged("ESEARCH")
	if d.Tag != "" {
		w.buf = append(w.buf, ` (TAG `...)
		w.buf = appendString(w.buf, d.Tag, false)
		w.buf = append(w.buf, ')')
	}
	if d.UID {
		w.buf = append(w.buf, " UID"...)
	}
	if d.Min != 0 {
		w.buf = append(w.buf, " MIN "...)
		w.buf = strconv.AppendUint(w.buf, uint64(d.Min), 10)
	}
	if d.Max != 0 {
		w.buf = append(w.buf, " MAX "...)
		w.buf = strconv.AppendUint(w.buf, uint64(d.Max), 10)
	}
	if !d.All.IsEmpty() {
		w.buf = append(w.buf, " ALL "...)
		w.buf = d.All.AppendTo(w.buf)
	}
	if d.HasCount {
		w.buf = append(w.buf, " COUNT "...)
		w.buf = strconv.AppendUint(w.buf, uint64(d.Count), 10)
	}
	if d.ModSeq != 0 {
		w.buf = append(w.buf, " MODSEQ "...)
		w.buf = strconv.AppendUint(w.buf, d.ModSeq, 10)
	}
	return w.end()
}

// ID writes "* ID (...)", or "* ID NIL" for no fields.
func (w *Writer) ID(fields []IDField) error {
	w.untagged("ID ")
	if len(fields) == 0 {
		w.buf = append(w.buf, "NIL"...)
		return w.end()
	}
	w.buf = append(w.buf, '(')
	for i, f := range fields {
		if i > 0 {
			w.buf = append(w.buf, ' ')
		}
		w.buf = appendString(w.buf, f.Name, w.utf8)
		w.buf = append(w.buf, ' ')
		if f.ValueNil {
			w.buf = append(w.buf, "NIL"...)
		} else {
			w.buf = appendString(w.buf, f.Value, w.utf8)
		}
	}
	w.buf = append(w.buf, ')')
	return w.end()
}

// Namespace is one namespace of a NAMESPACE response.
type Namespace struct {
	Prefix string
	Delim  rune // 0 writes NIL
}

// Namespace writes "* NAMESPACE personal other shared" (RFC 2342).
func (w *Writer) Namespace(personal, other, shared []Namespace) error {
	w.untagged("NAMESPACE")
	for _, list := range [3][]Namespace{personal, other, shared} {
		w.buf = append(w.buf, ' ')
		if len(list) == 0 {
			w.buf = append(w.buf, "NIL"...)
			continue
		}
		w.buf = append(w.buf, '(')
		for _, ns := range list {
			w.buf = append(w.buf, '(')
			prefix := ns.Prefix
			if !w.utf8 {
				prefix = EncodeMailboxUTF7(prefix)
			}
			w.buf = appendString(w.buf, prefix, w.utf8)
			w.buf = append(w.buf, ' ')
			w.buf = w.appendDelim(w.buf, ns.Delim)
			w.buf = append(w.buf, ')')
		}
		w.buf = append(w.buf, ')')
	}
	return w.end()
}

// QuotaResource is one resource of a QUOTA response (RFC 9208).
type QuotaResource struct {
	Name         string // e.g. STORAGE (in KiB), MESSAGE
	Usage, Limit uint64
}

// Quota writes "* QUOTA root (name usage limit ...)".
func (w *Writer) Quota(root string, res []QuotaResource) error {
	w.untagged("QUOTA ")
	w.buf = appendString(w.buf, root, w.utf8)
	w.buf = append(w.buf, " ("...)
	for i, r := range res {
		if i > 0 {
			w.buf = append(w.buf, ' ')
		}
		w.buf = append(w.buf, r.Name...)
		w.buf = append(w.buf, ' ')
		w.buf = strconv.AppendUint(w.buf, r.Usage, 10)
		w.buf = append(w.buf, ' ')
		w.buf = strconv.AppendUint(w.buf, r.Limit, 10)
	}
	w.buf = append(w.buf, ')')
	return w.end()
}

// QuotaRoot writes "* QUOTAROOT mailbox root...".
func (w *Writer) QuotaRoot(mailbox string, roots ...string) error {
	w.untagged("QUOTAROOT ")
	w.buf = w.appendMailbox(w.buf, mailbox)
	for _, r := range roots {
		w.buf = append(w.buf, ' ')
		w.buf = appendString(w.buf, r, w.utf8)
	}
	return w.end()
}

// appendQuotedDateTime writes a quoted date-time.
func appendQuotedDateTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = AppendDateTime(b, t)
	return append(b, '"')
}
