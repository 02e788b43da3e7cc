#!/usr/bin/env bash
# The agent path on a real agent session (tests/peers/make_agent_sessions.py: spice-gtk
# sending 8 MB of files and sharing the clipboard with our guest agent), against
# tshark -V on the same file in the same run: import (which reassembles and decodes
# every agent message and follows every transfer), and files extract (which rebuilds
# the files from the stored main channel and checks their SHA-256).
# Usage: bench/agent_bench.sh [RUNS]   (best of RUNS, default 5; needs build/ and root)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
runs="${1:-5}"
work=$(mktemp -d /tmp/agent-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 tests/peers/make_agent_sessions.py --out "$work/s" --spice-capture build/bin/spice-capture >&2
pcap="$work/s/full.pcap"
mb=$(/usr/bin/python3 -c "import os,sys; print(os.path.getsize(sys.argv[1]) / 1048576)" "$pcap")
import_once() { rm -f "$work/a.db"*; build/bin/spice-capture import "$pcap" --db "$work/a.db" -q; }
t_tshark=$(best_of "$runs" tshark -r "$pcap" -V)
t_import=$(best_of "$runs" import_once)
import_once
extract_once() { rm -rf "$work/out"; build/bin/spice-capture files extract -o "$work/out" --db "$work/a.db"; }
t_extract=$(best_of "$runs" extract_once)
files_mb=$(du -sm --apparent-size "$work/out" 2>/dev/null | cut -f1 || echo 0)
db_mb=$(/usr/bin/python3 -c "import os,sys; print(os.path.getsize(sys.argv[1]) / 1048576)" "$work/a.db")
printf 'capture %.1f MB; tshark -V %.3f s; import %.3f s (%.1fx tshark -V); files extract %.3f s for %s MB; database %.1f MB\n' \
  "$mb" "$t_tshark" "$t_import" "$(echo "$t_tshark / $t_import" | bc -l)" "$t_extract" "$files_mb" "$db_mb"
