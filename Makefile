# Eider — the two commands a fresh machine needs are `make run` and `make test`.

GO        ?= go
BIN       := bin/eider
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
DATA      ?= ./eider-data
FUZZTIME  ?= 10s
BENCHTIME ?= 1s
TODAY     := $(shell date -u +%Y-%m-%d)

.PHONY: all build bench-tool run test test-deps lint fuzz bench perf clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/eider

# The wire-protocol load generator (bench/cmd/eider-bench/README.md).
bench-tool:
	$(GO) build -trimpath -o bin/eider-bench ./bench/cmd/eider-bench

# Build and start every service on the embedded store in $(DATA).
run: build
	./$(BIN) serve --data $(DATA)

# Servers the tests need are started by the tests themselves (redis-server
# on a free loopback port, FerretDB in-process); the programs they run
# (redis-server, Python's imaplib/poplib/smtplib, curl) come from Debian's
# packages when missing.
test: test-deps lint
	$(GO) test -count=1 -timeout 12m ./...

APT_GET := DEBIAN_FRONTEND=noninteractive apt-get
test-deps:
	@command -v python3 >/dev/null || { $(APT_GET) update -qq && $(APT_GET) install -y -qq python3; }
	@command -v curl >/dev/null || { $(APT_GET) update -qq && $(APT_GET) install -y -qq curl; }
	@command -v redis-server >/dev/null || { $(APT_GET) update -qq && $(APT_GET) install -y -qq redis-server; }

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# A short run of every fuzz target (FUZZTIME each). A run that ends with only
# "context deadline exceeded" and no failing input is the fuzzer stopping
# while a worker was busy, not a finding; anything with a failing input fails.
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  dir=$$($(GO) list -f '{{.Dir}}' $$pkg); \
	  for t in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go 2>/dev/null | sed 's/func //'); do \
	    echo "== $$pkg $$t"; \
	    if ! out=$$($(GO) test -run='^$$' -fuzz="^$$t$$" -fuzztime=$(FUZZTIME) -fuzzminimizetime=2s $$pkg 2>&1); then \
	      echo "$$out"; \
	      if echo "$$out" | grep -q 'Failing input' || ! echo "$$out" | grep -q 'context deadline exceeded'; then exit 1; fi; \
	      echo "(stopped at the deadline with no failing input)"; \
	    fi; \
	  done; \
	done

# Every Go benchmark (engine, codecs, servers); the raw output lands in
# perf/results/<date>-bench.txt, next to the dated summaries.
bench:
	@mkdir -p perf/results
	$(GO) test -run='^$$' -bench=. -benchmem -benchtime=$(BENCHTIME) -timeout 60m ./... | tee perf/results/$(TODAY)-bench.txt

# Side-by-side runs of eider-bench against Eider and Dovecot (installed from
# Debian's packages when missing); results in perf/results/<date>-*.md.
perf:
	perf/run $(PERFFLAGS)

clean:
	rm -rf bin
