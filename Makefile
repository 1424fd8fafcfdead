# lvs: the two commands that matter are `make demo` and `make test` (both as root on Debian 12).
# Every target installs what is missing first (scripts/install-deps.sh, apt-get).

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=
FUZZ_SECONDS ?= 60

.PHONY: help deps build build-asan test unit-test e2e-test demo bench fuzz format tidy install clean

help:
	@echo "make demo       install, build, run lvsd on a built-in topology and show the result"
	@echo "make test       install, build, run every test (unit, bpf, e2e; unit tests again under ASan+UBSan)"
	@echo "make unit-test  unit and fuzz-corpus tests only (no root needed except for bpf tests)"
	@echo "make e2e-test   end-to-end tests in network namespaces (root)"
	@echo "make bench      engine micro-benchmarks, then lvsd vs kernel forwarding vs nftables side by side"
	@echo "make fuzz       libFuzzer targets with clang, FUZZ_SECONDS=$(FUZZ_SECONDS) each"
	@echo "make format     clang-format the tree;  make tidy: clang-tidy on src/"
	@echo "make install    install lvsd and its BPF objects (PREFIX via CMAKE_ARGS=-DCMAKE_INSTALL_PREFIX=...)"

deps:
	@bash scripts/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja $(CMAKE_ARGS)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

$(ASAN_BUILD)/build.ninja:
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DLVS_PURE_ONLY=ON -DLVS_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug

build-asan: deps $(ASAN_BUILD)/build.ninja
	cmake --build $(ASAN_BUILD) -j $(JOBS)

test: build build-asan
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600
	cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

unit-test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -L 'unit|bpf'

e2e-test: build
	cd $(BUILD) && ctest --output-on-failure -L e2e

demo: build
	bash demo/demo.sh $(BUILD)

bench: build
	mkdir -p $(BUILD)/bench-results
	$(BUILD)/bench/engine_bench --benchmark_counters_tabular=true \
	  --benchmark_out=$(BUILD)/bench-results/engine_bench.json --benchmark_out_format=json
	$(BUILD)/bench/sched_bench --benchmark_counters_tabular=true \
	  --benchmark_out=$(BUILD)/bench-results/sched_bench.json --benchmark_out_format=json
	$(BUILD)/bench/mh_bench --benchmark_counters_tabular=true \
	  --benchmark_out=$(BUILD)/bench-results/mh_bench.json --benchmark_out_format=json
	$(BUILD)/bench/config_bench --benchmark_counters_tabular=true \
	  --benchmark_out=$(BUILD)/bench-results/config_bench.json --benchmark_out_format=json
	bash bench/scale.sh --build $(BUILD) | tee $(BUILD)/bench-results/scale.txt
	@# Exits 1 when the checker thread is above its 10% target: reported, not fatal to the rest.
	-$(BUILD)/bench/health_bench | tee $(BUILD)/bench-results/health_bench.txt
	-$(BUILD)/bench/health_bench --baseline | tee $(BUILD)/bench-results/health_baseline.txt
	bash bench/forwarding.sh --build $(BUILD)

fuzz: deps
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -G Ninja -DLVS_PURE_ONLY=ON -DLVS_FUZZ=ON
	cmake --build $(FUZZ_BUILD) -j $(JOBS)
	@for f in $(FUZZ_BUILD)/fuzz/*_fuzz; do \
	  name=$$(basename $$f _fuzz); mkdir -p $(FUZZ_BUILD)/corpus-$$name; \
	  echo "== $$name ($(FUZZ_SECONDS) s)"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) $(FUZZ_BUILD)/corpus-$$name fuzz/corpus/$$name || exit 1; \
	done

format:
	git ls-files '*.cc' '*.h' | grep -v '^bpf/' | xargs clang-format -i

tidy: $(BUILD)/build.ninja
	git ls-files 'src/*.cc' | xargs clang-tidy -p $(BUILD) --quiet

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
