package feed

import (
	"bytes"
	"testing"
)

func TestInput(t *testing.T) {
	var in Input
	caller := []byte("a1 NOOP\r\na2 ")
	in.Feed(caller)
	if &in.Pending[0] != &caller[0] || in.Retained() != 0 {
		t.Fatal("the first feed must borrow the caller's buffer")
	}
	in.Pending = in.Pending[len("a1 NOOP\r\n"):] // the parser consumed a line
	in.Detach()
	copy(caller, "XXXXXXXXXXXX") // the caller reuses its buffer
	if string(in.Pending) != "a2 " {
		t.Fatalf("after Detach: %q", in.Pending)
	}
	in.Feed([]byte("LOGOUT\r\n"))
	if string(in.Pending) != "a2 LOGOUT\r\n" || in.Len() != 11 {
		t.Fatalf("after a second feed: %q", in.Pending)
	}
	if n := in.Drop(); n != 11 || in.Len() != 0 {
		t.Fatalf("Drop: %d, left %d", n, in.Len())
	}
	in.Feed(nil)
	in.Detach()
	if in.Pending != nil {
		t.Fatal("empty input must hold nothing")
	}
	if !bytes.Equal(caller, []byte("XXXXXXXXXXXX")) {
		t.Fatal("Input wrote into the caller's buffer")
	}
}
