#!/usr/bin/env bash
# The recorder against direct TCP on loopback, same run (bench/record_bench.cpp):
# bulk throughput, CPU per GB, peak RSS while recording MB_TOTAL MiB, and the added
# round-trip latency of a small message. The bulk traffic is a real display channel,
# replayed as fast as the connection takes it, from two sources:
#   ours   our server's `video` scenario at 400 fps, received by a SpiceClientGLib client
#   qemu   QEMU booting a Debian kernel in a loop with spice-gtk attached
#          (bench/make_qemu_capture.sh)
# Last, a real bulk display session direct and through the recorder (session pace).
# Usage: bench/record_bench.sh [MB_TOTAL] [ours|qemu|both|session]   (default 1024 both; root for tcpdump)
set -euo pipefail
cd "$(dirname "$0")/.."
total="${1:-1024}"
which="${2:-both}"
work=$(mktemp -d /tmp/record-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
sc=build/bin/spice-capture
run_one() {
  local name=$1 pcap=$2
  "$sc" import -q "$pcap" --db "$work/$name.db"
  echo "== $name =="
  build/bin/record_bench --spice-capture "$sc" --from-db "$work/$name.db" --mb "$total" --work-dir "$work"
}
if [ "$which" = ours ] || [ "$which" = both ]; then
  /usr/bin/python3 tests/peers/make_capture.py --out "$work/ours.pcap" --meta "$work/ours.json" --clients glib \
    --duration 6 --server cmd --server-cmd "$sc serve --port {port} --scenario video --fps 400" >&2
  run_one ours "$work/ours.pcap"
fi
if [ "$which" = qemu ] || [ "$which" = both ]; then
  bench/make_qemu_capture.sh "$work/qemu.pcap" "${QEMU_SECONDS:-20}" >&2
  run_one qemu "$work/qemu.pcap"
fi

# A real bulk display session, direct and through the recorder: our server's video
# scenario at 400 fps, image compression off, a SpiceClientGLib client for 6 s. The
# server and client set the pace; this says whether the recorder slows a session.
session_rate() {  # PCAP PORT -> display bytes per second to the client on PORT
  "$sc" import -q "$1" --port "$2" --db "$1.db"
  sqlite3 "$1.db" "SELECT printf('%.1f', SUM(s2c_bytes) / ((MAX(last_ts_ns) - MIN(first_ts_ns)) / 1e9) / 1e6)
                   FROM channels WHERE type_name = 'display' AND server LIKE '%:$2'"
}
serve_cmd="$sc serve --port {port} --scenario video --fps 400 --image-compression off --streaming-video off"
/usr/bin/python3 tests/peers/make_capture.py --out "$work/direct.pcap" --meta "$work/direct.json" --clients glib \
  --duration 6 --server cmd --server-cmd "$serve_cmd" >&2
/usr/bin/python3 tests/peers/make_capture.py --out "$work/via.pcap" --meta "$work/via.json" --clients glib \
  --duration 6 --server cmd --server-cmd "$serve_cmd" --recorder "$sc" --recorder-db "$work/via.db" >&2
port_of() { /usr/bin/python3 -c "import json,sys; m=json.load(open(sys.argv[1])); print(m[sys.argv[2]]['port'])" "$@"; }
direct=$(session_rate "$work/direct.pcap" "$(port_of "$work/direct.json" server)")
via=$(session_rate "$work/via.pcap" "$(port_of "$work/via.json" recorder)")
echo "== a real bulk display session (video, 400 fps, no compression, 6 s) =="
printf 'direct %s MB/s, through spice-capture record %s MB/s (%.1f%% of direct)\n' "$direct" "$via" \
  "$(echo "100 * $via / $direct" | bc -l)"
