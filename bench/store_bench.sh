#!/usr/bin/env bash
# The store's targets (issue 7), in one run, against tshark's built-in SPICE
# dissector on the same file. Prints a Markdown table for docs/PERFORMANCE.md.
#
#   bench/store_bench.sh [SOURCE] [MIN_MB] [BIG_MB]     (default: qemu 100 1024)
#
# SOURCE is `qemu` (QEMU booting a Debian kernel in a loop, spice-gtk attached) or a
# `serve` scenario (office, photo, ...): see bench/common.sh. The session is
# replicated to MIN_MB for the timed rows and to BIG_MB for the memory and query
# rows (BIG_MB=0 skips them). BUILD_DIR / BENCH_DIR as in run_bench.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
source_name="${1:-qemu}"
min_mb="${2:-100}"
big_mb="${3:-1024}"
if [ -z "${BUILD_DIR:-}" ]; then
  scripts/build.sh release >/dev/null
  BUILD_DIR=build
fi
work="${BENCH_DIR:-build/bench}/store-$source_name"
mkdir -p "$work"
bin="$BUILD_DIR/bin"

make_big_capture "$work" "$bin" "$source_name" "$min_mb"
one="$work/one.pcap"

fresh() { rm -f "$1" "$1-wal" "$1-shm"; }
import_once() { fresh "$work/s.db"; "$bin/spice-capture" import "$file" --db "$work/s.db" -q; }
import_images() { fresh "$work/i.db"; "$bin/spice-capture" import "$file" --db "$work/i.db" -q --images; }
# peak_rss FILE DB: import and print "seconds peak_kB"
peak_rss() {
  fresh "$2"
  /usr/bin/time -f "%e %M" "$bin/spice-capture" import "$1" --db "$2" -q 2>&1 >/dev/null | tail -1
}
first_rows() { "$bin/spice-capture" messages --db "$1" -n display.draw_copy --json -l 100 >/dev/null; }

t_import=$(best_of 3 import_once)
t_images=$(best_of 3 import_images)
images_db=$(stat -c %s "$work/i.db")
images=$(sqlite3 "$work/i.db" "SELECT count(*) FROM image_rows")
db_bytes=$(stat -c %s "$work/s.db")
file_bytes=$(stat -c %s "$file")
read -r _ rss_small < <(peak_rss "$file" "$work/s.db")
t_decode=$(best_of 3 "$bin/decode_throughput" "$file")
t_query=$(best_of 3 first_rows "$work/s.db")
t_tshark_v=$(best_of 1 tshark -r "$file" -d "tcp.port==$port,spice" -V)
messages=$("$bin/decode_throughput" "$file" | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['messages'])")

rate() { printf '%.1f' "$(echo "$mb / $1" | bc -l)"; }
ratio() { printf '%.2f' "$(echo "$1 / $2" | bc -l)"; }

big_rows=""
if [ "$big_mb" != 0 ]; then
  "$bin/replicate_pcap" "$one" "$work/huge.pcap" "$port" "$big_mb" >&2
  huge_bytes=$(stat -c %s "$work/huge.pcap")
  read -r t_huge rss_huge < <(peak_rss "$work/huge.pcap" "$work/huge.db")
  huge_db=$(stat -c %s "$work/huge.db")
  t_huge_query=$(best_of 3 first_rows "$work/huge.db")
  big_rows="| import of $(echo "scale=0; $huge_bytes / 1048576" | bc) MB | $(printf '%.3f' "$t_huge") s, $(printf '%.1f' "$(echo "$huge_bytes / 1048576 / $t_huge" | bc -l)") MB/s |
| database size, $(echo "scale=0; $huge_bytes / 1048576" | bc) MB capture | $(ratio "$huge_db" "$huge_bytes")x the capture ($huge_db bytes) |
| peak RSS importing $(echo "scale=0; $huge_bytes / 1048576" | bc) MB | $((rss_huge / 1024)) MB |
| \`messages -n display.draw_copy --json -l 100\` on the $(echo "scale=0; $huge_bytes / 1048576" | bc) MB import | $(printf '%.3f' "$t_huge_query") s |"
fi

cat <<TABLE
Capture: $source_name, $(printf '%.1f' "$mb") MB, $messages SPICE messages ($(date -u +%Y-%m-%d), $(nproc) cores, tshark $(tshark --version | head -1 | awk '{print $3}'))

| measure | figure |
|---|---|
| tshark -d tcp.port==P,spice -V | $(printf '%.3f' "$t_tshark_v") s |
| spice-capture import (decode + store) | $(printf '%.3f' "$t_import") s, $(rate "$t_import") MB/s, **$(ratio "$t_tshark_v" "$t_import")x tshark -V** |
| spice-capture import --images (every image decoded into the images table: $images images) | $(printf '%.3f' "$t_images") s, $(rate "$t_images") MB/s, **$(ratio "$t_tshark_v" "$t_images")x tshark -V**, $(ratio "$t_images" "$t_import")x the import's time, database $(ratio "$images_db" "$db_bytes")x |
| decode of every field, no store | $(printf '%.3f' "$t_decode") s, $(rate "$t_decode") MB/s, **$(ratio "$t_tshark_v" "$t_decode")x tshark -V** |
| database size | $(ratio "$db_bytes" "$file_bytes")x the capture ($db_bytes bytes) |
| peak RSS importing $(printf '%.0f' "$mb") MB | $((rss_small / 1024)) MB |
| \`messages -n display.draw_copy --json -l 100\` | $(printf '%.3f' "$t_query") s |
$big_rows
TABLE
