#!/usr/bin/python3
"""Record the sessions the render tests share: spicy-screenshot against QEMU
(-vga qxl, SeaBIOS screen) under every image-compression setting and WAN mode,
and against `spice-capture serve` scenarios that make GLZ, LZ4, JPEG, ZLIB_GLZ,
cache hits and MJPEG video streams. Each case is one make_capture.py run
(tcpdump on loopback, bounded lifetimes, processes stopped by their pids).

Writes OUT/<case>.pcap, OUT/<case>.shot.ppm (what the client showed at the
session's first display mark, when spicy-screenshot saves), for `serve` cases
OUT/<case>.expected.ppm (the simulator's own frame once its --frames are drawn:
what the screen holds at the end of the GLib client's session, the last one)
and OUT/manifest.json: [{name, pcap, shot,
expected_end, expect: [image types that must appear], lossy: bool}].

The mid-session cases (MIDSESSION_CASES) have spice-screen-dump (a SpiceClientGLib
client) as the only client, saving its screen every 0.25 s while the workload
runs: OUT/<case>.dumps/shots.json lists the pictures with the wall-clock time each
was taken, in the manifest as `shots`. `--only NAME,...` records some cases (merged into the manifest).
Exits 1 if a recording failed.
"""

import argparse
import json
import os
import shlex
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
QEMU = ('qemu-system-x86_64 -accel tcg -machine q35 -m 128 -display none -vga qxl '
        '-spice port={port},addr=127.0.0.1,disable-ticketing=on')

# name, server ('qemu' spice options | serve arguments), what must occur (image
# types; 'cache_hit': an image from the pixmap cache; 'glz_reference': a GLZ image
# that copies from earlier ones), lossy. spicy-screenshot leaves at its first mark,
# so what it saw of QEMU's boot depends on the machine's speed: what must occur in
# QEMU's GLZ sessions is asserted of the mid-session cases, whose client stays. JPEG never occurs here: neither server
# judges these images photographic on loopback, whatever jpeg-wan-compression says
# (the JPEG decoder is checked on real payloads in tests/unit/jpeg_test.cpp).
CASES = [
    ('qemu-off', 'qemu', 'image-compression=off', ['bitmap'], False),
    ('qemu-auto_glz', 'qemu', 'image-compression=auto_glz', [], False),
    ('qemu-auto_lz', 'qemu', 'image-compression=auto_lz', [], False),
    ('qemu-quic', 'qemu', 'image-compression=quic', ['quic'], False),
    ('qemu-glz', 'qemu', 'image-compression=glz', [], False),
    ('qemu-lz', 'qemu', 'image-compression=lz', ['lz_rgb'], False),
    ('qemu-jpeg-wan', 'qemu', 'image-compression=auto_glz,jpeg-wan-compression=always', [], True),
    ('qemu-zlib-wan', 'qemu', 'image-compression=glz,zlib-glz-wan-compression=always', [], False),
    ('serve-desktop-glz', 'serve', '--scenario desktop --frames 40 --image-compression glz', ['glz_rgb'], False),
    ('serve-office-auto_glz', 'serve', '--scenario office --frames 40 --image-compression auto_glz', [], False),
    ('serve-photo-quic', 'serve', '--scenario photo --frames 6 --image-compression quic', ['quic'], False),
    ('serve-photo-lz4', 'serve', '--scenario photo --frames 6 --image-compression lz4', ['lz4'], False),
    ('serve-photo-jpeg', 'serve', '--scenario photo --frames 6 --image-compression auto_glz --jpeg-wan always',
     [], True),
    ('serve-photo-zlib', 'serve', '--scenario photo --frames 6 --image-compression glz --zlib-glz-wan always',
     [], False),
    ('serve-video-mjpeg', 'serve', '--scenario video --frames 40 --fps 30 --streaming-video all', ['quic'], True),
]


