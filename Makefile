# openvpn-go — build, test, demo, benchmark.
#
#   make test    install what is missing, then vet, unit tests with -race and
#                the integration tests against the reference openvpn (root)
#   make demo    server and client in two network namespaces, ping + iperf3
#   make bench   the throughput table of the README (root)

GO      ?= go
BIN     := bin/openvpn-go
DEBPKGS := openvpn iperf3 iproute2 iputils-ping nftables tcpdump ethtool
# Commands that must exist, one per Debian package above.
DEBCMDS := openvpn iperf3 ip ping nft tcpdump ethtool

# Packages whose tests prove zero allocations per packet.
ALLOCPKGS := ./wire ./replay ./comp ./fragment ./ippkt ./ctlwrap ./datacrypto ./transport ./dataplane

.PHONY: all build test deps vet unit fuzz demo bench clean

all: build

build:
	$(GO) build -trimpath -o $(BIN) ./cmd/openvpn-go

# deps installs the Debian packages the integration tests use (only those
# missing, only when root) and downloads the Go modules.
deps:
	@missing=""; for c in $(DEBCMDS); do command -v $$c >/dev/null 2>&1 || missing="$$missing $$c"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing Debian packages (missing:$$missing)"; \
			DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(DEBPKGS) >/dev/null; \
		else \
			echo "missing:$$missing — install $(DEBPKGS) (integration tests will be skipped)"; \
		fi; \
	fi
	$(GO) mod download

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }

# Unit and integration tests. As root, the integration tests (real openvpn
# and openvpn-go in network namespaces) must run: OPENVPN_GO_REQUIRE_LAB
# turns their "skip" into "fail" so CI cannot pass without them.
test: deps vet
	@if [ "$$(id -u)" = 0 ]; then export OPENVPN_GO_REQUIRE_LAB=1; fi; \
	$(GO) test -race -count=1 -timeout 25m ./...
	@echo "== allocation checks (skipped under -race, where sync.Pool drops items)"
	$(GO) test -count=1 $(ALLOCPKGS)

# A few seconds of fuzzing per target (the corpora live in testdata/fuzz).
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list 'Fuzz.*' $$pkg 2>/dev/null | grep ^Fuzz); do \
			echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime 5s $$pkg || exit 1; \
		done; \
	done

demo: deps build
	./scripts/demo.sh $(BIN)

# The performance table of the README: openvpn and openvpn-go in every
# pairing, in network namespaces on this machine (root). BENCH_DURATION sets
# the length of each measurement, BENCH_REPEAT the rounds (about 17 minutes
# with the defaults; a line per measured cell shows the progress).
BENCH_DURATION ?= 5s
BENCH_REPEAT ?= 3
bench: deps
	rm -f bench.txt
	OPENVPN_GO_BENCH=1 OPENVPN_GO_BENCH_DURATION=$(BENCH_DURATION) OPENVPN_GO_BENCH_REPEAT=$(BENCH_REPEAT) OPENVPN_GO_BENCH_OUT=$(CURDIR)/bench.txt \
		$(GO) test -v -run TestBench -count=1 -timeout 60m ./internal/bench/
	@echo "(table written to bench.txt)"

clean:
	rm -rf bin
