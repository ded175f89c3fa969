// Package transfer handles the MIME content transfer encodings that Eider
// decodes on ingest: base64 and quoted-printable.
//
// A base64 attachment is stored decoded, so the same file delivered in many
// messages is stored once, yet FETCH BODY[] must still return the delivered
// bytes exactly. Base64Decoder therefore verifies while it decodes that the
// body is the canonical encoding of its decoded bytes under one Layout (line
// length, line ending, final line ending). When it is, the body is stored as
// decoded content plus the Layout, and Base64Range and EncodeRange regenerate
// any byte range of the original from the decoded content. When it is not,
// the decoder says so as soon as it knows, and the verified prefix plus
// Tail() plus the rest of the stream reproduce the original, so the caller can
// store the remainder raw without having buffered the body.
//
// Quoted-printable bodies get the same treatment through QPChecker and
// NewQPEncoder. The lenient readers (NewBase64Reader, NewQPReader) and Counter
// serve BINARY[] and BINARY.SIZE for bodies that were stored raw: they never
// fail and skip bad input the way common mail clients do.
//
// Choices where the RFCs leave room:
//
//   - An empty base64 body is exact with Layout{76, CRLF, no final EOL}; a body
//     that is a single line ending is exact as empty content with FinalEOL
//     (the encoding of no lines plus that line ending).
//   - A single-line base64 body sets LineLen to its own length; without a line
//     ending its ending kind never shows and CRLF is recorded.
//   - Lines over MaxLineLen (1000) characters are never canonical, so the
//     decoder holds at most one line.
//   - Decoded quoted-printable text keeps the body's line endings as they
//     are (CRLF or bare LF); a lone CR or LF that is not the layout's ending
//     is encoded as =0D or =0A.
//   - Quoted-printable has two common line-filling rules (QPLayout.Max75);
//     QPChecker accepts either, so mail from Go's and Python's encoders is
//     stored decoded.
//
// Everything here is sans-I/O apart from the io.Reader and io.Writer
// adapters: no goroutines, no global mutable state.
package transfer
