# Vigil — build, run and test. `make demo` runs the main job, `make test` the tests.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/vigil-soc/vigil/internal/cli.Version=$(VERSION)
FUZZTIME ?= 3s
SHARED  ?= $(abspath ../shared)
export VIGIL_SHARED := $(SHARED)

.PHONY: all build run demo test unit fuzz vet lint bench conformance docs clean

all: build

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/vigil ./cmd/vigil

run: demo
demo:
	$(GO) run -ldflags '$(LDFLAGS)' ./cmd/vigil demo

# The whole test suite: static checks, unit and integration tests with the
# race detector, then every fuzz target briefly. Tests that need ../shared
# (conformance data) or Debian packages (logger, rsyslog) skip locally when
# those are missing; CI installs them (.ci/run).
test: vet unit fuzz

unit:
	$(GO) test -race -count=1 -timeout 20m ./...
	@# The multi-day network scenarios run without the race detector (10x faster).
	$(GO) test -count=1 -timeout 20m -run 'TestScenarios' -v ./internal/detect/netflow/ > scenarios.out 2>&1; \
		status=$$?; grep -E '^(--- |ok|FAIL)|recall|missed|benign' scenarios.out; exit $$status

fuzz:
	@./.ci/fuzz.sh $(FUZZTIME)

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

lint: vet
	$(GO) run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.14.0 run ./...

# Benchmarks: ingest throughput end to end (NDJSON over HTTP -> durable log
# -> DuckDB), parsers, codec and stores.
bench:
	$(GO) test -run='^$$' -bench=. -benchmem -benchtime=2s ./internal/node/ ./internal/ingest/ ./internal/parse/... ./internal/store/... ./internal/detect/...

# Conformance against ../shared (skips without it): Zeek TSV/JSON equivalence
# and edge cases, EVTX vs JSON twins, SigmaHQ regression samples and rule
# loading. Fails when any check fails.
# Regenerate docs pages that include package documentation.
docs:
	sh docs/src/gen.sh

conformance:
	$(GO) test -count=1 -run 'Conformance|Shared|Regression|EVTX|Pairs|EdgeCases|LoadSigmaHQ' -v \
		./internal/parse/... ./internal/importer/ ./internal/detect/sigma/ > conformance.out 2>&1; \
		status=$$?; grep -E '^(--- |ok|FAIL)|conformance|samples|loaded|pairs' conformance.out; exit $$status

clean:
	rm -rf bin
