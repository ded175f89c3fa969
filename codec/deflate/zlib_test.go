package deflate

import (
	"bytes"
	"compress/flate"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"sync"
	"testing"
	"time"

	kflate "github.com/klauspost/compress/flate"
)

// zlibScript compresses chunks with the real zlib, as a COMPRESS=DEFLATE
// client does: raw deflate (wbits -15), each chunk followed by the flush
// it names. It prints, per configuration, the compressed bytes each chunk
// produced.
const zlibScript = `
import json, sys, zlib
req = json.load(sys.stdin)
modes = {"none": None, "partial": zlib.Z_PARTIAL_FLUSH, "sync": zlib.Z_SYNC_FLUSH,
         "full": zlib.Z_FULL_FLUSH, "finish": zlib.Z_FINISH}
result = []
for level, mem, strategy in req["configs"]:
    c = zlib.compressobj(level, zlib.DEFLATED, -15, mem, strategy)
    segs = []
    for data, mode in req["chunks"]:
        out = c.compress(bytes.fromhex(data))
        if modes[mode] is not None:
            out += c.flush(modes[mode])
        segs.append(out.hex())
    result.append(segs)
json.dump({"zlib": zlib.ZLIB_RUNTIME_VERSION, "segments": result}, sys.stdout)
`

type zlibChunk struct {
	data []byte
	mode string // none, partial, sync, full or finish
}

// zlibCompress runs zlibScript; configs are [level, memLevel, strategy].
func zlibCompress(t *testing.T, configs [][3]int, chunks []zlibChunk) (version string, segments [][][]byte) {
	t.Helper()
	req := struct {
		Configs [][3]int    `json:"configs"`
		Chunks  [][2]string `json:"chunks"`
	}{Configs: configs}
	for _, c := range chunks {
		req.Chunks = append(req.Chunks, [2]string{hex.EncodeToString(c.data), c.mode})
	}
	in, _ := json.Marshal(req)
	cmd := exec.Command("python3", "-c", zlibScript)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, stderr.Bytes())
	}
	var resp struct {
		Zlib     string     `json:"zlib"`
		Segments [][]string `json:"segments"`
	}
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("python3 output: %v", err)
	}
	for _, cfg := range resp.Segments {
		var segs [][]byte
		for _, h := range cfg {
			b, err := hex.DecodeString(h)
			if err != nil {
				t.Fatal(err)
			}
			segs = append(segs, b)
		}
		segments = append(segments, segs)
	}
	return resp.Zlib, segments
}

// clientSession is what an IMAP client sends after COMPRESS DEFLATE:
// short commands, each flushed, and an APPEND with a large literal.
func clientSession() []zlibChunk {
	mode := []string{"partial", "partial", "sync", "partial", "full", "partial"}
	var chunks []zlibChunk
	cmds := []string{
		"a2 CAPABILITY\r\n",
		"a3 ID (\"name\" \"iPhone Mail\" \"version\" \"21A329\" \"os\" \"iOS\")\r\n",
		"a4 LIST \"\" \"*\"\r\n",
		"a5 SELECT INBOX (CONDSTORE)\r\n",
		"a6 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345)\r\n",
		"a7 IDLE\r\n",
		"DONE\r\n",
		"",
		"a8 NOOP\r\n",
	}
	for i, c := range cmds {
		chunks = append(chunks, zlibChunk{[]byte(c), mode[i%len(mode)]})
	}
	body := textData(42, 60_000)
	chunks = append(chunks,
		zlibChunk{[]byte(fmt.Sprintf("a9 APPEND Sent {%d}\r\n", len(body)+5000)), "partial"},
		zlibChunk{body[:20_000], "none"}, // no flush: output may lag
		zlibChunk{body[20_000:], "partial"},
		zlibChunk{randomData(43, 5000), "partial"},
		zlibChunk{[]byte("\r\n"), "partial"},
		zlibChunk{nil, "partial"}, // an empty flush
		zlibChunk{repetitiveData(44, 70_000), "sync"},
		zlibChunk{[]byte("a10 NOOP\r\n"), "partial"},
		zlibChunk{[]byte("a11 LOGOUT\r\n"), "finish"},
	)
	return chunks
}

// zlib strategies.
const (
	defaultStrategy = iota
	filtered
	huffmanOnly
	rle
	fixed
)

// Configurations [level, memLevel, strategy] for the session; the first is
// what clients use.
var zlibConfigs = [][3]int{
	{6, 8, defaultStrategy}, {1, 8, defaultStrategy}, {9, 9, defaultStrategy},
	{6, 1, defaultStrategy}, {0, 8, defaultStrategy}, {6, 8, filtered},
	{6, 8, huffmanOnly}, {6, 8, rle}, {6, 8, fixed},
}

