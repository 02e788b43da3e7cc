# Shared by the bench scripts (source it): making the benchmark capture and timing.

# make_big_capture WORK BIN SOURCE MIN_MB: records a real session and replicates
# it to at least MIN_MB megabytes. SOURCE is a `serve` scenario (our server running
# it at a high frame rate, a SpiceClientGLib client, tcpdump) or `qemu` (QEMU
# booting a Debian kernel in a loop with spice-gtk attached, see
# bench/make_qemu_capture.sh; QEMU_SECONDS long, default 30). Sets: file, port, mb.
make_big_capture() {
  local work=$1 bin=$2 source=$3 min_mb=$4
  if [ "$source" = qemu ]; then
    echo "recording a QEMU session..." >&2
    bench/make_qemu_capture.sh "$work/one.pcap" "${QEMU_SECONDS:-30}" >&2
  else
    echo "recording a $source session..." >&2
    /usr/bin/python3 tests/peers/make_capture.py --out "$work/one.pcap" --meta "$work/one.json" --clients glib \
      --duration 10 --server cmd \
      --server-cmd "$bin/spice-capture serve --port {port} --scenario $source --fps 400" >&2
  fi
  port=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['server']['port'])" "$work/one.json")
  "$bin/replicate_pcap" "$work/one.pcap" "$work/big.pcap" "$port" "$min_mb" >&2
  file="$work/big.pcap"
  mb=$(/usr/bin/python3 -c "import os,sys; print(os.path.getsize(sys.argv[1]) / 1048576)" "$file")
}

# best_of N COMMAND...: wall-clock seconds of the fastest of N runs, output discarded.
best_of() {
  local n=$1; shift
  local best=""
  for _ in $(seq "$n"); do
    local t0 t1 dt
    t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N)
    dt=$(echo "$t1 - $t0" | bc -l)
    if [ -z "$best" ] || [ "$(echo "$dt < $best" | bc -l)" = 1 ]; then best=$dt; fi
  done
  echo "$best"
}
