#!/usr/bin/env bash
# The main job: installs what is missing, builds, makes two real SPICE sessions
# (QEMU with every channel, and our own server with its simulated desktop, agent
# and audio; spicy-screenshot and a SpiceClientGLib client typing, moving and
# clicking), captures them on loopback, decodes them into SQLite and shows what
# was found. Needs root for apt-get and tcpdump.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release

out="${SHOWCASE_DIR:-build/showcase}"
mkdir -p "$out"
rm -f "$out/session.db" "$out/session.db-wal" "$out/session.db-shm"
sc=build/bin/spice-capture
echo "== recording a real session (QEMU + spicy-screenshot + SpiceClientGLib) =="
/usr/bin/python3 tests/peers/make_capture.py --out "$out/session.pcap" --meta "$out/session.json" \
  --clients screenshot,glib --duration 5
echo "== recording a session with our own server (libspice-server + simulated guest, agent, audio) =="
/usr/bin/python3 tests/peers/make_capture.py --out "$out/ours.pcap" --meta "$out/ours.json" \
  --clients glib --duration 5 --server cmd \
  --server-cmd "$sc serve --port {port} --scenario desktop --agent --audio --name showcase"
db="$out/session.db"
echo
echo "== spice-capture import =="
$sc import "$out/session.pcap" "$out/ours.pcap" --db "$db"
echo
echo "== sessions =="
$sc sessions --db "$db"
echo
echo "== channels =="
$sc channels --db "$db"
echo
echo "== what the user typed and clicked (inputs channel) =="
$sc messages --db "$db" --name 'inputs.*' --direction c2s --limit 20
echo
echo "== session set-up (main channel) =="
$sc messages --db "$db" --name 'main.*' --direction s2c --limit 6
echo
echo "== what our simulated desktop drew (display channel) =="
$sc stats --db "$db" --capture 2 --type display -d s2c | sed -n '/Per message/,$p' | head -10
echo
echo "== traffic by message =="
$sc stats --db "$db" | sed -n '/Per message/,$p' | head -15
echo
echo "Database: $db   (try: $sc messages --db $db --name 'display.draw_*' --json | less)"
