package imap

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// ErrLiteralLength reports that the bytes written for a FETCH body section
// differ from the size announced for it.
var ErrLiteralLength = errors.New("body section length differs from announced size")

// FetchWriter writes one FETCH response, item by item in the order the
// methods are called. Get it from Writer.Fetch and finish with Close.
type FetchWriter struct {
	w      *Writer
	items  int
	remain int64 // bytes of a body section the caller still owes
}

// Fetch starts "* seq FETCH (". The returned writer is reused by the next
// call to Fetch.
func (w *Writer) Fetch(seq uint32) *FetchWriter {
	f := &w.fw
	*f = FetchWriter{w: w}
	w.buf = append(w.buf[:0], "* "...)
	w.buf = strconv.AppendUint(w.buf, uint64(seq), 10)
	w.buf = append(w.buf, " FETCH ("...)
	return f
}

// item starts the next item; name is written followed by a space.
func (f *FetchWriter) item(name string) {
	if f.items > 0 {
		f.w.buf = append(f.w.buf, ' ')
	}
	f.items++
	f.w.buf = append(f.w.buf, name...)
	f.w.buf = append(f.w.buf, ' ')
}

func (f *FetchWriter) owed() error {
	if f.remain != 0 {
		f.w.err = fmt.Errorf("%w: %d bytes missing", ErrLiteralLength, f.remain)
		f.remain = 0
	}
	return f.w.err
}

// UID writes "UID n".
func (f *FetchWriter) UID(uid uint32) {
	f.item("UID")
	f.w.buf = strconv.AppendUint(f.w.buf, uint64(uid), 10)
}

// Flags writes "FLAGS (...)".
func (f *FetchWriter) Flags(flags []string) {
	f.item("FLAGS")
	f.w.buf = appendFlagList(f.w.buf, flags)
}

// InternalDate writes `INTERNALDATE "17-Jul-1996 02:44:25 -0700"`.
func (f *FetchWriter) InternalDate(t time.Time) {
	f.item("INTERNALDATE")
	f.w.buf = appendQuotedDateTime(f.w.buf, t)
}

// SaveDate writes SAVEDATE with a date-time, or NIL for the zero time.
func (f *FetchWriter) SaveDate(t time.Time) {
	f.item("SAVEDATE")
	if t.IsZero() {
		f.w.buf = append(f.w.buf, "NIL"...)
		return
	}
	f.w.buf = appendQuotedDateTime(f.w.buf, t)
}

// RFC822Size writes "RFC822.SIZE n".
func (f *FetchWriter) RFC822Size(n int64) {
	f.item("RFC822.SIZE")
	f.w.buf = strconv.AppendInt(f.w.buf, n, 10)
}

// ModSeq writes "MODSEQ (n)".
func (f *FetchWriter) ModSeq(m uint64) {
	f.item("MODSEQ")
	f.w.buf = append(f.w.buf, '(')
	f.w.buf = strconv.AppendUint(f.w.buf, m, 10)
	f.w.buf = append(f.w.buf, ')')
}

// EmailID writes "EMAILID (id)" (OBJECTID).
func (f *FetchWriter) EmailID(id string) {
	f.item("EMAILID")
	f.w.buf = append(f.w.buf, '(')
	f.w.buf = append(f.w.buf, id...)
	f.w.buf = append(f.w.buf, ')')
}

// ThreadID writes "THREADID (id)", or NIL when id is empty.
func (f *FetchWriter) ThreadID(id string) {
	f.item("THREADID")
	if id == "" {
		f.w.buf = append(f.w.buf, "NIL"...)
		return
	}
	f.w.buf = append(f.w.buf, '(')
	f.w.buf = append(f.w.buf, id...)
	f.w.buf = append(f.w.buf, ')')
}

// Envelope writes "ENVELOPE (...)".
func (f *FetchWriter) Envelope(e *Envelope) {
	f.item("ENVELOPE")
	f.w.buf = f.w.appendEnvelope(f.w.buf, e)
}

