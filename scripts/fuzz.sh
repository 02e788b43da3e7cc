#!/usr/bin/env bash
# libFuzzer targets of the import path (docs/fuzzing.md), in their own build tree.
#
#   scripts/fuzz.sh smoke                   every target briefly (SC_FUZZ_SMOKE_SECONDS each,
#                                           default 12), after its regression inputs
#   scripts/fuzz.sh long TARGET [SECONDS]   one target for hours (default 3600 s), one process
#   scripts/fuzz.sh repro TARGET FILE...    runs inputs once, with the sanitizer report
#
# Builds build-fuzz/ (clang-14, ASan+UBSan); installs nothing (see install-deps.sh).
# Seeds are made once per build tree from real captures (tests/peers/make_capture.py,
# needs root for tcpdump): QEMU, and with build/bin/spice-capture also our own server,
# an agent session (files, clipboard) and a QEMU session with TLS. Exit status: 0
# when nothing crashed, 1 on a crash (the reproducer path is printed), 2 on a usage
# or setup error.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGETS=(fuzz_pcap fuzz_reassembly fuzz_framing fuzz_messages fuzz_agent fuzz_chunks fuzz_lz fuzz_glz fuzz_lz4 fuzz_bitmap fuzz_quic fuzz_jpeg fuzz_display fuzz_audio)
# Image codec targets also start from the real payloads kept as unit-test fixtures.
declare -A IMAGE_SEEDS=([fuzz_lz]="lz" [fuzz_glz]="glz zlib_glz" [fuzz_lz4]="lz4" [fuzz_bitmap]="bitmap" [fuzz_quic]="quic" [fuzz_jpeg]="jpeg")
dir=build-fuzz
bin="$dir/bin"
seeds="$dir/seeds"
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
# libFuzzer turns sanitizer reports into crashes; a smaller quarantine keeps memory
# modest on a shared machine.
export ASAN_OPTIONS="detect_leaks=1:quarantine_size_mb=64:allocator_may_return_null=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2
  exit 2
}

is_target() {
  local t
  for t in "${TARGETS[@]}"; do [ "$t" = "$1" ] && return 0; done
  return 1
}

build() {
  if [ ! -f "$dir/build.ninja" ]; then
    CC=clang-14 CXX=clang++-14 cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DSC_FUZZ=ON -DSC_BUILD_TESTS=OFF -DSC_BUILD_BENCH=OFF >/dev/null || {
      echo "fuzz: configuring $dir failed" >&2
      exit 2
    }
  fi
  cmake --build "$dir" --target fuzz -j "$(nproc)" >"$dir/build.log" 2>&1 || {
    tail -40 "$dir/build.log" >&2
    echo "fuzz: build failed (full log: $dir/build.log)" >&2
    exit 2
  }
}

