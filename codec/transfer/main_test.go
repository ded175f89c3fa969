package transfer

import (
	"flag"
	"os"
	"testing"
)

// TestMain runs the property tests with 1000 cases each unless -rapid.checks
// says otherwise: they are cheap, and the encodings' corner cases (a last line
// of exactly LineLen, an escape at column 74) need many draws to come up.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "rapid.checks" })
	if !set {
		if err := flag.Set("rapid.checks", "1000"); err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}
