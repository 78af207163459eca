# The two commands that matter: `make demo` and `make test`.
GO ?= go

.PHONY: all demo build generate test lint bench bench-go check-generated

all: build

demo:
	$(GO) run ./cmd/oktasync sync --demo --db okta.duckdb

build:
	$(GO) build ./...

generate:
	$(GO) generate ./...

# check-generated fails when generated/ or specs/schema.json drift from specs/.
check-generated: generate
	git diff --exit-code -- generated specs/schema.json

test:
	$(GO) vet ./...
	$(GO) test ./...

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...

# bench prints the performance report and its BENCH line (docs/PERFORMANCE.md);
# BENCH_QUICK=1 runs it on smaller sizes in under a minute.
bench:
	$(GO) run ./cmd/oktabench

# bench-go runs the Go micro-benchmarks.
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./...