// The interpreter starts slowly, so both tests share one run.
var zlibSession struct {
	once     sync.Once
	chunks   []zlibChunk
	version  string
	segments [][][]byte
	skip     string
}

func zlibSessionSegments(t *testing.T) ([]zlibChunk, [][][]byte) {
	zlibSession.once.Do(func() {
		zlibSession.chunks = clientSession()
		if _, err := exec.LookPath("python3"); err != nil {
			zlibSession.skip = "python3 is not installed: no real zlib to test with"
			return
		}
		// Should this fail, the test that ran it reports why.
		zlibSession.skip = "running python3 failed"
		zlibSession.version, zlibSession.segments = zlibCompress(t, zlibConfigs, zlibSession.chunks)
		zlibSession.skip = ""
	})
	if zlibSession.skip != "" {
		t.Skip(zlibSession.skip)
	}
	return zlibSession.chunks, zlibSession.segments
}

// TestZlibPartialFlush checks the iOS case with zlib itself: whatever a
// flush completed, partial ones included, comes out as soon as the
// flushed bytes are fed.
func TestZlibPartialFlush(t *testing.T) {
	chunks, segments := zlibSessionSegments(t)
	configs := zlibConfigs
	t.Logf("zlib %s", zlibSession.version)
	for ci, segs := range segments {
		for _, feedName := range []string{"whole", "bytes"} {
			t.Run(fmt.Sprintf("level%d-mem%d-strategy%d/%s", configs[ci][0], configs[ci][1], configs[ci][2], feedName), func(t *testing.T) {
				sizes := wholeSize()
				if feedName == "bytes" {
					sizes = oneByte()
				}
				f := new(Inflater)
				var out, sent []byte
				for i, seg := range segs {
					var err error
					if out, err = feed(f, out, seg, sizes); err != nil {
						t.Fatalf("chunk %d: %v", i, err)
					}
					sent = append(sent, chunks[i].data...)
					if chunks[i].mode == "none" {
						if !bytes.HasPrefix(sent, out) {
							t.Fatalf("chunk %d: output is not a prefix of the input", i)
						}
						continue
					}
					if !bytes.Equal(out, sent) {
						t.Fatalf("chunk %d (%s flush): %d of %d bytes out; missing %q",
							i, chunks[i].mode, len(out), len(sent), clip(sent[min(len(out), len(sent)):]))
					}
				}
				if !f.Finished() {
					t.Fatal("stream not finished after Z_FINISH")
				}
			})
		}
	}
}

func clip(b []byte) []byte {
	if len(b) > 40 {
		return b[:40]
	}
	return b
}

// TestStdlibStallsOnPartialFlush documents why this package exists: fed a
// command that zlib completed with Z_PARTIAL_FLUSH over a connection that
// then stays open and silent, neither compress/flate nor
// klauspost/compress/flate returns the command, even once the next
// partial-flushed command has arrived. Should a future version return
// it, the test says so instead of failing.
func TestStdlibStallsOnPartialFlush(t *testing.T) {
	chunks, segments := zlibSessionSegments(t)
	segs := segments[0]
	cmd := chunks[0].data
	if chunks[0].mode != "partial" || chunks[1].mode != "partial" {
		t.Fatal("the session must start with two partial flushes")
	}

	out, _, err := new(Inflater).Inflate(nil, segs[0])
	if err != nil || !bytes.Equal(out, cmd) {
		t.Fatalf("Inflater: have %q, err %v", out, err)
	}

	readers := []struct {
		name string
		new  func(io.Reader) io.Reader
	}{
		{"compress/flate (" + runtime.Version() + ")", func(r io.Reader) io.Reader { return flate.NewReader(r) }},
		{"klauspost/compress/flate", func(r io.Reader) io.Reader { return kflate.NewReader(r) }},
	}
	for _, rd := range readers {
		pr, pw := io.Pipe() // like a connection: Read blocks until data comes
		got := make(chan []byte, 1)
		go func() {
			buf := make([]byte, 100)
			n, _ := rd.new(pr).Read(buf)
			got <- buf[:n]
		}()
		go func() {
			pw.Write(segs[0])
			pw.Write(segs[1])
		}()
		select {
		case b := <-got:
			if len(b) == 0 || !bytes.HasPrefix(cmd, b) {
				t.Errorf("%s returned %q", rd.name, b)
			} else {
				t.Logf("%s returned %q at once: it does not stall on a partial flush", rd.name, b)
			}
		case <-time.After(500 * time.Millisecond):
			t.Logf("%s stalls: nothing returned 500ms after two partial-flushed commands arrived", rd.name)
		}
		pw.Close() // ends the reader goroutine
	}
}