# Seed corpora from real captures: recorded once, kept in build-fuzz/seeds/; the
# seeds are cut again when make_seeds.cpp changes.
make_seeds() {
  local stamp
  stamp=$(sha1sum tests/fuzz/make_seeds.cpp | cut -c1-40)
  [ -f "$seeds/.complete" ] && [ "$(cat "$seeds/.complete")" = "$stamp" ] && return 0
  rm -rf "$seeds"/from-*
  local cap="$seeds/captures"
  mkdir -p "$cap"
  if [ ! -s "$cap/qemu.pcap" ]; then
    echo "fuzz: recording a real session for the seeds (QEMU + spicy-screenshot + SpiceClientGLib, ~5 s)"
    /usr/bin/python3 tests/peers/make_capture.py --out "$cap/qemu.pcap" --meta "$cap/qemu.json" \
      --clients screenshot,glib --duration 3 >"$cap/qemu.log" 2>&1 ||
      echo "fuzz: WARNING: no QEMU capture ($(tail -1 "$cap/qemu.log")); seeds will be thin" >&2
  fi
  # Our own server draws, streams, talks to an agent and plays audio: many more
  # message types than a QEMU without a guest. Optional: needs the release build.
  if [ ! -s "$cap/ours.pcap" ] && [ -x build/bin/spice-capture ]; then
    echo "fuzz: recording a session with our own server (~5 s)"
    /usr/bin/python3 tests/peers/make_capture.py --out "$cap/ours.pcap" --meta "$cap/ours.json" \
      --clients glib --duration 3 --server cmd \
      --server-cmd "$PWD/build/bin/spice-capture serve --port {port} --scenario desktop --agent --audio" \
      >"$cap/ours.log" 2>&1 ||
      echo "fuzz: WARNING: no capture of our own server ($(tail -1 "$cap/ours.log"))" >&2
  fi
  # The agent at work: files (one across many agent_data messages), clipboard both
  # ways, a monitors config, through spice-gtk and our guest agent. Optional too.
  if [ ! -s "$cap/agent.pcap" ] && [ -x build/bin/spice-capture ]; then
    echo "fuzz: recording an agent session with our own server (~4 s)"
    mkdir -p "$cap/agent-src"
    head -c 2049 /dev/urandom >"$cap/agent-src/small.bin"
    head -c 70000 /dev/urandom >"$cap/agent-src/medium.bin"
    /usr/bin/python3 tests/peers/make_capture.py --out "$cap/agent.pcap" --meta "$cap/agent.json" \
      --clients glib --duration 20 --server cmd \
      --server-cmd "$PWD/build/bin/spice-capture serve --port {port} --agent --copy-paste --file-xfer --files-dir $cap/agent-files --guest-clipboard guest-text" \
      --client-args "--send-files $cap/agent-src/small.bin,$cap/agent-src/medium.bin --request-guest-clipboard --clipboard-text client-text --monitors 1024x768,800x600 --end-after-agent" \
      >"$cap/agent.log" 2>&1 ||
      echo "fuzz: WARNING: no agent capture ($(tail -1 "$cap/agent.log"))" >&2
  fi
  # QEMU with its main channel over TLS (the others plain): the importer's TLS
  # detection and ClientHello reading get a real handshake. Optional as well.
  if [ ! -s "$cap/tls.pcap" ] && [ -x build/bin/spice-capture ]; then
    echo "fuzz: recording a QEMU session with a TLS main channel (~4 s)"
    { build/bin/spice-capture serve --make-test-ca "$cap/tls-ca" &&
      /usr/bin/python3 tests/peers/make_capture.py --out "$cap/tls.pcap" --meta "$cap/tls.json" \
        --clients glib --duration 2 --host localhost --tls-dir "$cap/tls-ca" --tls-channels main; } \
      >"$cap/tls.log" 2>&1 ||
      echo "fuzz: WARNING: no TLS capture ($(tail -1 "$cap/tls.log"))" >&2
  fi
  local n=0 pcap
  for pcap in "$cap/qemu.pcap" "$cap/ours.pcap" "$cap/agent.pcap" "$cap/tls.pcap"; do
    [ -s "$pcap" ] || continue
    "$bin/make_seeds" "$pcap" "$seeds/from-$(basename "$pcap" .pcap)"
    n=$((n + 1))
  done
  # One pcapng seed, so libpcap's other reader is reached from a real file too.
  if command -v editcap >/dev/null && [ -f "$seeds/from-qemu/fuzz_pcap/start" ]; then
    editcap -F pcapng "$seeds/from-qemu/fuzz_pcap/start" "$seeds/from-qemu/fuzz_pcap/start-pcapng"
  fi
  [ "$n" -gt 0 ] && echo "$stamp" >"$seeds/.complete"
  return 0
}

