#!/usr/bin/python3
"""Record the agent sessions the agent tests share: real spice-gtk clients
(spice_client.py) against `spice-capture serve` with its simulated guest agent.

  full    files of 0, 1, 2047, 2048, 2049 bytes and 5 MB one by one, three at once,
          clipboard text and PNG both ways, a two-head monitors config
  cancel  the client cancels transfers after 1 MB (one alone, two of three at once)
  fail    the guest refuses with not-enough-space (detailed error)

Writes OUT/<name>.pcap and OUT/<name>.json (make_capture.py's meta, with the
client's summary), the files sent under OUT/src, and OUT/manifest.json with every
sent file's size and SHA-256. Exits non-zero if any recording failed.
"""

import argparse
import hashlib
import json
import os
import random
import struct
import subprocess
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
GUEST_TEXT = 'héllo wörld ✓ 日本'
CLIENT_TEXT = 'grüße ✓ 日本語\nline two'
SIZES = {'f0.bin': 0, 'f1.bin': 1, 'f2047.bin': 2047, 'f2048.bin': 2048, 'f2049.bin': 2049,
         'f5m.bin': 5_000_000, 'h70k.bin': 70_000, 'g3m.bin': 3_000_000}


def png(width, height):
    """A small RGB gradient PNG, made without any imaging library."""
    def chunk(tag, data):
        return struct.pack('>I', len(data)) + tag + data + struct.pack('>I', zlib.crc32(tag + data))
    rows = b''.join(b'\0' + bytes(v for x in range(width) for v in (x * 4 % 256, y * 5 % 256, 128))
                    for y in range(height))
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)) +
            chunk(b'IDAT', zlib.compress(rows)) + chunk(b'IEND', b''))


def make_inputs(src):
    os.makedirs(src, exist_ok=True)
    rng = random.Random(20261202)
    files = {}
    for name, size in SIZES.items():
        data = rng.randbytes(size)
        with open(os.path.join(src, name), 'wb') as f:
            f.write(data)
        files[name] = {'size': size, 'sha256': hashlib.sha256(data).hexdigest()}
    pic = png(64, 48)
    with open(os.path.join(src, 'pic.png'), 'wb') as f:
        f.write(pic)
    files['pic.png'] = {'size': len(pic), 'sha256': hashlib.sha256(pic).hexdigest()}
    return files


def record(out, name, spice_capture, serve_args, client_args):
    files_dir = os.path.join(out, name + '-received')
    server = ('%s serve --port {port} --agent --copy-paste --file-xfer --files-dir %s %s'
              % (spice_capture, files_dir, serve_args))
    cmd = ['/usr/bin/python3', os.path.join(HERE, 'make_capture.py'),
           '--out', os.path.join(out, name + '.pcap'), '--meta', os.path.join(out, name + '.json'),
           '--clients', 'glib', '--duration', '40', '--server', 'cmd', '--server-cmd', server,
           '--client-args', client_args + ' --end-after-agent']
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=150, check=False)
    if r.returncode != 0:
        sys.stderr.write('%s: make_capture.py failed (%d):\n%s\n' % (name, r.returncode, r.stdout.decode()[-3000:]))
    return r.returncode == 0


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--out', required=True, help='directory to write into')
    p.add_argument('--spice-capture', required=True, help='the spice-capture binary (its serve command)')
    args = p.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    src = os.path.join(args.out, 'src')
    files = make_inputs(src)
    s = lambda n: os.path.join(src, n)  # noqa: E731
    one_by_one = ' '.join('--send-file ' + s(n) for n in ('f0.bin', 'f1.bin', 'f2047.bin', 'f2048.bin',
                                                          'f2049.bin', 'f5m.bin'))
    sessions = {
        'full': ("--guest-clipboard '%s'" % GUEST_TEXT,
                 "%s --send-files %s,%s,%s --request-guest-clipboard --clipboard-text '%s' --clipboard-png %s "
                 "--monitors 1024x768,800x600" % (one_by_one, s('h70k.bin'), s('g3m.bin'), s('f2049.bin'),
                                                   CLIENT_TEXT, s('pic.png'))),
        'cancel': ('', '--send-file %s --send-files %s,%s,%s --cancel-file-after 1000000'
                   % (s('f5m.bin'), s('g3m.bin'), s('f5m.bin'), s('f2049.bin'))),
        'fail': ('--file-xfer-fail not-enough-space', '--send-file %s --send-file %s' % (s('f2049.bin'), s('f5m.bin'))),
    }
    ok = True
    for name, (serve_args, client_args) in sessions.items():
        ok = record(args.out, name, args.spice_capture, serve_args, client_args) and ok
    with open(os.path.join(args.out, 'manifest.json'), 'w') as f:
        json.dump({'files': files, 'guest_text': GUEST_TEXT, 'client_text': CLIENT_TEXT,
                   'sessions': sorted(sessions)}, f, indent=2, ensure_ascii=False)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
