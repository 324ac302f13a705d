# handoff: run `make help` for the targets.

GO          ?= go
ADDR        ?= 127.0.0.1:8080
DEMO_ADDR   ?= 127.0.0.1:8081
# The root package's browser flows run at two sizes and in five languages:
# about 12 minutes under -race on two cores; the timeout guards against a
# hang, with room for a slower machine.
TEST_FLAGS  ?= -race -count=1 -timeout 35m

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: run
run: ## start the server on $(ADDR) (SQLite under ./data, the demo forms) and a demo host page on $(DEMO_ADDR)
	$(GO) run . --addr $(ADDR) --demo-addr $(DEMO_ADDR)

.PHONY: test
test: testdata/axe/node_modules ## run the whole suite (browser tests need Chromium: HANDOFF_CHROMIUM, or chromium on PATH; the accessibility checks, npm)
	@echo '$(GO) test $(TEST_FLAGS) ./...'
	@report=$$(mktemp); HANDOFF_TEST_SKIP_REPORT=$$report $(GO) test $(TEST_FLAGS) ./...; status=$$?; \
	cat $$report >&2; rm -f $$report; exit $$status

# axe-core for the browser tests' accessibility checks, at the version
# testdata/axe/package-lock.json pins; without npm the checks are skipped
# (and fail under CI).
testdata/axe/node_modules: testdata/axe/package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --prefix testdata/axe --no-audit --no-fund --silent && touch $@; \
	else echo "npm not found: the browser tests' accessibility checks will be skipped"; fi

.PHONY: generate
generate: ## regenerate the templ views
	$(GO) tool templ generate -path views
	$(MAKE) generate-embed

.PHONY: generate-embed
generate-embed: ## minify static/src/embed.js into static/embed.js (esbuild)
	$(GO) tool esbuild static/src/embed.js --minify --target=es2017 --log-level=warning \
		'--banner:js=/* handoff embed loader: generated from static/src/embed.js by make generate; do not edit */' \
		--outfile=static/embed.js

.PHONY: lint
lint: ## fail on an untidy go.mod, stale generated views, unformatted code, vet or staticcheck findings
	@$(GO) mod tidy -diff || { echo "go.mod/go.sum were not tidy: run go mod tidy and commit"; exit 1; }
	@$(GO) tool templ generate -path views >/dev/null 2>&1
	@git diff --exit-code --stat -- views || { echo "views/*_templ.go were stale: run make generate and commit"; exit 1; }
	@$(MAKE) --no-print-directory generate-embed >/dev/null 2>&1
	@git diff --exit-code --stat -- static/embed.js || { echo "static/embed.js was stale: run make generate and commit"; exit 1; }
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "run gofmt -w"; exit 1; }
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	$(GO) tool errcheck -exclude .errcheck-exclude ./...

.PHONY: check
check: lint test ## lint, then the whole suite

# The version make build stamps: the nearest tag, or the commit.
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)

.PHONY: build
build: ## build bin/handoff: static (no cgo), with its version, commit and Go version
	CGO_ENABLED=0 $(GO) build -trimpath -buildvcs=auto -ldflags "-s -w -X main.version=$(VERSION)" -o bin/handoff .

.PHONY: bench
bench: ## run the load generator and print the table (≤ 6 min; the postgres scenario needs PostgreSQL, see BENCHMARKS.md)
	$(GO) run ./bench

.PHONY: screenshots
screenshots: ## refresh docs/screenshots from the browser tests
	HANDOFF_SCREENSHOTS=1 $(GO) test -count=1 -run Browser .
