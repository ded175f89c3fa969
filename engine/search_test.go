package engine

import (
	"errors"
	"testing"
)

func TestSearchQueryValidate(t *testing.T) {
	deep := &SearchQuery{Op: SearchAll}
	for range MaxSearchDepth + 1 {
		deep = &SearchQuery{Op: SearchNot, Children: []*SearchQuery{deep}}
	}
	for name, q := range map[string]*SearchQuery{
		"nil child":        {Op: SearchAnd, Children: []*SearchQuery{nil}},
		"NOT of two":       {Op: SearchNot, Children: []*SearchQuery{{Op: SearchAll}, {Op: SearchAll}}},
		"unknown operator": {Op: 200},
		"too deep":         deep,
	} {
		if err := q.Validate(); !errors.Is(err, ErrInvalidName) {
			t.Errorf("%s: %v", name, err)
		}
	}
	ok := &SearchQuery{Op: SearchOr, Children: []*SearchQuery{{Op: SearchText, Value: "x"}, {Op: SearchNot, Children: []*SearchQuery{{Op: SearchFlag, Flag: FlagSeen}}}}}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
}
