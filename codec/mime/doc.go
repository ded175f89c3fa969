// Package mime splits a message stream into a MIME tree while the bytes
// arrive, keeping every byte: the pieces it hands out, concatenated, are the
// message byte for byte (bare LF line endings, 8-bit bytes and broken MIME
// included). It is the first stage of ingest.
//
//	sp := mime.NewSplitter(r, mime.Options{})
//	for {
//		p, err := sp.Next()
//		if err == io.EOF {
//			break // sp.Nodes() is the complete tree, sp.Size() the message size
//		}
//		if err != nil {
//			return err // reading r failed
//		}
//		switch p.Kind {
//		case mime.SegHeader: // sp.Node(p.Node) has its header fields parsed
//		case mime.SegBody: // leaf body bytes, p.Data valid until the next call
//		}
//	}
//
// Memory is bounded by Options.MaxHeaderBytes plus about two body chunks,
// whatever the message size; header blocks are kept (Node.Header.Raw), bodies
// are not.
//
// # How bytes are assigned
//
// Every node gets one SegHeader segment (possibly empty) and every leaf one
// SegBody segment (possibly empty), so both always start with a piece whose
// Start is true. A multipart has a SegPreamble segment only when its
// preamble is non-empty and a SegEpilogue segment only when its close
// delimiter was seen. Pieces of the delimiters and epilogue of a multipart
// carry that multipart's node index.
//
// Following RFC 2046, the line break before a delimiter line belongs to the
// delimiter, not to the content before it. A header block ends at its first
// empty line, which it includes; when a delimiter follows that empty line
// directly (an empty preamble or an empty body written without a line
// break), the delimiter has no line break of its own. A part with no empty
// line before the next delimiter has as header whatever lines precede it
// (without the last line break, which is the delimiter's) and an empty body.
//
// # Leniency
//
//   - A delimiter is "--" boundary, optionally "--", optional spaces and tabs,
//     then CRLF, LF or EOF; the whole line must fit in 4096 bytes. The
//     boundary of any open multipart is recognized, the innermost first, so
//     an outer delimiter ends inner parts that never closed. EOF ends every
//     open node.
//   - Only LF and CRLF end lines; a bare CR is an ordinary byte.
//   - A boundary longer than 1000 bytes, an empty one, or nesting deeper
//     than Options.MaxDepth keeps the multipart as a leaf.
//   - Once the tree has Options.MaxParts nodes, a delimiter line that would
//     open another part is content (close delimiters still close), and
//     multiparts and messages met later are leaves.
//   - message/rfc822 and message/global with no, 7bit, 8bit or binary
//     Content-Transfer-Encoding are descended; an encoded one is a leaf.
//   - A header longer than Options.MaxHeaderBytes ends there (mid-line if it
//     must) and the rest is body.
//   - An absent or unparsable Content-Type gives text/plain with
//     charset=us-ascii, or message/rfc822 inside multipart/digest; a
//     parsable but unknown type is reported as written.
//   - Parameters: repeated names keep the first value; RFC 2231 sections
//     are joined in section order and decoded to UTF-8 and win over a plain
//     value of the same name; plain values stay raw (RFC 2047 encoded words
//     in them are not decoded). Unquoted values run to ';' or whitespace, so
//     boundary=----=_Part_1 works.
//
// Whether a line is a delimiter never depends on how the reader delivered
// the bytes, so the tree is the same for any chunking of the input.
//
// ParseAddressList is a lenient RFC 5322 address-list parser for building
// IMAP ENVELOPE structures.
package mime
