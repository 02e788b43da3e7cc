#!/usr/bin/env bash
# The main job: installs what is missing, builds, and makes real SPICE sessions:
# QEMU with every channel recorded through `spice-capture record` (the recording
# proxy), plain and over TLS; our own server with its simulated desktop, agent and
# audio; and our server's guest agent receiving files and sharing the clipboard
# with a spice-gtk client (these two captured on loopback and imported). All go
# into one SQLite store; it shows what was found (the screens rebuilt to PNG, one
# compared with the client's own screenshot), files extracted byte for byte.
# Needs root for apt-get and tcpdump.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release

out="${SHOWCASE_DIR:-build/showcase}"
mkdir -p "$out"
rm -f "$out/session.db" "$out/session.db-wal" "$out/session.db-shm"
sc=build/bin/spice-capture
db="$out/session.db"
echo "== recording a real session through the recorder (spicy-screenshot, SpiceClientGLib -> spice-capture record -> QEMU) =="
/usr/bin/python3 tests/peers/make_capture.py --out "$out/session.pcap" --meta "$out/session.json" \
  --clients screenshot,glib --duration 5 --recorder "$sc" --recorder-db "$db"
echo "== recording a session with our own server (libspice-server + simulated guest, agent, audio) =="
/usr/bin/python3 tests/peers/make_capture.py --out "$out/ours.pcap" --meta "$out/ours.json" \
  --clients glib --duration 5 --server cmd \
  --server-cmd "$sc serve --port {port} --scenario desktop --agent --audio --name 'Bürodesktop ✓'"
echo "== recording an agent session (spice-gtk sends files and shares the clipboard with our guest agent) =="
mkdir -p "$out/sent"
head -c 300000 /dev/urandom >"$out/sent/report.pdf"
printf 'meeting notes\n' >"$out/sent/notes (draft).txt"
rm -rf "$out/received" "$out/extracted"
/usr/bin/python3 tests/peers/make_capture.py --out "$out/agent.pcap" --meta "$out/agent.json" \
  --clients glib --duration 30 --server cmd \
  --server-cmd "$sc serve --port {port} --agent --copy-paste --file-xfer --files-dir $out/received --guest-clipboard 'Grüße aus dem Gast ✓'" \
  --client-args "--send-files $out/sent/report.pdf,'$out/sent/notes (draft).txt' --request-guest-clipboard --clipboard-text 'copied on the client: 日本語' --end-after-agent"
echo "== recording a TLS-only QEMU through the recorder (TLS ended at the recorder on both legs) =="
[ -f "$out/tls-ca/server-cert.pem" ] || $sc serve --make-test-ca "$out/tls-ca" >/dev/null
/usr/bin/python3 tests/peers/make_capture.py --out "$out/tls.pcap" --meta "$out/tls.json" \
  --clients screenshot --tls-dir "$out/tls-ca" --tls-only --host localhost --recorder "$sc" --recorder-db "$db"
# Read whole outputs: a reader that stops early (head) would kill the writer with
# SIGPIPE, which pipefail turns into a failed showcase.
first() { awk -v n="$1" 'NR <= n'; }
echo
echo "== spice-capture import (the two loopback captures, into the same store; --images: every image decoded into the images table) =="
$sc import "$out/ours.pcap" "$out/agent.pcap" --db "$db" --images
echo
echo "== where each capture came from =="
sqlite3 -header -column "$db" "SELECT id, source, path, status FROM captures"
echo
echo "== the TLS session as the recorder stored it: decrypted, every message decoded =="
$sc channels --db "$db" --capture 2
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
$sc stats --db "$db" --capture 3 --type display -d s2c | sed -n '/Per message/,$p' | first 10
echo
echo "== what the user saw: QEMU's screen rebuilt from the recording, against spicy-screenshot's own picture =="
mark=$($sc messages --db "$db" --capture 1 --name display.mark --json --limit 1 |
  /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["id"])')
$sc render --db "$db" --capture 1 --after-message "$mark" -o "$out/qemu-screen.png" --compare "$out/session.shot.ppm"
echo
echo "== our simulated desktop at the end of its session, and the images that drew it =="
$sc render --db "$db" --capture 3 -o "$out/desktop-end.png"
$sc images --db "$db" --capture 3 --limit 8
echo
echo "== the images table from SQL: codecs and what the client's pixmap cache did =="
sqlite3 -header -column "$db" "SELECT type, cache, count(*) AS images, sum(compressed_size) AS wire_bytes,
  sum(decoded_size) AS decoded_bytes, sum(glz_references > 0) AS using_earlier_images FROM images GROUP BY 1, 2"
echo
echo "== traffic by message =="
$sc stats --db "$db" | sed -n '/Per message/,$p' | first 15
echo
echo "== the server's name, as UTF-8 text (main.name) =="
$sc messages --db "$db" --name main.name --json | /usr/bin/python3 -c 'import json,sys; [print(m["fields"]["name"]) for m in json.load(sys.stdin)]'
echo
echo "== the guest agent conversation (spice-capture agent) =="
$sc agent --db "$db" --capture 4
echo
echo "== clipboard, both ways =="
$sc clipboard --db "$db"
echo
echo "== file transfers, and the files rebuilt from the store =="
$sc files list --db "$db"
$sc files extract -o "$out/extracted" --db "$db"
for f in "$out/sent"/*; do
  cmp -s "$f" "$out/extracted/$(basename "$f")" && echo "identical to what was sent: $(basename "$f")" ||
    { echo "DIFFERS from what was sent: $(basename "$f")"; exit 1; }
done
echo
echo "== every field from plain SQL: the sqlite3 shell with the spicecap extension =="
sqlite3 -header -column "$db" ".load build/lib/spicecap" \
  "SELECT name, count(*) AS n, json_extract(spice_json(min(id)), '$.data.src_bitmap.descriptor.type') AS first_image_type
     FROM messages WHERE name = 'display.draw_copy' GROUP BY name;" \
  "SELECT spice_field(id, 'session_id') AS session_id, spice_field(id, 'agent_connected') AS agent FROM messages WHERE name = 'main.init';"
echo
echo "== store size against the imported captures =="
cap_bytes=$(( $(stat -c %s "$out/ours.pcap") + $(stat -c %s "$out/agent.pcap") ))
imported=$(sqlite3 "$db" "SELECT SUM(length(data)) FROM chunks WHERE channel IN (SELECT id FROM channels WHERE capture_id IN (3, 4))")
echo "captures: $cap_bytes bytes; their stream chunks in the store: $imported bytes ($(printf "%.2f" "$(echo "scale=3; $imported / $cap_bytes" | bc)")x); whole database $(stat -c %s "$db") bytes"
echo
echo "Database: $db   (try: $sc messages --db $db --name 'display.draw_*' --json | less)"
