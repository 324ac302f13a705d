# handoff: run `make help` for the targets.

GO          ?= go
ADDR        ?= 127.0.0.1:8080
TEST_FLAGS  ?= -race -count=1 -timeout 20m

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: run
run: ## start the server on $(ADDR) with SQLite under ./data and the demo forms
	$(GO) run . --addr $(ADDR)

.PHONY: test
test: ## run the whole suite (browser tests need /usr/bin/chromium)
	$(GO) test $(TEST_FLAGS) ./...

.PHONY: generate
generate: ## regenerate the templ views
	$(GO) tool templ generate -path views

.PHONY: lint
lint: ## fail on stale generated views, unformatted code or vet findings
	@$(GO) tool templ generate -path views >/dev/null 2>&1
	@git diff --exit-code --stat -- views || { echo "views/*_templ.go were stale: run make generate and commit"; exit 1; }
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "run gofmt -w"; exit 1; }
	$(GO) vet ./...

.PHONY: check
check: lint test ## lint, then the whole suite

.PHONY: build
build: ## build bin/handoff
	$(GO) build -trimpath -o bin/handoff .

.PHONY: bench
bench: ## run the load generator and print the table (≤ 5 min)
	$(GO) run ./bench

.PHONY: screenshots
screenshots: ## refresh docs/screenshots from the browser tests
	HANDOFF_SCREENSHOTS=1 $(GO) test -count=1 -run Browser .
