#!/usr/bin/env bash
# `render --every 1` over long real sessions, against the sessions' own length
# (the goal: at least 10x faster than real time). Records, once, a QEMU session
# (booting a Debian kernel in a loop, spice-gtk attached: the text console, an
# image per glyph; bench/make_qemu_capture.sh) and our server's desktop scenario at
# its default 25 fps with the GLib client, each SECONDS long (default 600), then
# times the render of one PNG per second of each, best of RUNS. Needs root (tcpdump).
#   bench/render_bench.sh [SECONDS] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
runs="${2:-3}"
source bench/common.sh
sc=build/bin/spice-capture
out=build/bench/render-$seconds
mkdir -p "$out"
if [ ! -s "$out/qemu.pcap" ]; then
  echo "recording a ${seconds} s QEMU session..." >&2
  bench/make_qemu_capture.sh "$out/qemu.pcap" "$seconds" >&2
fi
if [ ! -s "$out/ours.pcap" ]; then
  echo "recording a ${seconds} s desktop session from our server..." >&2
  /usr/bin/python3 tests/peers/make_capture.py --out "$out/ours.pcap" --meta "$out/ours.json" --clients glib \
    --duration "$seconds" --server cmd --server-cmd "$sc serve --port {port} --scenario desktop" >&2
fi
echo "| session | capture | session length | display messages | render --every 1 (best of $runs) | x real time |"
echo "|---|---|---|---|---|---|"
for name in qemu ours; do
  db="$out/$name.db"
  [ -s "$db" ] || $sc import "$out/$name.pcap" --db "$db" -q
  read -r length messages < <(sqlite3 "$db" "SELECT (max(m.ts_ns) - min(m.ts_ns)) / 1e9, count(*) FROM message_rows m
    JOIN channels c ON c.id = m.channel WHERE c.type_name = 'display' AND c.session = (SELECT min(id) FROM sessions)" | tr '|' ' ')
  render_once() { rm -rf "$out/$name.frames"; $sc render --db "$db" --every 1 -o "$out/$name.frames" -q; }
  t=$(best_of "$runs" render_once)
  frames=$(ls "$out/$name.frames" | wc -l)
  printf '| %s | %s MB | %.1f s | %s | %.2f s (%s PNGs) | %.1fx |\n' "$name" \
    "$(( $(stat -c %s "$out/$name.pcap") / 1048576 ))" "$length" "$messages" "$t" "$frames" "$(echo "$length / $t" | bc -l)"
done
