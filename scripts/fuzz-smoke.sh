#!/usr/bin/env bash
# Fuzz smoke test: builds the cargo-fuzz targets of fuzz/ once, makes their
# seed corpora from the shared test corpus, and runs each target for a
# short, bounded time. Fails on any crash, hang (-timeout) or memory blow-up
# (-rss_limit_mb), printing the path of the input that caused it.
#
#   bash scripts/fuzz-smoke.sh                 every target, FUZZ_SECONDS (20) each
#   FUZZ_SECONDS=5 bash scripts/fuzz-smoke.sh  shorter
#   FUZZ_TARGETS="mrt open" bash scripts/fuzz-smoke.sh
#
# Without a nightly toolchain (cargo-fuzz needs one) it says so and passes.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    echo "fuzz smoke test skipped: no nightly toolchain"
    exit 0
fi

FUZZ_SECONDS="${FUZZ_SECONDS:-20}"
FUZZ_TARGETS="${FUZZ_TARGETS:-message attributes open nlri mrt builder}"
RSS_LIMIT_MB="${FUZZ_RSS_LIMIT_MB:-2048}"
TIMEOUT_S="${FUZZ_TIMEOUT:-10}"

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz"
    cargo +nightly install cargo-fuzz --locked
fi

cd fuzz
start=$(date +%s)

# One release build of all targets, with debug assertions (overflow checks)
# and without a sanitizer: bgp-wire forbids unsafe code, so AddressSanitizer
# would only slow the run down.
BUILD=(-O -a -s none)
# cargo fuzz has no --locked: check the committed fuzz/Cargo.lock first.
if ! cargo +nightly metadata --locked --format-version 1 >/dev/null 2>&1; then
    echo "fuzz smoke test: fuzz/Cargo.lock is out of date (run 'cargo +nightly fuzz build' in fuzz/ once and commit fuzz/Cargo.lock)" >&2
    exit 1
fi
echo "building fuzz targets"
build_log=$(mktemp)
if ! cargo +nightly fuzz build "${BUILD[@]}" >"$build_log" 2>&1; then
    cat "$build_log" >&2
    rm -f "$build_log"
    echo "fuzz smoke test: build failed" >&2
    exit 1
fi
rm -f "$build_log"

python3 make-seeds.py

failed=()
for t in $FUZZ_TARGETS; do
    mkdir -p "corpus/$t" "artifacts/$t"
    log=$(mktemp)
    echo "fuzzing $t for ${FUZZ_SECONDS}s"
    rc=0
    cargo +nightly fuzz run "${BUILD[@]}" "$t" -- \
        -max_total_time="$FUZZ_SECONDS" -rss_limit_mb="$RSS_LIMIT_MB" \
        -timeout="$TIMEOUT_S" -max_len=16384 -print_final_stats=1 \
        >"$log" 2>&1 || rc=$?
    grep -E '^(stat::number_of_executed_units|stat::new_units_added|Done )' "$log" || true
    if [ "$rc" != 0 ]; then
        echo "fuzz target $t FAILED (exit $rc):" >&2
        grep -E -A 12 "panicked at|ERROR: libFuzzer|SUMMARY" "$log" | head -40 >&2 || tail -40 "$log" >&2
        grep -E "Test unit written to|artifact_prefix" "$log" | sed 's/^/  /' >&2 || true
        failed+=("$t")
    fi
    rm -f "$log"
done

echo "fuzz smoke test: $(( $(date +%s) - start ))s"
if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzz smoke test failed: ${failed[*]} (crashing inputs under fuzz/artifacts/)" >&2
    exit 1
fi
echo "fuzz smoke test passed: ${FUZZ_TARGETS}"
