#!/usr/bin/env bash
# Records a real, display-heavy SPICE session made by QEMU and spice-gtk, for the
# benchmarks: QEMU 7.2 (TCG, -vga qxl) boots a Debian kernel with no disk and no
# initrd, so the text console scrolls boot messages (initcall_debug, loglevel=8)
# until the kernel panics for lack of a root file system and reboots (panic=1),
# over and over; a SpiceClientGLib client (tests/peers/spice_client.py) stays
# connected the whole time and tcpdump records loopback.
#
#   bench/make_qemu_capture.sh OUT.pcap [SECONDS]     (default 30)
#
# Writes OUT.pcap and, beside it, OUT.json (the harness's meta file: server port,
# QEMU command, tcpdump counters). Needs root (tcpdump). The kernel comes from
# /boot when one is readable there, otherwise from Debian's linux-image package,
# downloaded once (apt-get download) into KERNEL_CACHE (default build/bench/kernel).
set -euo pipefail
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 OUT.pcap [SECONDS]" >&2
  exit 2
fi
out=$1
seconds=${2:-30}
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${KERNEL_CACHE:-$root/build/bench/kernel}"

# The newest kernel image in /boot, or "".
boot_kernel() {
  local k
  for k in $(ls -1v /boot/vmlinuz-* 2>/dev/null | tac); do
    if [ -r "$k" ]; then echo "$k"; return; fi
  done
}

# The versioned package linux-image-amd64 currently points at (linux-image-6.1.0-N-amd64).
kernel_package() {
  apt-cache depends linux-image-amd64 2>/dev/null | awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }'
}

download_kernel() {
  local pkg
  pkg=$(kernel_package)
  if [ -z "$pkg" ]; then
    apt-get update -qq >&2
    pkg=$(kernel_package)
  fi
  [ -n "$pkg" ] || { echo "make_qemu_capture: apt-cache knows no linux-image-amd64" >&2; exit 1; }
  local image="$cache/${pkg#linux-image-}.vmlinuz"
  if [ ! -s "$image" ]; then
    mkdir -p "$cache"
    rm -f "$cache"/*.deb
    # Root downloads into a root-owned folder: apt's _apt sandbox user could not write there.
    (cd "$cache" && apt-get download -qq -o APT::Sandbox::User=root "$pkg") >&2
    local deb tmp
    deb=$(ls "$cache/${pkg}"_*.deb)
    tmp=$(mktemp -d "$cache/x.XXXXXX")
    # Only the compressed kernel: the modules would be hundreds of megabytes for nothing.
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" --wildcards './boot/vmlinuz-*'
    mv "$tmp"/boot/vmlinuz-* "$image"
    rm -rf "$tmp" "$deb"
  fi
  echo "$image"
}

kernel=$(boot_kernel)
[ -n "$kernel" ] || kernel=$(download_kernel)

# No root= and no initrd: the kernel panics at mount time and panic=1 reboots it
# a second later, so the console never stops scrolling and each reboot also
# switches the display mode (SeaBIOS splash, text mode). streaming-video=all
# (merged into make_capture.py's -spice option) lets the server turn the
# scrolling console into video streams as well as draw_copy images.
qemu_args="-m 256 -kernel $kernel -append 'console=tty0 initcall_debug ignore_loglevel loglevel=8 panic=1'"
qemu_args+=" -spice streaming-video=all"

/usr/bin/python3 "$root/tests/peers/make_capture.py" --out "$out" --meta "${out%.pcap}.json" \
  --server qemu --clients glib --duration "$seconds" --extra-qemu-args "$qemu_args"
