// Package deflate is a push-fed decoder for raw DEFLATE streams (RFC 1951,
// no zlib header), as IMAP COMPRESS=DEFLATE (RFC 4978) sends them.
//
// It exists because of flush semantics. After a client's Z_SYNC_FLUSH the
// readers in compress/flate and klauspost/compress/flate return the data at
// once, but after a Z_PARTIAL_FLUSH (which iOS Mail sends) they hold it:
// they hand out decoded bytes only at the end of a stored block or when
// their window fills, and a partial flush ends with an empty fixed-Huffman
// block instead. A server reading through them waits for a command that
// the client considers sent. Inflater instead returns every byte that the
// input received so far determines, whichever block it is in.
//
// Inflater is sans-I/O: the caller feeds it the bytes that arrived and gets
// the decoded bytes appended to a slice. It never reads, never blocks, and
// keeps only the 32 KiB history and the bits of an unfinished symbol
// between calls, so input may be split anywhere, down to single bytes.
// Options.MaxOutput bounds what one call may produce.
//
// The compressing direction needs nothing from here: a flate.Writer from
// compress/flate or klauspost/compress/flate with Flush after each response
// emits sync flushes, which any inflater decodes at once.
package deflate
