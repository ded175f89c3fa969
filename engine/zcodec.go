package engine

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/dict"
	"github.com/klauspost/compress/zstd"
)

// A message's inline segments (its header blocks and small bodies) are a
// few kilobytes, too little for zstd to find much to reuse within one
// message, while every message repeats the same header fields, MIME
// boilerplate and phrases. So the engine trains a zstd dictionary on the
// first messages it ingests into a store that has none, keeps it in the
// metadata store (DictionaryStore) and compresses later messages with it:
// on a text-heavy corpus this takes inline segments from 0.41x to about
// 0.31x their size. Each frame names its dictionary by ID, so messages
// stored before it (or with another node's) still decode.
const (
	dictSize        = 32 << 10 // bytes of a trained dictionary
	dictSampleBytes = 8 << 10  // bytes of each message sampled, from its start
	dictTrainWait   = time.Minute
)

// zcodec compresses inline segments. One encoder and one decoder serve every
// goroutine: EncodeAll/DecodeAll are safe for concurrent use and a
// single-goroutine EncodeAll beats the streaming writer on small inputs.
type zcodec struct {
	state atomic.Pointer[zstate]
	store DictionaryStore // nil: the metadata store keeps no dictionaries
	log   *slog.Logger

	mu       sync.Mutex // guards the fields below and serialises reloads
	want     int        // messages to sample before training; <= 0: never train
	samples  [][]byte
	training bool
	wg       sync.WaitGroup
}

// zstate is one generation of the codec: encoders with the newest
// dictionary and a decoder that knows every dictionary.
type zstate struct {
	// Most inline bytes are a few kilobytes of headers and text, where
	// zstd's better level saves 7% over its default (with a dictionary).
	// Its cost grows with the input faster than the default level's (it
	// restores more of its dictionary tables per message), so larger
	// inline bytes take the default level.
	small, large *zstd.Encoder
	dec          *zstd.Decoder
	dicts        int
}

// smallInline is the most inline bytes the better level compresses.
const smallInline = 16 << 10

func newZstate(dicts []Dictionary) (*zstate, error) {
	eo := []zstd.EOption{zstd.WithEncoderConcurrency(1), zstd.WithLowerEncoderMem(true)}
	do := []zstd.DOption{zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(1 << 30)}
	if len(dicts) > 0 {
		eo = append(eo, zstd.WithEncoderDict(dicts[len(dicts)-1].Data))
		all := make([][]byte, len(dicts))
		for i, d := range dicts {
			all[i] = d.Data
		}
		do = append(do, zstd.WithDecoderDicts(all...))
	}
	// Windows just large enough for the input and the dictionary behind
	// it: an encoder's history grows to its window (8 MiB by default at the
	// better level), per message.
	small, err := zstd.NewWriter(nil, append(eo, zstd.WithEncoderLevel(zstd.SpeedBetterCompression), zstd.WithWindowSize(4*smallInline))...)
	if err != nil {
		return nil, fmt.Errorf("inline codec: %w", err)
	}
	large, err := zstd.NewWriter(nil, append(eo, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithWindowSize(2<<20))...)
	if err != nil {
		return nil, fmt.Errorf("inline codec: %w", err)
	}
	dec, err := zstd.NewReader(nil, do...)
	if err != nil {
		return nil, fmt.Errorf("inline codec: %w", err)
	}
	return &zstate{small: small, large: large, dec: dec, dicts: len(dicts)}, nil
}

// newZcodec returns a codec with store's dictionaries (store may be nil)
// that trains one after samples messages when there is none.
func newZcodec(ctx context.Context, store DictionaryStore, samples int, log *slog.Logger) (*zcodec, error) {
	z := &zcodec{store: store, log: log}
	if store != nil {
		z.want = samples
	}
	if err := z.reload(ctx); err != nil {
		return nil, err
	}
	return z, nil
}

