#!/usr/bin/env bash
# What each `serve` scenario puts on the wire: records SECONDS of each scenario
# with a SpiceClientGLib client attached, imports it, and prints server-to-client
# display bytes per second and the display message mix, measured by spice-capture.
#
#   bench/scenario_mix.sh [SECONDS]     (default 10)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"
scripts/build.sh release >/dev/null
work="${BENCH_DIR:-build/bench}/scenarios"
mkdir -p "$work"
sc=build/bin/spice-capture
printf '| scenario | display s2c bytes/s | all s2c bytes/s | display messages (s2c, top 5) |\n|---|---|---|---|\n'
for scenario in desktop office photo video cursor resize; do
  rm -f "$work/$scenario.db"*
  /usr/bin/python3 tests/peers/make_capture.py --out "$work/$scenario.pcap" --meta "$work/$scenario.json" \
    --clients glib --duration "$seconds" --server cmd \
    --server-cmd "$sc serve --port {port} --scenario $scenario --no-audio" >/dev/null 2>&1
  $sc import "$work/$scenario.pcap" --db "$work/$scenario.db" -q
  q() { sqlite3 "$work/$scenario.db" "$1"; }
  span=$(q "SELECT max(1, (max(ts_ns) - min(ts_ns)) / 1e9) FROM messages m JOIN channels c ON c.id = m.channel WHERE c.type_name = 'display'")
  display=$(q "SELECT CAST(sum(wire_size) / $span AS INT) FROM messages m JOIN channels c ON c.id = m.channel WHERE c.type_name = 'display' AND m.direction = 's2c'")
  all=$(q "SELECT CAST(sum(wire_size) / $span AS INT) FROM messages WHERE direction = 's2c' AND name NOT LIKE 'link.%'")
  mix=$(q "SELECT group_concat(n || ' ' || replace(name, 'display.', ''), ', ') FROM (SELECT name, count(*) n FROM messages m JOIN channels c ON c.id = m.channel WHERE c.type_name = 'display' AND m.direction = 's2c' AND name LIKE 'display.%' GROUP BY name ORDER BY n DESC LIMIT 5)")
  printf '| %s | %s | %s | %s |\n' "$scenario" "$display" "$all" "$mix"
done
