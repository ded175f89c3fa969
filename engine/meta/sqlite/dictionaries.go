package sqlite

import (
	"context"
	"fmt"

	"github.com/klauspost/compress/zstd"

	"github.com/eidermail/eider/engine"
)

var _ engine.DictionaryStore = (*Store)(nil)

// Dictionaries returns the engine's compression dictionaries, oldest first.
func (s *Store) Dictionaries(ctx context.Context) ([]engine.Dictionary, error) {
	rows, err := s.rq.QueryContext(ctx, `SELECT id, data FROM dictionaries ORDER BY seq`)
	if err != nil {
		return nil, wrap("dictionaries", err)
	}
	defer rows.Close()
	var out []engine.Dictionary
	for rows.Next() {
		var d engine.Dictionary
		var id int64
		if err := rows.Scan(&id, &d.Data); err != nil {
			return nil, wrap("dictionaries", err)
		}
		d.ID = uint32(id)
		out = append(out, d)
	}
	return out, wrap("dictionaries", rows.Err())
}

// AddDictionary stores d (ErrExists if its ID is taken) and lets the
// store's own decoder read inline bytes compressed with it: texts are
// coded against them.
func (s *Store) AddDictionary(ctx context.Context, d engine.Dictionary) error {
	dec, err := zstd.NewReader(nil, zstd.WithDecoderDicts(d.Data))
	if err != nil {
		return fmt.Errorf("sqlite: add dictionary %d: %w (%v)", d.ID, engine.ErrInvalidName, err)
	}
	dec.Close()
	err = s.write(ctx, func(tx *txn) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO dictionaries(id, data) VALUES (?, ?)`, int64(d.ID), d.Data)
		return err
	})
	if err != nil {
		return wrap("add dictionary", err)
	}
	return wrap("add dictionary", s.loadDictionaries(ctx))
}

// loadDictionaries gives the text codec every stored dictionary.
func (s *Store) loadDictionaries(ctx context.Context) error {
	dicts, err := s.Dictionaries(ctx)
	if err != nil {
		return err
	}
	data := make([][]byte, len(dicts))
	for i, d := range dicts {
		data[i] = d.Data
	}
	if err := s.text.setInlineDictionaries(data); err != nil {
		return fmt.Errorf("compression dictionaries: %w", err)
	}
	return nil
}
