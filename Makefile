# The README's commands. `make test` is what CI runs.
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
DATE    ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)

.PHONY: build test vet demo bench fuzz-short faults soak

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o dxtracker ./cmd/dxtracker

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo 'gofmt needed'; exit 1)
	$(GO) vet ./...

# Every test, against real MariaDB servers the tests start themselves.
test: vet
	$(GO) test -count=1 -timeout 40m ./...
	$(MAKE) fuzz-short

# Each fuzz target briefly; run longer with FUZZTIME=10m make fuzz-short.
FUZZTIME ?= 10s
fuzz-short:
	FUZZTIME=$(FUZZTIME) scripts/fuzz-short.sh

demo:
	$(GO) run ./cmd/dxtracker demo

# Binlog pipeline benchmark (follower vs canal vs raw stream, latency, catch-up).
bench:
	$(GO) run ./cmd/dxtbench

# The Vtiger extension as a zip for Vtiger's Settings > Module Manager > Import Module.
.PHONY: vtiger-package
vtiger-package:
	$(GO) run ./cmd/dxtracker vtiger package --out dist/DataExportTracker.zip

# Release artefacts in dist/ (git-ignored): static linux/amd64 and linux/arm64
# binaries with version, commit and date, a .deb for each (nfpm, from
# deploy/nfpm.yaml) and SHA256SUMS. `make dist VERSION=1.2.3` to set the
# version (default: git describe). check-deb inspects what dist made.
.PHONY: dist check-deb
dist:
	GO='$(GO)' scripts/dist.sh
check-deb:
	scripts/check-deb.sh dist

# The fault suite in full (≈ 12 min; its -short form runs in `make test`)
# and the 30-minute soak.
faults:
	$(GO) run ./cmd/faultsuite -kills 20
soak:
	$(GO) run ./cmd/soak -duration 30m
