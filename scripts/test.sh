#!/usr/bin/env bash
# Everything CI checks: installs what is missing, builds the release and the
# sanitizer (ASan+UBSan) trees, and runs every test in both through CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release
scripts/build.sh sanitize
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
echo "== tests (release) =="
ctest --test-dir build --output-on-failure --timeout 600 -j 2
echo "== tests (ASan+UBSan) =="
ctest --test-dir build-asan --output-on-failure --timeout 900 -j 2
echo "== fuzz smoke (every libFuzzer target briefly, regression inputs first) =="
scripts/fuzz.sh smoke
