#!/usr/bin/env bash
# tshark with the spicecap plugin against tshark with its built-in SPICE dissector,
# on the same display-heavy capture, in one run. Prints a Markdown table for
# docs/PERFORMANCE.md.
#
#   bench/wireshark_bench.sh [SOURCE] [MIN_MB]      (default: office 100)
#
# BUILD_DIR=dir uses an existing build tree (spice-capture, replicate_pcap and the
# spicecap plugin built); without it, scripts/build.sh release builds build/.
# The capture is made like bench/run_bench.sh's: our server running the SOURCE
# scenario at a high frame rate and a SpiceClientGLib client, or with SOURCE
# `qemu` QEMU booting a kernel in a loop (bench/make_qemu_capture.sh); tcpdump,
# then replicate_pcap.
# Needs root (tcpdump); tshark runs as nobody, because tshark started as root
# ignores WIRESHARK_PLUGIN_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
scenario="${1:-office}"
min_mb="${2:-100}"
if [ -z "${BUILD_DIR:-}" ]; then
  scripts/build.sh release >/dev/null
  BUILD_DIR=build
fi
bin="$BUILD_DIR/bin"
plugins="$(cd "$BUILD_DIR/lib/wireshark/plugins" && pwd)"
work="${BENCH_DIR:-/tmp/spice-capture-wsbench}"
mkdir -p "$work"
chmod 755 "$work"

make_big_capture "$work" "$bin" "$scenario" "$min_mb"
chmod 644 "$file"
mb=$(/usr/bin/python3 -c "import os,sys; print(os.path.getsize(sys.argv[1]) / 1048576)" "$file")

home="$work/home"
mkdir -p "$home"
chmod 777 "$home"
as_user=()
if [ "$(id -u)" = 0 ]; then as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups); fi
ts() { "${as_user[@]}" env HOME="$home" WIRESHARK_PLUGIN_DIR="$plugins" tshark -r "$file" "$@"; }
"${as_user[@]}" env HOME="$home" WIRESHARK_PLUGIN_DIR="$plugins" tshark -G plugins | grep -q spicecap.so ||
  { echo "spicecap.so not loaded from $plugins" >&2; exit 1; }

plugin=(-d "tcp.port==$port,spicecap")
builtin=(-d "tcp.port==$port,spice" --disable-protocol spicecap)
t_pv=$(best_of 1 ts "${plugin[@]}" -V)
t_bv=$(best_of 1 ts "${builtin[@]}" -V)
t_pf=$(best_of 1 ts "${plugin[@]}" -T fields -e frame.number -e spicecap.message_type)
t_bf=$(best_of 1 ts "${builtin[@]}" -T fields -e frame.number -e spice.message_type)
t_py=$(best_of 1 ts "${plugin[@]}" -Y spicecap -q)
t_by=$(best_of 1 ts "${builtin[@]}" -Y spice -q)
msgs_p=$(ts "${plugin[@]}" -T fields -e spicecap.message_type -Y spicecap | tr ',' '\n' | grep -c .)
msgs_b=$(ts "${builtin[@]}" -T fields -e spice.message_type -Y spice | tr ',' '\n' | grep -c .)

rate() { echo "scale=1; $mb / $1" | bc -l; }
ratio() { echo "scale=2; $1 / $2" | bc -l; }
cat <<TABLE
Capture: $scenario scenario, $(printf '%.1f' "$mb") MB ($(date -u +%Y-%m-%d), $(nproc) cores, tshark $(tshark -v | head -1 | awk '{print $3}'))
Data-stage messages with a type: plugin $msgs_p, built-in $msgs_b.

| tshark run | plugin (s) | plugin MB/s | built-in (s) | built-in MB/s | plugin time / built-in time |
|---|---|---|---|---|---|
| -V | $(printf '%.2f' "$t_pv") | $(rate "$t_pv") | $(printf '%.2f' "$t_bv") | $(rate "$t_bv") | $(ratio "$t_pv" "$t_bv") |
| -T fields -e frame.number -e <abbrev>.message_type | $(printf '%.2f' "$t_pf") | $(rate "$t_pf") | $(printf '%.2f' "$t_bf") | $(rate "$t_bf") | $(ratio "$t_pf" "$t_bf") |
| -Y <abbrev> -q | $(printf '%.2f' "$t_py") | $(rate "$t_py") | $(printf '%.2f' "$t_by") | $(rate "$t_by") | $(ratio "$t_py" "$t_by") |

Plugin: \`tshark -r big.pcap -d tcp.port==$port,spicecap ...\`; built-in: \`tshark -r big.pcap -d tcp.port==$port,spice --disable-protocol spicecap ...\`.
TABLE
