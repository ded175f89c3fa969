package frames

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/zeebo/blake3"
	"pgregory.net/rapid"
)

// tb is what both testing.TB and rapid.T provide.
type tb interface {
	Helper()
	Fatalf(format string, args ...any)
}

// build writes data into a container, in chunks of chunk bytes (0: one Write).
func build(t tb, data []byte, opt Options, chunk int) ([]byte, Summary) {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf, opt)
	if chunk <= 0 {
		chunk = max(len(data), 1)
	}
	for p := data; len(p) > 0; {
		k := min(chunk, len(p))
		n, err := w.Write(p[:k])
		if err != nil || n != k {
			t.Fatalf("Write: %d, %v", n, err)
		}
		p = p[k:]
	}
	sum, err := w.Close()
	if err != nil {
		t.Fatalf("Close: %v", err)
	}
	return buf.Bytes(), sum
}

func open(t tb, c []byte) *Reader {
	t.Helper()
	r, err := Open(bytes.NewReader(c), int64(len(c)))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return r
}

// checkContainer reads c back every way a caller can and compares with data.
func checkContainer(t *testing.T, c, data []byte, sum Summary, rng *rand.Rand) {
	t.Helper()
	if sum.Hash != blake3.Sum256(data) {
		t.Fatalf("summary hash %x, want BLAKE3 of the input", sum.Hash)
	}
	if sum.DecodedSize != int64(len(data)) || sum.StoredSize != int64(len(c)) {
		t.Fatalf("summary sizes %d/%d, want %d/%d", sum.DecodedSize, sum.StoredSize, len(data), len(c))
	}
	r := open(t, c)
	defer r.Close()
	if r.Size() != int64(len(data)) || r.Frames() != sum.Frames || r.Hash() != sum.Hash {
		t.Fatalf("reader size %d frames %d, want %d %d", r.Size(), r.Frames(), len(data), sum.Frames)
	}
	if err := r.Verify(); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	all := make([]byte, len(data)+10)
	n, err := r.ReadAt(all, 0)
	if n != len(data) || err != io.EOF || !bytes.Equal(all[:n], data) {
		t.Fatalf("ReadAt whole+10: n=%d err=%v equal=%v", n, err, bytes.Equal(all[:n], data))
	}
	for range 60 {
		// Ranges up to 1 MiB: what a partial FETCH asks; whole-content reads
		// are covered above.
		off := rng.IntN(len(data) + 1)
		end := off + rng.IntN(min(len(data)-off, 1<<20)+1)
		p := make([]byte, end-off)
		n, err := r.ReadAt(p, int64(off))
		if n != len(p) || (err != nil && !(err == io.EOF && end == len(data))) {
			t.Fatalf("ReadAt [%d,%d): n=%d err=%v", off, end, n, err)
		}
		if !bytes.Equal(p, data[off:end]) {
			t.Fatalf("ReadAt [%d,%d) differs from the input", off, end)
		}
		// Streamed through io.Copy (WriteTo) and through small Reads.
		var out bytes.Buffer
		if _, err := io.Copy(&out, r.NewSectionReader(int64(off), int64(end-off))); err != nil {
			t.Fatalf("section copy: %v", err)
		}
		if !bytes.Equal(out.Bytes(), data[off:end]) {
			t.Fatalf("section [%d,%d) differs", off, end)
		}
		got, err := io.ReadAll(io.LimitReader(struct{ io.Reader }{r.NewSectionReader(int64(off), int64(end-off))}, 1<<40))
		if err != nil || !bytes.Equal(got, data[off:end]) {
			t.Fatalf("section Read [%d,%d): %v", off, end, err)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	const fs = DefaultFrameSize
	sizes := []int{0, 1, fs - 1, fs, fs + 1, 3*fs + 17, 20 << 20}
	kinds := []struct {
		name string
		gen  func(seed uint64, n int) []byte
	}{
		{"text", englishText},
		{"attachment", attachmentBytes},
		{"zeros", func(_ uint64, n int) []byte { return make([]byte, n) }},
	}
	for _, k := range kinds {
		for _, size := range sizes {
			data := k.gen(uint64(size), size)
			for _, chunk := range []int{0, 4096, 1000003} {
				if size == 20<<20 && chunk == 4096 {
					continue // the same path as smaller sizes, 5000x the calls
				}
				t.Run(fmt.Sprintf("%s/%d/chunk%d", k.name, size, chunk), func(t *testing.T) {
					c, sum := build(t, data, Options{}, chunk)
					if want := int(framesFor(uint64(size), fs)); sum.Frames != want {
						t.Fatalf("%d frames, want %d", sum.Frames, want)
					}
					checkContainer(t, c, data, sum, rand.New(rand.NewPCG(uint64(size), uint64(chunk))))
				})
			}
		}
	}
}

func TestSmallFrames(t *testing.T) {
	t.Parallel()
	for _, fs := range []int{1, 7, 512, 4096} {
		// 500 frames: an index too long for Open's first read of the tail.
		for _, size := range []int{0, 1, fs - 1, fs, fs + 1, 37*fs + 5, 500*fs + 3} {
			data := englishText(uint64(fs*size), size)
			c, sum := build(t, data, Options{FrameSize: fs}, 333)
			checkContainer(t, c, data, sum, rand.New(rand.NewPCG(1, 2)))
		}
	}
}

func TestLevels(t *testing.T) {
	t.Parallel()
	data := englishText(3, 700_000)
	for _, level := range []zstd.EncoderLevel{zstd.SpeedFastest, zstd.SpeedDefault, zstd.SpeedBetterCompression, zstd.SpeedBestCompression} {
		c, sum := build(t, data, Options{Level: level}, 0)
		checkContainer(t, c, data, sum, rand.New(rand.NewPCG(4, 5)))
	}
	var buf bytes.Buffer
	w := NewWriter(&buf, Options{Level: 99})
	if _, err := w.Write([]byte("x")); err == nil {
		t.Fatal("Write with an unknown level succeeded")
	}
	if _, err := w.Close(); err == nil {
		t.Fatal("Close with an unknown level succeeded")
	}
}

func TestFrameSizeClamped(t *testing.T) {
	t.Parallel()
	data := englishText(9, MaxFrameSize+100)
	c, sum := build(t, data, Options{FrameSize: 1 << 30}, 0)
	if sum.Frames != 2 {
		t.Fatalf("%d frames, want 2 of MaxFrameSize", sum.Frames)
	}
	r := open(t, c)
	if err := r.Verify(); err != nil {
		t.Fatal(err)
	}
	p := make([]byte, 200)
	if _, err := r.ReadAt(p, MaxFrameSize-100); err != nil || !bytes.Equal(p, data[MaxFrameSize-100:MaxFrameSize+100]) {
		t.Fatalf("read across the frame boundary: %v", err)
	}
}

// TestStorage checks what each kind of content costs on disk: text shrinks,
// incompressible frames are stored raw with only index and footer added.
func TestStorage(t *testing.T) {
	t.Parallel()
	const size = 2 << 20
	text := englishText(1, size)
	_, ts := build(t, text, Options{}, 0)
	if ratio := float64(size) / float64(ts.StoredSize); ratio < 2 {
		t.Fatalf("text ratio %.2f, want at least 2", ratio)
	}
	bin := attachmentBytes(1, size)
	c, bs := build(t, bin, Options{}, 0)
	if want := int64(size + bs.Frames*entrySize + footerSize); bs.StoredSize != want {
		t.Fatalf("incompressible stored %d bytes, want raw %d", bs.StoredSize, want)
	}
	r := open(t, c)
	for i, k := range r.kinds {
		if k != kindRaw {
			t.Fatalf("frame %d of random bytes kept compressed", i)
		}
	}
}

// TestRangeReadTouchesCoveringFrames is the property a partial FETCH relies
// on: a 1 KiB read of a 20 MB blob reads one frame.
func TestRangeReadTouchesCoveringFrames(t *testing.T) {
	t.Parallel()
	data := englishText(20, 20<<20)
	c, _ := build(t, data, Options{}, 0)
	r := open(t, c)
	const fs = DefaultFrameSize

	p := make([]byte, 1024)
	off := int64(37*fs + 1000)
	if _, err := r.ReadAt(p, off); err != nil || !bytes.Equal(p, data[off:off+1024]) {
		t.Fatalf("ReadAt: %v", err)
	}
	frames, stored := r.Stats()
	if want := r.offsets[38] - r.offsets[37]; frames != 1 || stored != want {
		t.Fatalf("1 KiB read touched %d frames, %d stored bytes; want 1, %d", frames, stored, want)
	}
	// The next 1 KiB of the same frame comes from the cache.
	if _, err := r.ReadAt(p, off+1024); err != nil || !bytes.Equal(p, data[off+1024:off+2048]) {
		t.Fatalf("ReadAt: %v", err)
	}
	if f, _ := r.Stats(); f != 1 {
		t.Fatalf("cached read touched %d frames in all", f)
	}
	// A read across a frame boundary needs exactly the two frames.
	r2 := open(t, c)
	off = 10*fs - 100
	if _, err := r2.ReadAt(p, off); err != nil || !bytes.Equal(p, data[off:off+1024]) {
		t.Fatalf("ReadAt: %v", err)
	}
	if f, _ := r2.Stats(); f != 2 {
		t.Fatalf("boundary read touched %d frames, want 2", f)
	}
	// A section stream of 3 frames' worth reads 3 or 4 frames, never the blob.
	r3 := open(t, c)
	n, err := io.Copy(io.Discard, r3.NewSectionReader(5*fs+10, 3*fs))
	if err != nil || n != 3*fs {
		t.Fatalf("section: %d, %v", n, err)
	}
	if f, _ := r3.Stats(); f != 4 {
		t.Fatalf("section of 3 frames from mid-frame touched %d frames, want 4", f)
	}
}

func TestReadAtEdges(t *testing.T) {
	t.Parallel()
	data := englishText(5, 10_000)
	c, _ := build(t, data, Options{FrameSize: 1000}, 0)
	r := open(t, c)
	if _, err := r.ReadAt(make([]byte, 1), -1); err == nil {
		t.Error("negative offset accepted")
	}
	if n, err := r.ReadAt(make([]byte, 1), 10_000); n != 0 || err != io.EOF {
		t.Errorf("read at end: %d, %v", n, err)
	}
	if n, err := r.ReadAt(make([]byte, 1), 1<<40); n != 0 || err != io.EOF {
		t.Errorf("read past end: %d, %v", n, err)
	}
	if n, err := r.ReadAt(nil, 5); n != 0 || err != nil {
		t.Errorf("empty read: %d, %v", n, err)
	}
	p := make([]byte, 100)
	if n, err := r.ReadAt(p, 9950); n != 50 || err != io.EOF || !bytes.Equal(p[:50], data[9950:]) {
		t.Errorf("read over the end: %d, %v", n, err)
	}
	if got, _ := io.ReadAll(r.NewSectionReader(9000, 5000)); !bytes.Equal(got, data[9000:]) {
		t.Errorf("section clipped to the content: %d bytes", len(got))
	}
	if got, _ := io.ReadAll(r.NewSectionReader(-5, 10)); !bytes.Equal(got, data[:10]) {
		t.Errorf("section from a negative offset: %q", got)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadAt(p, 0); !errors.Is(err, ErrClosed) {
		t.Errorf("ReadAt after Close: %v", err)
	}
	if _, err := io.Copy(io.Discard, r.NewSectionReader(0, 10)); !errors.Is(err, ErrClosed) {
		t.Errorf("section after Close: %v", err)
	}
}

func TestConcurrentReadAt(t *testing.T) {
	t.Parallel()
	data := englishText(6, 300_000)
	c, _ := build(t, data, Options{FrameSize: 8192}, 0)
	r := open(t, c)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			for range 300 {
				off := rng.IntN(len(data))
				n := min(rng.IntN(20_000), len(data)-off)
				p := make([]byte, n)
				if _, err := r.ReadAt(p, int64(off)); err != nil && err != io.EOF {
					errs <- err
					return
				}
				if !bytes.Equal(p, data[off:off+n]) {
					errs <- fmt.Errorf("range [%d,%d) differs", off, off+n)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

type failWriter struct{ after int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.after < len(p) {
		return 0, errors.New("disk full")
	}
	f.after -= len(p)
	return len(p), nil
}

func TestWriterErrors(t *testing.T) {
	t.Parallel()
	data := englishText(7, 50_000)
	w := NewWriter(&failWriter{after: 10}, Options{FrameSize: 4096})
	_, err := w.Write(data)
	if err == nil {
		t.Fatal("write error not reported")
	}
	if _, err2 := w.Write([]byte("more")); err2 == nil {
		t.Fatal("error not sticky")
	}
	if _, err := w.Close(); err == nil {
		t.Fatal("Close after a failed write succeeded")
	}
	if _, err := w.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := w.Write(nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Write after Close: %v", err)
	}
	// The index write failing is reported too.
	w = NewWriter(&failWriter{after: 4096}, Options{FrameSize: 4096})
	if _, err := w.Write(attachmentBytes(1, 4096)); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Close(); err == nil || !bytes.Contains([]byte(err.Error()), []byte("index")) {
		t.Fatalf("Close with a failing index write: %v", err)
	}
}

// TestWriterMemory: a 48 MB attachment streamed through a Writer allocates
// about two frames (frame and compressed buffers come from the pool and are
// returned at Close), not the attachment.
func TestWriterMemory(t *testing.T) {
	src := englishText(48, 1<<20)
	write := func() {
		w := NewWriter(io.Discard, Options{})
		for range 48 {
			for p := src; len(p) > 0; p = p[32<<10:] {
				if _, err := w.Write(p[:32<<10]); err != nil {
					t.Fatal(err)
				}
			}
		}
		if _, err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	write() // builds the shared encoder and fills the pool
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	write()
	runtime.ReadMemStats(&after)
	grown := after.TotalAlloc - before.TotalAlloc
	t.Logf("48 MB attachment: %d bytes allocated", grown)
	if grown > 2*DefaultFrameSize+64<<10 {
		t.Fatalf("writing 48 MB allocated %d bytes, more than ~2 frames", grown)
	}
}

// TestCorruption flips every byte of a small container and truncates it at
// every length: each damage is an error (ErrCorrupt), never a panic and never
// silently wrong content.
func TestCorruption(t *testing.T) {
	t.Parallel()
	data := append(englishText(8, 3000), attachmentBytes(8, 1500)...)
	c, sum := build(t, data, Options{FrameSize: 700}, 0)
	r := open(t, c)
	var sawRaw, sawZstd bool
	for _, k := range r.kinds {
		sawRaw = sawRaw || k == kindRaw
		sawZstd = sawZstd || k == kindZstd
	}
	if !sawRaw || !sawZstd {
		t.Fatalf("want both frame kinds, raw=%v zstd=%v", sawRaw, sawZstd)
	}
	region := func(i int) string {
		switch {
		case i >= len(c)-footerSize:
			return "footer"
		case int64(i) >= r.offsets[len(r.kinds)]:
			return "index"
		default:
			return "frame"
		}
	}
	for i := range c {
		for _, mask := range []byte{0x01, 0x80, 0xff} {
			bad := bytes.Clone(c)
			bad[i] ^= mask
			if err := readAll(bad, sum.Hash); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("flip %#x at %d (%s): %v, want ErrCorrupt", mask, i, region(i), err)
			}
		}
	}
	for n := range len(c) {
		if err := readAll(c[:n], sum.Hash); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d: %v, want ErrCorrupt", n, err)
		}
	}
	// Bytes appended after the footer hide it.
	if err := readAll(append(bytes.Clone(c), 0), sum.Hash); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("trailing byte: %v", err)
	}
}

// readAll opens c and decodes it completely, checking the content hash.
func readAll(c []byte, want [32]byte) error {
	r, err := Open(bytes.NewReader(c), int64(len(c)))
	if err != nil {
		return err
	}
	if r.Hash() != want {
		return fmt.Errorf("%w: hash changed", ErrCorrupt)
	}
	return r.Verify()
}

// TestPropertyRoundTrip: for any content, frame size, write chunking and
// range, ReadAt returns exactly the slice of the input.
func TestPropertyRoundTrip(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(rt *rapid.T) {
		size := rapid.IntRange(0, 20_000).Draw(rt, "size")
		var data []byte
		switch rapid.IntRange(0, 2).Draw(rt, "kind") {
		case 0:
			data = englishText(rapid.Uint64().Draw(rt, "seed"), size)
		case 1:
			data = attachmentBytes(rapid.Uint64().Draw(rt, "seed"), size)
		default:
			data = bytes.Repeat([]byte{rapid.Byte().Draw(rt, "byte")}, size)
		}
		fs := rapid.IntRange(1, 5000).Draw(rt, "frameSize")
		chunk := rapid.IntRange(1, 7000).Draw(rt, "chunk")
		c, sum := build(rt, data, Options{FrameSize: fs}, chunk)
		if sum.Hash != blake3.Sum256(data) {
			rt.Fatal("hash differs")
		}
		r := open(rt, c)
		for range 5 {
			off := rapid.IntRange(0, size).Draw(rt, "off")
			n := rapid.IntRange(0, size-off).Draw(rt, "n")
			p := make([]byte, n)
			if k, err := r.ReadAt(p, int64(off)); k != n || (err != nil && err != io.EOF) {
				rt.Fatalf("ReadAt(%d, %d) = %d, %v", n, off, k, err)
			}
			if !bytes.Equal(p, data[off:off+n]) {
				rt.Fatalf("ReadAt(%d, %d) differs", n, off)
			}
		}
	})
}

// countingReaderAt counts ReadAt calls: a call is a round trip on a remote
// blob store.
type countingReaderAt struct {
	r     io.ReaderAt
	calls int
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	c.calls++
	return c.r.ReadAt(p, off)
}

func TestOpenReads(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		frames, reads int
	}{{0, 1}, {1, 1}, {80, 1}, {446, 1}, {447, 2}, {2000, 2}} {
		c, _ := build(t, englishText(1, tc.frames*64), Options{FrameSize: 64}, 0)
		cr := &countingReaderAt{r: bytes.NewReader(c)}
		r, err := Open(cr, int64(len(c)))
		if err != nil {
			t.Fatal(err)
		}
		if r.Frames() != tc.frames || cr.calls != tc.reads {
			t.Errorf("%d frames: Open made %d reads, want %d", r.Frames(), cr.calls, tc.reads)
		}
	}
}
