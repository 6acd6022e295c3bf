# Front door to the meson build. `make demo` and `make check` are the two commands the README
# promises; everything else is for developers.
BUILD      ?= build
ASAN_BUILD ?= build-asan
DATA       ?= demo-data
LISTEN     ?= 127.0.0.1:8080

.PHONY: all deps build demo check test test-asan bench format format-check fuzz clean

all: build

deps:
	scripts/install-deps

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=debugoptimized -Dwerror=true

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) --buildtype=debug -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false

demo: deps build
	scripts/demo $(BUILD)/kortisto $(DATA) $(LISTEN)

test: build
	meson test -C $(BUILD) --print-errorlogs

test-asan: $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C $(ASAN_BUILD) --print-errorlogs --timeout-multiplier=4

check: deps format-check test test-asan

bench: deps build
	scripts/bench $(BUILD)

format:
	clang-format -i $$(git ls-files 'src/*.c' 'src/*.h' 'tests/*.c' 'fuzz/*.c' 'tools/*.c' 'bench/*.c')

format-check:
	@out=$$(clang-format --dry-run $$(git ls-files 'src/*.c' 'src/*.h' 'tests/*.c' 'fuzz/*.c' 'tools/*.c' 'bench/*.c') 2>&1); \
	if [ -n "$$out" ]; then echo "$$out" | head -40; echo "format-check: run 'make format'"; exit 1; fi

fuzz:
	scripts/fuzz

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
