# Burnwatch: `make help` lists the targets.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)
BIN ?= bin

.PHONY: help run build test test-deps bench vet

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

run: ## run Burnwatch on its embedded default config
	go run ./cmd/burnwatch

build: ## build bin/burnwatch
	go build -o $(BIN)/burnwatch ./cmd/burnwatch

test-deps: ## install what the tests need: logrotate, chattr, alertmanager/amtool, promtool, yamllint, shellcheck, systemd-analyze, chromium, helm
	@missing=""; \
	command -v logrotate >/dev/null 2>&1 || missing="$$missing logrotate"; \
	command -v chattr >/dev/null 2>&1 || missing="$$missing e2fsprogs"; \
	command -v amtool >/dev/null 2>&1 || missing="$$missing prometheus-alertmanager"; \
	command -v promtool >/dev/null 2>&1 || missing="$$missing prometheus"; \
	command -v yamllint >/dev/null 2>&1 || missing="$$missing yamllint"; \
	command -v shellcheck >/dev/null 2>&1 || missing="$$missing shellcheck"; \
	command -v systemd-analyze >/dev/null 2>&1 || missing="$$missing systemd"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else echo "missing:$$missing (sudo apt-get install$$missing); the tests that need them skip"; fi; fi
	@command -v helm >/dev/null 2>&1 || test -x "$$(go env GOPATH)/bin/helm" || go install helm.sh/helm/v3/cmd/helm@v3.22.0

test: test-deps ## run every test (unit, component, end-to-end), then the concurrent packages under -race
	go vet ./...
	go test -count=1 -timeout 20m ./...
	go test -run '^$$' -fuzz FuzzDecode -fuzztime 20s -fuzzminimizetime 2s ./receivers/otlpfastreceiver/internal/otlpwire
	@if command -v gcc >/dev/null 2>&1 && [ "$$(go env CGO_ENABLED)" = 1 ]; then \
	  echo "go test -race ./slo/... ./app/... ./extensions/... ./processors/... ./connectors/... ./receivers/... ./alerting/... ./storage/..."; \
	  go test -race -count=1 -timeout 10m ./slo/... ./app/... ./extensions/... ./processors/... ./connectors/... ./receivers/... ./alerting/... ./storage/...; \
	else echo "no C compiler for the race detector: skipping its pass"; fi

bench: ## run the Go benchmarks recorded in docs/benchmarks.md
	go test -run '^$$' -bench . -benchmem ./...
