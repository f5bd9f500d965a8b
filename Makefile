# Content-transfer service. `make help` lists the targets.

SHELL        := /bin/bash
BUF_VERSION  := v1.75.0
GOBIN        ?= $(shell go env GOPATH)/bin
BUF          := $(GOBIN)/buf
GOLANGCI_LINT_VERSION := v2.15.0
GOLANGCI_LINT := $(GOBIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)
GOOGLE_PROTO_FILES := 6.0.1
GOOGLEAPIS   := build/googleapis/.google-proto-files-$(GOOGLE_PROTO_FILES)
VERSION      ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS      := -X main.version=$(VERSION)

.PHONY: help run test test-pooler breaking build generate checkgenerate lint bench fuzz tools clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

run: build ## start a local Postgres (unless DATABASE_URL is set), migrate, seed the demo course, serve
	@scripts/run.sh

test: checkgenerate lint ## the whole suite, against a real Postgres the tests start themselves
	go test -count=1 -race ./...
	$(MAKE) --no-print-directory test-pooler
	FUZZTIME=3s scripts/fuzz.sh

test-pooler: ## the suite again, through PgBouncer in transaction mode (as behind Supabase's pooler)
	PGTEST_POOLER=pgbouncer go test -count=1 ./...

fuzz: ## run every fuzz target longer (FUZZTIME, default 2m each)
	FUZZTIME=$${FUZZTIME:-2m} scripts/fuzz.sh

bench: build ## measure against PostgreSQL's own limits (S, M, L; several minutes), then the Go benchmarks
	bin/contentbench -contentd bin/contentd $(BENCHFLAGS)
	bin/contentbench -contentd bin/contentd -load $(LOADFLAGS)
	go test -run '^$$' -bench . -benchmem ./internal/...

build: ## build the binaries into bin/
	@mkdir -p bin
	go build -ldflags '$(LDFLAGS)' -o bin/ ./cmd/...

tools: $(BUF) $(GOLANGCI_LINT) ## install buf and golangci-lint at their pinned versions (the protoc plugins are go.mod tools)

$(BUF):
	GOBIN=$(GOBIN) go install github.com/bufbuild/buf/cmd/buf@$(BUF_VERSION)

$(GOLANGCI_LINT): # installed under its version, so that a change of version installs it again
	@mkdir -p build/golangci-lint
	GOBIN=$(CURDIR)/build/golangci-lint go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	mv build/golangci-lint/golangci-lint $@

$(GOOGLEAPIS): # google/api protos, taken from the npm package google-proto-files, not committed
	rm -rf build/googleapis build/npm && mkdir -p build/npm build/googleapis/google/api
	cd build/npm && npm pack --silent google-proto-files@$(GOOGLE_PROTO_FILES) >/dev/null
	tar -xzf build/npm/google-proto-files-$(GOOGLE_PROTO_FILES).tgz -C build/npm \
		package/google/api/annotations.proto package/google/api/http.proto package/google/api/visibility.proto
	cp build/npm/package/google/api/*.proto build/googleapis/google/api/
	rm -rf build/npm
	touch $@

generate: $(BUF) $(GOOGLEAPIS) ## regenerate gen/ from proto/
	find gen -name '*.go' ! -name 'openapi.go' -delete 2>/dev/null || true
	rm -f gen/openapi/*.json
	$(BUF) generate

checkgenerate: $(BUF) $(GOOGLEAPIS) ## fail when gen/ differs from what buf generates
	@rm -rf build/_checkgen && mkdir -p build/_checkgen
	$(BUF) generate -o build/_checkgen
	@diff -r -x openapi.go gen build/_checkgen/gen || { echo "gen/ is stale: run 'make generate' and commit"; exit 1; }

breaking: $(BUF) $(GOOGLEAPIS) ## buf breaking against the previous commit (REF=… for another); CI runs it
	BUF=$(BUF) scripts/breaking.sh $(REF)

lint: $(BUF) $(GOLANGCI_LINT) $(GOOGLEAPIS) ## buf lint and format; golangci-lint (go vet, gofmt, staticcheck, … see .golangci.yml)
	$(BUF) lint
	$(BUF) format -d --exit-code proto
	$(GOLANGCI_LINT) run ./...

clean: ## remove build outputs and the local database
	rm -rf bin build .data