// BodyStructure writes "BODYSTRUCTURE (...)" with extension data.
func (f *FetchWriter) BodyStructure(s *BodyStructure) {
	f.item("BODYSTRUCTURE")
	f.w.buf = f.w.appendBody(f.w.buf, s, true)
}

// Body writes "BODY (...)": the structure without extension data.
func (f *FetchWriter) Body(s *BodyStructure) {
	f.item("BODY")
	f.w.buf = f.w.appendBody(f.w.buf, s, false)
}

// BinarySize writes "BINARY.SIZE[part] n".
func (f *FetchWriter) BinarySize(section Section, n int64) {
	it := FetchItem{Kind: FetchBinarySize, Section: section}
	f.sectionName(it)
	f.w.buf = strconv.AppendInt(f.w.buf, n, 10)
}

func (f *FetchWriter) sectionName(it FetchItem) {
	if f.items > 0 {
		f.w.buf = append(f.w.buf, ' ')
	}
	f.items++
	f.w.buf = it.AppendResponseName(f.w.buf)
	f.w.buf = append(f.w.buf, ' ')
}

// Section starts a body section item (BODY[...], BINARY[...], RFC822,
// RFC822.HEADER, RFC822.TEXT) whose content is size bytes, and returns the
// writer through which the caller must then write exactly those bytes,
// straight to the underlying writer. literal8 announces "~{n}", which a
// BINARY section needs when its content contains NUL.
func (f *FetchWriter) Section(it FetchItem, size int64, literal8 bool) (*FetchWriter, error) {
	if err := f.owed(); err != nil {
		return nil, err
	}
	f.sectionName(it)
	if literal8 {
		f.w.buf = append(f.w.buf, '~')
	}
	f.w.buf = append(f.w.buf, '{')
	f.w.buf = strconv.AppendInt(f.w.buf, size, 10)
	f.w.buf = append(f.w.buf, "}\r\n"...)
	if err := f.w.flush(); err != nil {
		return nil, err
	}
	f.remain = size
	return f, nil
}

// Write passes body section bytes through; it refuses more than announced.
func (f *FetchWriter) Write(p []byte) (int, error) {
	if f.w.err != nil {
		return 0, f.w.err
	}
	if int64(len(p)) > f.remain {
		return 0, fmt.Errorf("%w: %d bytes too many", ErrLiteralLength, int64(len(p))-f.remain)
	}
	n, err := f.w.w.Write(p)
	f.remain -= int64(n)
	if err != nil {
		f.w.err = fmt.Errorf("imap: write response: %w", err)
		return n, f.w.err
	}
	return n, nil
}

// SectionBytes writes a body section whose content is at hand; BINARY
// content with NUL goes as literal8.
func (f *FetchWriter) SectionBytes(it FetchItem, data []byte) {
	f.sectionName(it)
	lit8 := false
	if it.Kind == FetchBinary {
		for _, c := range data {
			if c == 0 {
				lit8 = true
				break
			}
		}
	}
	if lit8 {
		f.w.buf = append(f.w.buf, '~')
	}
	f.w.buf = append(f.w.buf, '{')
	f.w.buf = strconv.AppendInt(f.w.buf, int64(len(data)), 10)
	f.w.buf = append(f.w.buf, "}\r\n"...)
	f.w.buf = append(f.w.buf, data...)
}

// SectionNil writes a body section as NIL (e.g. a part that does not
// exist).
func (f *FetchWriter) SectionNil(it FetchItem) {
	f.sectionName(it)
	f.w.buf = append(f.w.buf, "NIL"...)
}

// Close ends the response with ")" CRLF and hands it to the underlying
// writer.
func (f *FetchWriter) Close() error {
	if err := f.owed(); err != nil {
		f.w.buf = f.w.buf[:0]
		return err
	}
	f.w.buf = append(f.w.buf, ')', '\r', '\n')
	return f.w.flush()
}
