// Package testcorpus produces the mail messages that Eider's tests and
// benchmarks feed to the MIME splitter and the storage engine.
//
// A mail store must hand back every delivered byte unchanged, however broken
// the message was, so the corpus mixes ordinary mail with deliberately
// malformed input. Every case is deterministic: the same call returns the same
// bytes on every run and every platform (the package carries its own random
// number generator and uses no floating point for choices).
//
// Each Message.Note starts with one of three words:
//
//	valid:   well-formed RFC 5322 / MIME (RFC 2045-2049, 2231, 6532)
//	edge:    allowed by the RFCs but unusual enough to trip parsers
//	invalid: not valid MIME or RFC 5322; a parser must still not lose bytes
//
// The package only produces bytes; it imports nothing from Eider.
package testcorpus

// Message is one corpus entry.
type Message struct {
	Name string // stable and unique within a call, e.g. "torture/bare-lf-multipart", "gen/0042"
	Data []byte
	Note string // what it exercises; starts with "valid:", "edge:" or "invalid:"
}

// Corpus returns Torture() followed by Generate(1, 300).
func Corpus() []Message {
	return append(Torture(), Generate(1, 300)...)
}
