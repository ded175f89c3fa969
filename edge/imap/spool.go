package imap

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// spoolMem is how much of a spooled message stays in memory; the rest
// goes to a temporary file.
const spoolMem = 64 << 10

// spool keeps a message that cannot be committed until the APPEND
// command ends (MULTIAPPEND): a small one in memory, a large one in an
// unlinked temporary file, so memory stays bounded.
type spool struct {
	dir  string
	mem  []byte
	f    *os.File
	size int64
}

func (sp *spool) Write(p []byte) (int, error) {
	if sp.f == nil && len(sp.mem)+len(p) <= spoolMem {
		sp.mem = append(sp.mem, p...)
		sp.size += int64(len(p))
		return len(p), nil
	}
	if sp.f == nil {
		f, err := os.CreateTemp(sp.dir, "eider-append-*")
		if err != nil {
			return 0, fmt.Errorf("spool: %w", err)
		}
		// Unlinked at once: the file lives only as long as it is open.
		_ = os.Remove(f.Name())
		sp.f = f
		if _, err := f.Write(sp.mem); err != nil {
			return 0, fmt.Errorf("spool: %w", err)
		}
		sp.mem = nil
	}
	n, err := sp.f.Write(p)
	sp.size += int64(n)
	if err != nil {
		return n, fmt.Errorf("spool: %w", err)
	}
	return n, nil
}

// reader reads the message back from the start.
func (sp *spool) reader() io.Reader {
	if sp.f == nil {
		return bytes.NewReader(sp.mem)
	}
	return io.NewSectionReader(sp.f, 0, sp.size)
}

func (sp *spool) close() {
	if sp.f != nil {
		_ = sp.f.Close()
		sp.f = nil
	}
	sp.mem = nil
}
