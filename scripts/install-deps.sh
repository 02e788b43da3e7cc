#!/usr/bin/env bash
# Installs every Debian 12 package spice-capture needs to build, test and run its
# showcase. Idempotent: packages already present are skipped, and apt is not touched
# at all when nothing is missing.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git clang-14 libfuzzer-14-dev
  # libraries we link
  libpcap-dev libssl-dev libsqlite3-dev sqlite3 libcli11-dev libgtest-dev libgmock-dev
  liblz4-dev zlib1g-dev libturbojpeg0-dev libspice-protocol-dev libspice-server-dev
  libspice-client-glib-2.0-dev libopus-dev
  nlohmann-json3-dev libbenchmark-dev libglib2.0-dev libpng-dev libasio-dev
  # real peers used by tests and the showcase
  qemu-system-x86 spice-client-gtk gir1.2-spiceclientglib-2.0 python3-gi
  virt-viewer xvfb tcpdump tshark wireshark-dev libwireshark-dev bc
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer for it.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
