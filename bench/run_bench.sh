#!/usr/bin/env bash
# Import and decode throughput against tshark's built-in SPICE dissector, on the
# same display-heavy capture, in one run. Prints a Markdown table for
# docs/PERFORMANCE.md.
#
#   bench/run_bench.sh [SOURCE] [MIN_MB]      (default: office 100)
#
# The capture is a real session, recorded with tcpdump, then replicated (each
# copy's client on its own 127.1.x.y address) to at least MIN_MB megabytes.
# SOURCE is either a `serve` scenario (our server: libspice-server + simulated QXL
# guest running it at a high frame rate, and a SpiceClientGLib client) or `qemu`
# (QEMU 7.2 booting a Debian kernel in a loop, spice-gtk attached: see
# bench/make_qemu_capture.sh; QEMU_SECONDS sets its length, default 30).
#
# BUILD_DIR=dir uses an existing build tree (spice-capture, decode_throughput and
# replicate_pcap built); without it, scripts/build.sh release builds build/.
# BENCH_DIR=dir keeps the captures and database there (default build/bench).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
scenario="${1:-office}"
min_mb="${2:-100}"
if [ -z "${BUILD_DIR:-}" ]; then
  scripts/build.sh release >/dev/null
  BUILD_DIR=build
fi
work="${BENCH_DIR:-build/bench}"
mkdir -p "$work"
bin="$BUILD_DIR/bin"

make_big_capture "$work" "$bin" "$scenario" "$min_mb"

import_once() { rm -f "$work/big.db" "$work/big.db-wal" "$work/big.db-shm"; $bin/spice-capture import "$file" --db "$work/big.db" -q; }

t_import=$(best_of 3 import_once)
t_frames=$(best_of 3 $bin/decode_throughput "$file" --frames-only)
t_decode=$(best_of 3 $bin/decode_throughput "$file")
t_decode_json=$(best_of 3 $bin/decode_throughput "$file" --json)
t_tshark_v=$(best_of 1 tshark -r "$file" -d "tcp.port==$port,spice" -V)
t_tshark_f=$(best_of 1 tshark -r "$file" -d "tcp.port==$port,spice" -T fields -e spice.message_type)
messages=$($bin/decode_throughput "$file" | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['messages'])")

rate() { echo "scale=1; $mb / $1" | bc -l; }
ratio() { echo "scale=1; $1 / $2" | bc -l; }
cat <<TABLE
Capture: $(if [ "$scenario" = qemu ]; then echo "QEMU kernel-boot session"; else echo "$scenario scenario"; fi), $(printf '%.1f' "$mb") MB, $messages SPICE messages ($(date -u +%Y-%m-%d), $(nproc) cores)

| run | seconds | MB/s | vs tshark -V | vs tshark -T fields |
|---|---|---|---|---|
| spice-capture import (decode + JSON + SQLite) | $(printf '%.3f' "$t_import") | $(rate "$t_import") | $(ratio "$t_tshark_v" "$t_import")x | $(ratio "$t_tshark_f" "$t_import")x |
| framing + message names only (the work of -T fields -e spice.message_type) | $(printf '%.3f' "$t_frames") | $(rate "$t_frames") | $(ratio "$t_tshark_v" "$t_frames")x | $(ratio "$t_tshark_f" "$t_frames")x |
| decode only (framing + every field) | $(printf '%.3f' "$t_decode") | $(rate "$t_decode") | $(ratio "$t_tshark_v" "$t_decode")x | $(ratio "$t_tshark_f" "$t_decode")x |
| decode + JSON rendering | $(printf '%.3f' "$t_decode_json") | $(rate "$t_decode_json") | $(ratio "$t_tshark_v" "$t_decode_json")x | $(ratio "$t_tshark_f" "$t_decode_json")x |
| tshark -d tcp.port==P,spice -V | $(printf '%.3f' "$t_tshark_v") | $(rate "$t_tshark_v") | 1x | |
| tshark -d tcp.port==P,spice -T fields -e spice.message_type | $(printf '%.3f' "$t_tshark_f") | $(rate "$t_tshark_f") | | 1x |
TABLE
