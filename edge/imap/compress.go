package imap

import (
	"bytes"

	"github.com/eidermail/eider/codec/deflate"
	imap "github.com/eidermail/eider/codec/imap"
)

// inflateChunk bounds what one Inflate call produces, so a compression
// bomb costs memory in small steps that the parser's limits judge.
const inflateChunk = 64 << 10

// cmdCompress turns on DEFLATE in both directions (RFC 4978). The OK goes
// out uncompressed; input is read through codec/deflate, which releases a
// client's partial flush at once (iOS Mail sends those), and output gets
// a sync flush after each batch of responses.
func (s *session) cmdCompress(tag string, a *imap.CompressCommand) status {
	if a.Mechanism != "DEFLATE" {
		return no(imap.CodeCannot, "unsupported compression mechanism")
	}
	if s.inflater != nil {
		return no(imap.CodeCompressionActive, "compression is already active")
	}
	s.w.OK(tag, "", "DEFLATE active")
	s.answered(tag, imap.OK)
	if err := s.out.flush(); err != nil {
		return deferred
	}
	if err := s.out.startDeflate(); err != nil {
		s.log().Error("deflate writer", "err", err)
		s.stop = true
		_ = s.conn.Close()
		return deferred
	}
	s.inflater = deflate.NewInflater(deflate.Options{MaxOutput: inflateChunk})
	// Bytes the client sent after COMPRESS are already compressed.
	// The worker inflates and parses them when this command returns.
	s.zrest = bytes.Clone(s.p.Buffered())
	s.p.Discard()
	return deferred
}