// reload rebuilds the codec with the store's dictionaries.
func (z *zcodec) reload(ctx context.Context) error {
	var dicts []Dictionary
	if z.store != nil {
		var err error
		if dicts, err = z.store.Dictionaries(ctx); err != nil {
			return fmt.Errorf("load compression dictionaries: %w", err)
		}
	}
	st, err := newZstate(dicts)
	if err != nil {
		return err
	}
	z.state.Store(st) // the old one is dropped, not closed: callers may still hold it
	return nil
}

func (z *zcodec) compress(p []byte) []byte {
	if len(p) == 0 {
		return nil
	}
	st := z.state.Load()
	enc := st.small
	if len(p) > smallInline {
		enc = st.large
	}
	return enc.EncodeAll(p, make([]byte, 0, len(p)/2+64))
}

func (z *zcodec) decompress(p []byte) ([]byte, error) {
	if len(p) == 0 {
		return nil, nil
	}
	out, err := z.state.Load().dec.DecodeAll(p, nil)
	if errors.Is(err, zstd.ErrUnknownDictionary) && z.store != nil {
		// Another node trained it since this one loaded its dictionaries.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		z.mu.Lock()
		rerr := z.reload(ctx)
		z.mu.Unlock()
		cancel()
		if rerr != nil {
			return nil, rerr
		}
		out, err = z.state.Load().dec.DecodeAll(p, nil)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: inline segments: %v", errCorrupt, err)
	}
	return out, nil
}

// sample keeps the start of a message's inline bytes for training while
// the store has no dictionary, and trains once enough messages are kept:
// in the caller, which waits for it (a few hundred milliseconds and about
// 20 MB of allocations, once in a store's life), so that the message and
// those after it are compressed with the dictionary; concurrent callers go
// on without.
func (z *zcodec) sample(p []byte) {
	if len(p) == 0 || z.state.Load().dicts > 0 {
		return
	}
	z.mu.Lock()
	if z.want <= 0 || z.training || len(z.samples) >= z.want {
		z.mu.Unlock()
		return
	}
	z.samples = append(z.samples, append([]byte(nil), p[:min(len(p), dictSampleBytes)]...))
	if len(z.samples) < z.want {
		z.mu.Unlock()
		return
	}
	z.training = true
	z.wg.Add(1)
	z.mu.Unlock()
	defer z.wg.Done()
	ctx, cancel := context.WithTimeout(context.Background(), dictTrainWait)
	defer cancel()
	if err := z.train(ctx); err != nil {
		z.log.Warn("compression dictionary not trained", "err", err)
	}
}

// train builds a dictionary from the samples, stores it and starts using
// it, unless the store has one by now (another node's): then that one.
func (z *zcodec) train(ctx context.Context) error {
	z.mu.Lock()
	samples := z.samples
	z.samples = nil
	z.mu.Unlock()
	if len(samples) == 0 {
		return errors.New("no messages sampled")
	}
	if have, err := z.store.Dictionaries(ctx); err != nil || len(have) > 0 {
		z.mu.Lock()
		defer z.mu.Unlock()
		return errors.Join(err, z.reload(ctx))
	}
	id := newDictID()
	data, err := dict.BuildZstdDict(samples, dict.Options{MaxDictSize: dictSize, HashBytes: 6, ZstdDictID: id, ZstdLevel: zstd.SpeedDefault})
	if err != nil {
		return err
	}
	if err := z.store.AddDictionary(ctx, Dictionary{ID: id, Data: data}); err != nil && !errors.Is(err, ErrExists) {
		return err
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	return z.reload(ctx)
}

// newDictID returns a random ID in the range zstd leaves to private
// dictionaries ([32768, 2^31)), so that nodes training at once do not
// collide.
func newDictID() uint32 {
	var b [4]byte
	rand.Read(b[:])
	return 1<<15 + binary.LittleEndian.Uint32(b[:])%(1<<31-1<<15)
}

// wait waits for a training in progress.
func (z *zcodec) wait() { z.wg.Wait() }