# Corpus directories of a target: a working corpus first (where libFuzzer adds
# what it finds), then the seeds and the committed regression inputs. Smoke runs
# start from an empty working corpus each time, so they take the same time every
# run; long runs keep theirs in build-fuzz/corpus/.
corpora() {
  local t="$1" work="$2" d
  mkdir -p "$work"
  echo "$work"
  for d in "$seeds"/from-*/"$t" "tests/fuzz/regressions/$t"; do [ -d "$d" ] && echo "$d"; done
  for d in ${IMAGE_SEEDS[$t]:-}; do [ -d "tests/data/images/$d" ] && echo "tests/data/images/$d"; done
  return 0
}

# The reproducer of a failed run, from libFuzzer's log.
report_crash() {
  local t="$1" log="$2" path
  echo "== $t: CRASH ==" >&2
  grep -E '^(==[0-9]+==ERROR|SUMMARY|fuzz_[a-z]+:|    #[0-9] )' "$log" | head -30 >&2 || true
  path=$(grep -o 'Test unit written to .*' "$log" | tail -1 | sed 's/Test unit written to //')
  if [ -n "$path" ]; then
    echo "reproducer: $path" >&2
    echo "  run it:    scripts/fuzz.sh repro $t $path" >&2
    echo "  keep it:   cp $path tests/fuzz/regressions/$t/<what-it-is>" >&2
  fi
  echo "full log: $log" >&2
}

# The committed regression inputs, each run once.
run_regressions() {
  local t="$1" log="$dir/logs/$t.regressions.log"
  local files=()
  [ -d "tests/fuzz/regressions/$t" ] && mapfile -t files < <(find "tests/fuzz/regressions/$t" -type f | sort)
  [ ${#files[@]} -eq 0 ] && return 0
  if ! "$bin/$t" "${files[@]}" >"$log" 2>&1; then
    echo "== $t: a regression input fails ==" >&2
    grep -E '^Running: ' "$log" | tail -1 | sed 's/^Running: /reproducer: /' >&2
    report_crash "$t" "$log"
    return 1
  fi
  echo "fuzz: $t: ${#files[@]} regression inputs pass"
}

# Fuzzes one target for `seconds` from working corpus `work`, one process.
run_fuzzer() {
  local t="$1" seconds="$2" work="$3"
  local log="$dir/logs/$t.log"
  mkdir -p "$dir/crashes/$t"
  local dirs
  mapfile -t dirs < <(corpora "$t" "$work")
  if ! "$bin/$t" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=1536 -print_final_stats=1 \
    -artifact_prefix="$dir/crashes/$t/" "${dirs[@]}" >"$log" 2>&1; then
    report_crash "$t" "$log"
    return 1
  fi
  local runs cov
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 || true)
  echo "fuzz: $t: ${seconds}s, $runs inputs, ${cov:-cov: ?}, $(find "$work" -type f | wc -l) files in $work"
}

cmd="${1:-}"
case "$cmd" in
  smoke)
    seconds="${SC_FUZZ_SMOKE_SECONDS:-12}"
    build
    mkdir -p "$dir/logs"
    make_seeds
    failed=0
    for t in "${TARGETS[@]}"; do
      run_regressions "$t" || { failed=1; continue; }
      rm -rf "$dir/corpus-smoke/$t"
      run_fuzzer "$t" "$seconds" "$dir/corpus-smoke/$t" || failed=1
    done
    [ "$failed" -eq 0 ] && echo "fuzz: smoke passed" || echo "fuzz: smoke FAILED" >&2
    exit "$failed"
    ;;
  long)
    t="${2:-}"
    is_target "$t" || usage
    seconds="${3:-3600}"
    build
    mkdir -p "$dir/logs"
    make_seeds
    run_regressions "$t" || exit 1
    echo "fuzz: $t for ${seconds}s (log: $dir/logs/$t.log, new inputs: $dir/corpus/$t)"
    run_fuzzer "$t" "$seconds" "$dir/corpus/$t" || exit 1
    ;;
  repro)
    t="${2:-}"
    is_target "$t" && [ $# -ge 3 ] || usage
    build
    shift 2
    exec "$bin/$t" "$@"
    ;;
  *) usage ;;
esac
