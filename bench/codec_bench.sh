#!/usr/bin/env bash
# Image decode throughput per codec (bench/codec_bench.cpp) on real sessions, with
# memcpy measured in the same run: QEMU with GLZ while it boots (GLZ images that
# reference earlier ones), QEMU with zlib-GLZ WAN, our server's photo scenario with
# QUIC, and our desktop with LZ4 asked for by the GLib client. Needs root (tcpdump).
#   bench/codec_bench.sh [PASSES]
set -euo pipefail
cd "$(dirname "$0")/.."
passes="${1:-5}"
sc=build/bin/spice-capture
out=build/bench/codecs
mkdir -p "$out"
rec() {  # name, then make_capture.py arguments
  local name="$1"; shift
  [ -s "$out/$name.db" ] && return 0
  /usr/bin/python3 tests/peers/make_capture.py --out "$out/$name.pcap" --meta "$out/$name.json" "$@" >/dev/null
  $sc import "$out/$name.pcap" --db "$out/$name.db" -q
}
rec qemu-glz --clients glib --duration 8 --image-compression glz
rec qemu-zlib --clients glib --duration 8 --server cmd --server-cmd \
  "qemu-system-x86_64 -accel tcg -machine q35 -m 128 -display none -vga qxl -spice port={port},addr=127.0.0.1,disable-ticketing=on,image-compression=glz,zlib-glz-wan-compression=always"
rec qemu-off --clients screenshot --image-compression off
rec qemu-quic --clients screenshot --image-compression quic
rec qemu-lz --clients screenshot --image-compression lz
rec ours-quic --clients glib --duration 6 --server cmd --server-cmd "$sc serve --port {port} --scenario photo --image-compression quic"
rec ours-lz --clients glib --duration 6 --server cmd --server-cmd "$sc serve --port {port} --scenario photo --image-compression lz"
rec ours-lz4 --clients glib --duration 6 --preferred-compression lz4 --server cmd --server-cmd "$sc serve --port {port} --scenario desktop"
# QEMU-made and our server's sessions apart: their images differ (QEMU's are many
# and small), and so do the figures.
for source in qemu ours; do
  args=()
  for d in "$out/$source"-*.db; do args+=(--db "$d"); done
  echo "== $source"
  build/bin/codec_bench "${args[@]}" --passes "$passes"
done
