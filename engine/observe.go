package engine

// IngestObserver is told what ingest stores, for metrics; set it in
// IngestOptions.Observer. Its methods are called on the ingesting
// goroutine, so they must be quick and safe for concurrent use. The engine
// knows nothing of how the numbers are exported (engine/metered does).
type IngestObserver interface {
	// BlobStored reports a committed blob: decoded bytes went in, stored
	// bytes (frames, index, footer) came out. existed says an equal blob
	// was already stored (a dedup hit): the new copy was discarded and the
	// stored bytes took no space.
	BlobStored(decoded, stored int64, existed bool)
	// InlineStored reports a message row's inline segments (headers and
	// small bodies): raw bytes before and compressed bytes after zstd.
	InlineStored(raw, compressed int64)
}
