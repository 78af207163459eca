# The two commands that matter: `make demo` and `make test`.
GO ?= go

.PHONY: all demo build generate test lint bench check-generated

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

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
