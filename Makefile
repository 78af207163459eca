# The two commands that matter: `make demo` and `make test`.
GO ?= go

.PHONY: all demo build install cgo generate test lint bench bench-go check-generated

all: build

demo: cgo
	$(GO) run ./cmd/oktasync sync --demo --db okta.duckdb --models

build: cgo
	$(GO) build ./...

# install puts the oktasync command in $GOBIN (default $(go env GOPATH)/bin).
install: cgo
	$(GO) install ./cmd/oktasync
	@bin="$$($(GO) env GOBIN)"; echo "installed $${bin:-$$($(GO) env GOPATH)/bin}/oktasync"

# cgo checks what DuckDB, a C++ library linked through cgo, needs to build.
# Without it Go only says "build constraints exclude all Go files in
# .../duckdb-go-bindings/lib/...".
cgo:
	@if [ "$$($(GO) env CGO_ENABLED)" != 1 ]; then \
		echo "oktasync needs cgo: DuckDB is a C++ library linked through cgo, and cgo is off"; \
		echo "(CGO_ENABLED=0, set in the environment or because Go found no C compiler)."; \
		echo "Install a C compiler (gcc or clang) and build with CGO_ENABLED=1."; \
		exit 1; \
	fi >&2
	@cc="$$($(GO) env CC)"; command -v "$${cc%% *}" >/dev/null 2>&1 || { \
		echo "oktasync needs a C compiler for cgo (DuckDB is C++): $$cc is not on PATH; install gcc or clang, or set CC." >&2; \
		exit 1; \
	}

generate:
	$(GO) generate ./...

# check-generated fails when generated/ or specs/schema.json drift from specs/.
check-generated: generate
	git diff --exit-code -- generated specs/schema.json

# test runs beside a throwaway PostgreSQL (scripts/with-postgres installs
# Debian's package when missing, starts it on loopback and stops it after)
# and with a headless Chromium (scripts/with-chromium installs Debian's when
# missing): the Postgres destination's tests need a real server and the
# status page's tests a browser, and in CI they must run.
test: cgo
	$(GO) vet ./...
	scripts/with-postgres scripts/with-chromium $(GO) test ./...

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...

# bench prints the performance report and its BENCH line (docs/PERFORMANCE.md);
# BENCH_QUICK=1 runs it on smaller sizes in under a minute.
bench:
	scripts/with-postgres $(GO) run ./cmd/oktabench

# bench-go runs the Go micro-benchmarks.
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./...
