package engine

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/eidermail/eider/codec/mime"
	"github.com/eidermail/eider/codec/transfer"
)

func sampleStructure() *Structure {
	from := []EnvelopeAddress{{Name: "Doe, John", Mailbox: "john", Host: "example.com"}}
	env := &Envelope{Date: "Mon, 2 Mar 2026 10:00:00 +0100", Subject: "hi", From: from, Sender: from, ReplyTo: from,
		To: []EnvelopeAddress{{Mailbox: "group"}, {Mailbox: "a", Host: "b.c"}, {}}, MessageID: "<m@x>"}
	layout := transfer.Layout{LineLen: 76, CRLF: true, FinalEOL: false}
	return &Structure{
		Size:  300 + layout.EncodedSize(1000),
		Blobs: []BlobID{{1, 2, 3}},
		Parts: []Part{
			{Parent: -1, Type: "multipart", Subtype: "mixed", Params: []mime.Param{{Name: "boundary", Value: "b"}}, Multipart: true,
				HeaderStart: 0, BodyStart: 100, BodyEnd: 300 + layout.EncodedSize(1000), Lines: 20, DecodedSize: 200 + layout.EncodedSize(1000)},
			{Parent: 0, Type: "text", Subtype: "plain", Params: []mime.Param{{Name: "charset", Value: "utf-8"}}, Encoding: "7bit",
				HeaderStart: 110, BodyStart: 150, BodyEnd: 160, Lines: 1, DecodedSize: 10, Language: []string{"en", "de"}},
			{Parent: 0, Type: "message", Subtype: "rfc822", Message: true, Envelope: env, HeaderStart: 170, BodyStart: 200, BodyEnd: 250, DecodedSize: 50},
			{Parent: 2, Type: "text", Subtype: "plain", HeaderStart: 200, BodyStart: 220, BodyEnd: 250, DecodedSize: 30},
			{Parent: 0, Type: "application", Subtype: "pdf", Encoding: "base64", Disposition: "attachment",
				DispParams: []mime.Param{{Name: "filename", Value: "a €.pdf"}}, MD5: "x", Location: "http://x", ContentID: "<c>", Description: "d",
				HeaderStart: 260, BodyStart: 290, BodyEnd: 290 + layout.EncodedSize(1000), DecodedSize: 1000},
		},
		Segments: []Segment{
			{Kind: SegInline, Start: 0, Len: 290, InlineOffset: 0},
			{Kind: SegBlobBase64, Start: 290, Len: layout.EncodedSize(1000), Blob: 0, Layout: layout, DecodedSize: 1000},
			{Kind: SegInline, Start: 290 + layout.EncodedSize(1000), Len: 10, InlineOffset: 290},
		},
	}
}

func TestStructureRoundTrip(t *testing.T) {
	st := sampleStructure()
	got, err := DecodeStructure(st.Encode())
	if err != nil {
		t.Fatal(err)
	}
	// Children are derived on decode.
	st.Parts[0].Children = []int{1, 2, 4}
	st.Parts[2].Children = []int{3}
	if !reflect.DeepEqual(got, st) {
		t.Fatalf("round trip differs:\n got %+v\nwant %+v", got, st)
	}
	if p, err := got.resolve([]int{2, 1}); err != nil || p != 3 {
		t.Fatalf("resolve 2.1 = %d, %v", p, err)
	}
}

func TestEnvelopeRoundTrip(t *testing.T) {
	from := []EnvelopeAddress{{Name: "Doe, John", Mailbox: "john", Host: "example.com"}}
	other := []EnvelopeAddress{{Mailbox: "list", Host: "example.org"}}
	for _, e := range []*Envelope{
		{Date: "Mon, 2 Mar 2026 10:00:00 +0100", Subject: "hi", From: from, Sender: from, ReplyTo: from, MessageID: "<m@x>"},
		{Subject: "list mail", From: from, Sender: other, ReplyTo: other, To: other},
		{Subject: "reply-to only", From: from, Sender: from, ReplyTo: other},
		{Subject: "no from"},
	} {
		got, err := DecodeEnvelope(EncodeEnvelope(e))
		if err != nil || !reflect.DeepEqual(got, e) {
			t.Fatalf("got %+v, %v; want %+v", got, err, e)
		}
	}
	// Sender and Reply-To that are From's cost nothing.
	same := &Envelope{From: from, Sender: from, ReplyTo: from}
	if n, m := len(EncodeEnvelope(same)), len(EncodeEnvelope(&Envelope{From: from})); n != m {
		t.Errorf("envelope with From's Sender and Reply-To: %d bytes, with none: %d", n, m)
	}
}

// FuzzDecodeStructure: a stored record that does not decode is an error,
// never a panic or a huge allocation; one that decodes re-encodes to the same
// bytes, and its offsets are safe to index with.
func FuzzDecodeStructure(f *testing.F) {
	f.Add(sampleStructure().Encode())
	f.Add([]byte{structureVersion, 0, 0, 0, 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, p []byte) {
		st, err := DecodeStructure(p)
		if err != nil {
			return
		}
		again, err := DecodeStructure(st.Encode())
		if err != nil {
			t.Fatalf("re-encoded structure does not decode: %v", err)
		}
		if !bytes.Equal(again.Encode(), st.Encode()) {
			t.Fatal("encoding is not stable")
		}
		for _, path := range [][]int{{1}, {1, 1}, {2, 1}, {3}} {
			st.resolve(path)
		}
	})
}

func FuzzDecodeEnvelope(f *testing.F) {
	f.Add(EncodeEnvelope(sampleStructure().Parts[2].Envelope))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, p []byte) {
		e, err := DecodeEnvelope(p)
		if err != nil {
			return
		}
		if _, err := DecodeEnvelope(EncodeEnvelope(e)); err != nil {
			t.Fatal(err)
		}
	})
}
