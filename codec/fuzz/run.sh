#!/usr/bin/env bash
# Coverage-guided fuzzing of the pickle machine with libFuzzer (`libfuzzer-sys` from crates.io,
# instrumented with the stable `-C passes=sancov-module`, so rustup's stable toolchain is
# enough; nightly is not needed).
#
#   bash codec/fuzz/run.sh [SECONDS] [JOBS]   # default: 60 s, 1 job (the CI run)
#   bash codec/fuzz/run.sh 3600 2             # the longer run
#
# Seeds: every CPython vector of codec/src/tests/vectors.txt, every pickle under tests/fixtures/
# and the crash regressions of tests/fixtures/regressions/ (each prefixed with the config byte
# that codec/fuzz/src/coverage.rs reads). The grown corpus stays in codec/target/fuzz-corpus/
# between runs. A crash, hang (over 10 s) or memory blow-up (over 2 GiB) leaves its input in
# codec/target/fuzz-artifacts/ and fails the run: copy it to tests/fixtures/regressions/ with a
# name that says what it was, and fix the decoder.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
seconds="${1:-60}"
jobs="${2:-1}"

cargo="cargo"
if [ -x "$HOME/.cargo/bin/cargo" ]; then cargo="$HOME/.cargo/bin/cargo"; fi
target="$root/codec/target/fuzz-coverage"
corpus="$root/codec/target/fuzz-corpus"
seeds="$root/codec/target/fuzz-seeds"
artifacts="$root/codec/target/fuzz-artifacts"
mkdir -p "$corpus" "$seeds" "$artifacts"

# With an explicit --target, the instrumentation flags reach the fuzzed code but not the build
# scripts (which have no libFuzzer runtime to link against).
host="$("$(dirname "$cargo")/rustc" -vV 2>/dev/null | sed -n 's/^host: //p' || true)"
host="${host:-x86_64-unknown-linux-gnu}"
echo "fuzz: building the libFuzzer target ($("$cargo" --version))"
(
  cd "$here"
  RUSTFLAGS="-C passes=sancov-module -C llvm-args=-sanitizer-coverage-level=4 \
-C llvm-args=-sanitizer-coverage-inline-8bit-counters -C llvm-args=-sanitizer-coverage-pc-table \
-C llvm-args=-sanitizer-coverage-trace-compares -C debug-assertions -C overflow-checks --cfg fuzzing" \
    CARGO_TARGET_DIR="$target" "$cargo" build --release --features coverage --bin decode_coverage \
      --target "$host"
)
binary="$target/$host/release/decode_coverage"

# Seeds: config byte 0 (ASCII, default limits, 1-byte windows) and 0xe5 (latin1, small limits,
# 1 MiB windows) in front of each pickle.
python3 - "$root" "$seeds" <<'PY'
import pathlib, sys
root, seeds = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
pickles = []
for line in (root / "codec/src/tests/vectors.txt").read_text().splitlines():
    parts = line.split(" ")
    if len(parts) > 1 and parts[1] != "-":
        try:
            pickles.append(bytes.fromhex(parts[1]))
        except ValueError:
            pass
for path in sorted((root / "tests/fixtures").rglob("*.pkl")):
    if path.stat().st_size <= 1 << 16:
        pickles.append(path.read_bytes())
for index, data in enumerate(pickles):
    for config in (0x00, 0xE5):
        (seeds / f"{index:05d}-{config:02x}").write_bytes(bytes([config]) + data)
print(f"fuzz: {len(pickles)} seed pickles")
PY

regressions="$root/tests/fixtures/regressions"
parallel=()
if [ "$jobs" -gt 1 ]; then parallel=(-fork="$jobs" -ignore_crashes=0); fi
cd "$artifacts"
set +e +o pipefail
"$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  "${parallel[@]}" -print_final_stats=1 -artifact_prefix="$artifacts/" \
  "$corpus" "$seeds" "$regressions" 2>&1 | tee "$artifacts/last-run.log" |
  grep -E "^#[0-9]+[[:space:]]+(INITED|DONE)|^stat::|ERROR|SUMMARY|panicked|Test unit written"
status=${PIPESTATUS[0]}
set -e -o pipefail
if [ "$status" -ne 0 ]; then
  echo "fuzz: libFuzzer found a failing input (exit $status): see $artifacts/ and last-run.log"
  exit "$status"
fi
echo "fuzz: no crash, hang or memory blow-up in ${seconds} s"