# name, server, options, seconds, what must occur (as CASES): one client stays
# connected and saves its screen while the screen changes (QEMU: SeaBIOS and the
# boot messages; ours: the workload running). Being the only client, it sees our
# server's workload from its first frame: the desktop's tray blinks come from the
# pixmap cache here whatever the machine's load (in serve-desktop-glz the GLib
# client may connect after the workload ended).
MIDSESSION_CASES = [
    ('mid-qemu-glz', 'qemu', 'image-compression=glz', 5, ['glz_rgb', 'glz_reference']),
    ('mid-qemu-zlib-wan', 'qemu', 'image-compression=glz,zlib-glz-wan-compression=always', 5,
     ['zlib_glz_rgb', 'glz_reference']),
    ('mid-serve-desktop-glz', 'serve', '--scenario desktop --frames 60 --image-compression glz', 3,
     ['glz_rgb', 'from_cache', 'cache_hit']),
    ('mid-serve-office-lz', 'serve', '--scenario office --frames 60 --image-compression lz', 3, ['lz_rgb']),
    ('mid-serve-photo-quic', 'serve', '--scenario photo --frames 20 --fps 8 --image-compression quic', 3, ['quic']),
]


def record(name, stem, client_args, server, failed):
    """One make_capture.py run into STEM.pcap / STEM.json; False (name added to
    `failed`, its last line of output on stderr) when it failed."""
    cmd = [sys.executable, os.path.join(HERE, 'make_capture.py'), '--out', stem + '.pcap',
           '--meta', stem + '.json'] + client_args + ['--server', 'cmd', '--server-cmd', server]
    r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=180)
    if r.returncode != 0:
        failed.append(name)
        sys.stderr.write('%s: %s\n' % (name, (r.stderr or r.stdout).strip().splitlines()[-1:]))
        return False
    return True


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--out', required=True)
    p.add_argument('--spice-capture', required=True, help='build/bin/spice-capture (for serve)')
    p.add_argument('--only', default='', help='comma-separated case names')
    args = p.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    only = set(filter(None, args.only.split(',')))
    manifest_path = os.path.join(args.out, 'manifest.json')
    manifest = {}
    if only and os.path.exists(manifest_path):
        with open(manifest_path) as f:
            manifest = {c['name']: c for c in json.load(f)}
    failed = []
    screen_dump = os.path.join(os.path.dirname(os.path.abspath(args.spice_capture)), 'spice-screen-dump')
    for name, kind, opts, seconds, expect in MIDSESSION_CASES:
        if only and name not in only:
            continue
        stem = os.path.join(args.out, name)
        server = (QEMU + ',' + opts) if kind == 'qemu' else \
            '%s serve --addr 127.0.0.1 --port {port} --seed 7 %s' % (shlex.quote(args.spice_capture), opts)
        client_args = ['--clients', 'dump', '--screen-dump', screen_dump, '--duration', str(seconds)]
        if not record(name, stem, client_args, server, failed):
            continue
        manifest[name] = {'name': name, 'pcap': stem + '.pcap', 'shots': stem + '.dumps/shots.json',
                          'expect': expect, 'server': server}
    for name, kind, opts, expect, lossy in CASES:
        if only and name not in only:
            continue
        stem = os.path.join(args.out, name)
        if kind == 'qemu':
            server = QEMU + ',' + opts
        else:
            # The frame the simulator drew after its --frames: what the screen holds at the end.
            server = '%s serve --addr 127.0.0.1 --port {port} --seed 7 %s --expect-ppm %s' % (
                shlex.quote(args.spice_capture), opts, shlex.quote(stem + '.expected.ppm'))
        # Our server's cases add a GLib client that stays 3 s: its session sees the
        # workload to its end (spicy-screenshot leaves at its first mark).
        client_args = ['--clients', 'screenshot'] if kind == 'qemu' else ['--clients', 'screenshot,glib', '--duration', '3']
        if not record(name, stem, client_args, server, failed):
            continue
        manifest[name] = {'name': name, 'pcap': stem + '.pcap', 'shot': stem + '.shot.ppm',
                          'expect': expect, 'lossy': lossy, 'server': server,
                          'expected_end': stem + '.expected.ppm' if kind == 'serve' else None}
    with open(manifest_path, 'w') as f:
        json.dump(list(manifest.values()), f, indent=2)
    if failed:
        sys.stderr.write('make_display_sessions: failed: %s\n' % ', '.join(failed))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
