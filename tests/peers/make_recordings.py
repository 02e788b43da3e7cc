#!/usr/bin/python3
"""Record the sessions the recorder tests share: real clients through
`spice-capture record` to QEMU and to `spice-capture serve`, with tcpdump on
loopback capturing both legs (client to recorder, recorder to server), so a test
can compare what the client sent, what the server received and what the
recorder stored.

  qemu-plain    QEMU, every channel; spicy-screenshot then the GLib client
  qemu-tls      QEMU with only a TLS port; TLS on both legs (test CA)
  still         `serve --frames`: the screen stops changing; spicy-screenshot
                directly and through the recorder, and the frame it must show
  wrong-cert    the server's certificate is from another CA: refused
  need-secured  a plain link to a channel the server wants over TLS
  abrupt        a client killed mid-session, then the server killed mid-session
  concurrent    20 spicy-screenshot sessions at once
  serve-behind  `record --serve`: our server started behind the recorder, --sessions 1
  remote-viewer virt-viewer's remote-viewer under Xvfb through the recorder
  sigkill       the recorder SIGKILLed during a busy (video) session

Writes OUT/<name>/... and OUT/manifest.json. Every process is started with a
bounded lifetime and stopped by the pid it got. Exits 1 if a recording failed.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_capture as mc  # noqa: E402

SCREENSHOT_TIMEOUT_S = 30
CONCURRENT = 20


class Failed(Exception):
    pass


def run(cmd, timeout, **kw):
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          errors='replace', timeout=timeout, **kw)


class Serve:
    """`spice-capture serve` on ports it picks; stopped by its pid."""

    def __init__(self, sc, log, args, env=None):
        self.cmd = [sc, 'serve', '--addr', '127.0.0.1', '--port', '0'] + args
        self.log = open(log, 'w')
        self.proc = mc.start(self.cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=self.log, text=True, env=env)
        line = self._first_line()
        try:
            uri = line.split('spice://', 1)[1].strip()
            self.port = int(uri.split(':', 1)[1].split('?', 1)[0])
            self.tls_port = int(uri.split('tls-port=', 1)[1]) if 'tls-port=' in uri else None
        except (IndexError, ValueError) as err:
            self.stop()
            raise Failed('serve printed %r' % line) from err
        threading.Thread(target=lambda: [None for _ in self.proc.stdout], daemon=True).start()

    def _first_line(self):
        box = []
        t = threading.Thread(target=lambda: box.append(self.proc.stdout.readline()), daemon=True)
        t.start()
        t.join(20)
        if not box or not box[0]:
            self.stop()
            raise Failed('serve did not start: %s' % ' '.join(self.cmd))
        return box[0]

    def stop(self, sig=signal.SIGTERM):
        if self.proc:
            mc.stop(self.proc, sig)
            self.proc = None
            self.log.close()


def start_recorder(sc, db, log, args):
    """`spice-capture record` on a free port in front of a server, started; stop()
    with SIGINT (exit 0 expected) or another signal."""
    rec = mc.Recorder(sc, db, log, ['--port', '0'] + args)
    try:
        rec.start()
    except mc.HarnessError as err:
        raise Failed(str(err)) from err
    return rec


def screenshot(port, out, tls_port=None, ca=None, host='127.0.0.1'):
    cmd = ['spicy-screenshot', '-h', host, '-o', out]
    if port:
        cmd += ['-p', str(port)]
    env = None
    if tls_port:
        cmd += ['-s', str(tls_port)]
        env = dict(os.environ, SSL_CERT_FILE=ca)
    try:
        done = run(cmd, SCREENSHOT_TIMEOUT_S, env=env)
    except subprocess.TimeoutExpired:
        return {'exit_code': None, 'out': out, 'stderr_tail': ['timeout']}
    return {'exit_code': done.returncode, 'out': out if os.path.exists(out) else None,
            'stderr_tail': done.stderr.strip().splitlines()[-3:]}


def glib_client(uri, seconds, json_out, extra=()):
    cmd = [mc.SYSTEM_PYTHON, mc.SPICE_CLIENT, '--uri', uri, '--duration', str(seconds),
           '--json-out', json_out] + list(extra)
    return mc.start(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_capture(sc, d, extra):
    meta = os.path.join(d, 'session.json')
    cmd = [mc.SYSTEM_PYTHON, os.path.join(HERE, 'make_capture.py'), '--out', os.path.join(d, 'legs.pcap'),
           '--meta', meta, '--recorder', sc, '--recorder-db', os.path.join(d, 'recorder.db')] + extra
    done = run(cmd, 180)
    if done.returncode != 0:
        raise Failed('make_capture.py %s: %s' % (' '.join(extra), done.stderr.strip()[-400:]))
    with open(meta) as f:
        m = json.load(f)
    return {'pcap': os.path.join(d, 'legs.pcap'), 'db': os.path.join(d, 'recorder.db'),
            'server_port': m['server']['port'], 'recorder_port': m['recorder']['port'] or m['recorder']['tls_port'],
            'recorder_ports': [p for p in (m['recorder']['port'], m['recorder']['tls_port']) if p],
            'server_ports': [p for p in (m['server'].get('plain_port', m['server']['port']),
                                         m['server'].get('tls_port')) if p]}


def with_tcpdump(pcap, ports, body):
    t = mc.Tcpdump(pcap, ports)
    t.start()
    try:
        return body()
    finally:
        time.sleep(mc.CAPTURE_SETTLE_S)
        stats = t.stop()
        if stats.get('dropped_by_kernel'):
            raise Failed('tcpdump dropped packets')


def link_error(port, channel_type=1):
    """Send a plain SpiceLinkMess and return the link reply's error code."""
    body = struct.pack('<IBBIII', 0, channel_type, 0, 0, 0, mc.LINK_MESS_SIZE)
    header = struct.pack('<4sIII', b'REDQ', 2, 2, len(body))
    with socket.create_connection(('127.0.0.1', port), timeout=5) as s:
        s.sendall(header + body)
        reply = b''
        while len(reply) < 20:
            chunk = s.recv(20 - len(reply))
            if not chunk:
                break
            reply += chunk
    if len(reply) < 20 or reply[:4] != b'REDQ':
        raise Failed('no link reply through the recorder: %r' % reply)
    return struct.unpack('<I', reply[16:20])[0]


# --- the recordings ------------------------------------------------------------

def qemu_plain(sc, d, _ca):
    return make_capture(sc, d, ['--clients', 'screenshot,glib', '--duration', '3'])


def qemu_tls(sc, d, ca):
    return make_capture(sc, d, ['--clients', 'screenshot,glib', '--duration', '3', '--tls-dir', ca,
                                '--tls-only', '--host', 'localhost'])


def still(sc, d, _ca):
    expected = os.path.join(d, 'expected.ppm')
    server = Serve(sc, os.path.join(d, 'serve.log'),
                   ['--scenario', 'desktop', '--frames', '12', '--fps', '30', '--expect-ppm', expected,
                    '--streaming-video', 'off', '--jpeg-wan', 'never', '--zlib-glz-wan', 'never'])
    try:
        deadline = time.monotonic() + 20
        while not os.path.exists(expected) and time.monotonic() < deadline:
            time.sleep(0.05)  # written once the 12 frames are drawn
        time.sleep(0.2)
        direct = screenshot(server.port, os.path.join(d, 'direct.ppm'))
        rec = start_recorder(sc, os.path.join(d, 'recorder.db'), os.path.join(d, 'recorder.log'),
                     ['--server', '127.0.0.1:%d' % server.port])
        pcap = os.path.join(d, 'legs.pcap')
        proxied = with_tcpdump(pcap, [server.port, rec.port],
                               lambda: screenshot(rec.port, os.path.join(d, 'proxied.ppm')))
        code = rec.stop()
    finally:
        server.stop()
    return {'expected': expected, 'direct': direct, 'proxied': proxied, 'recorder_exit': code, 'pcap': pcap,
            'db': os.path.join(d, 'recorder.db'), 'server_ports': [server.port], 'recorder_ports': [rec.port]}


def wrong_cert(sc, d, ca):
    other = os.path.join(d, 'other-ca')
    if run([sc, 'serve', '--make-test-ca', other], 60).returncode != 0:
        raise Failed('cannot make a second CA')
    server = Serve(sc, os.path.join(d, 'serve.log'),
                   ['--scenario', 'desktop', '--tls-port', '0', '--tls-dir', ca])
    try:
        rec = start_recorder(sc, os.path.join(d, 'recorder.db'), os.path.join(d, 'recorder.log'),
                     ['--tls-server', '127.0.0.1:%d' % server.tls_port, '--ca', os.path.join(other, 'ca-cert.pem'),
                      '--tls-port', '0', '--cert', os.path.join(ca, 'server-cert.pem'),
                      '--key', os.path.join(ca, 'server-key.pem')])
        shot = screenshot(None, os.path.join(d, 'shot.ppm'), rec.tls_port, os.path.join(ca, 'ca-cert.pem'),
                          host='localhost')
        code = rec.stop()
    finally:
        server.stop()
    return {'client': shot, 'recorder_exit': code, 'recorder_events': rec.events, 'db': os.path.join(d, 'recorder.db')}


def need_secured(sc, d, ca):
    server = Serve(sc, os.path.join(d, 'serve.log'),
                   ['--scenario', 'desktop', '--tls-port', '0', '--tls-dir', ca, '--secure-channels', 'main'])
    try:
        direct = link_error(server.port)
        rec = start_recorder(sc, os.path.join(d, 'recorder.db'), os.path.join(d, 'recorder.log'),
                     ['--server', '127.0.0.1:%d' % server.port])
        proxied = link_error(rec.port)
        time.sleep(0.3)
        code = rec.stop()
    finally:
        server.stop()
    return {'direct_error': direct, 'proxied_error': proxied, 'recorder_exit': code,
            'db': os.path.join(d, 'recorder.db')}


def abrupt(sc, d, _ca):
    server = Serve(sc, os.path.join(d, 'serve.log'), ['--scenario', 'desktop'])
    rec = start_recorder(sc, os.path.join(d, 'recorder.db'), os.path.join(d, 'recorder.log'),
                 ['--server', '127.0.0.1:%d' % server.port])
    try:
        uri = 'spice://127.0.0.1:%d' % rec.port
        client = glib_client(uri, 20, os.path.join(d, 'killed-client.json'))
        time.sleep(3)
        # The database is read while the recorder writes it.
        live = run([sc, 'sessions', '--db', os.path.join(d, 'recorder.db'), '--json'], 30)
        live_messages = run([sc, 'messages', '--db', os.path.join(d, 'recorder.db'), '-n', 'main.init', '--json'], 30)
        client.kill()
        client.wait()
        # A killed process's kernel usually closes with FIN; a reset for certain:
        # a client that links and then closes with SO_LINGER 0.
        with socket.create_connection(('127.0.0.1', rec.port), timeout=5) as raw:
            body = struct.pack('<IBBIII', 0, 1, 0, 0, 0, mc.LINK_MESS_SIZE)
            raw.sendall(struct.pack('<4sIII', b'REDQ', 2, 2, len(body)) + body)
            raw.recv(16)
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        time.sleep(0.5)
        client = glib_client(uri, 6, os.path.join(d, 'second-client.json'))
        time.sleep(3)
        server.stop(signal.SIGKILL)
        client.wait(25)
        after = screenshot(rec.port, os.path.join(d, 'after.ppm'))  # the recorder is still up: refused upstream
        code = rec.stop()
    finally:
        server.stop()
        rec.stop()
    return {'recorder_exit': code, 'after_server_gone': after, 'db': os.path.join(d, 'recorder.db'),
            'live_sessions': {'exit_code': live.returncode, 'stdout': live.stdout, 'stderr': live.stderr},
            'live_main_init': {'exit_code': live_messages.returncode, 'stdout': live_messages.stdout}}


def remote_viewer(sc, d, _ca):
    """virt-viewer's remote-viewer under Xvfb through the recorder to our server."""
    db = os.path.join(d, 'recorder.db')
    rec = start_recorder(sc, db, os.path.join(d, 'recorder.log'), ['--serve', 'desktop'])
    log = open(os.path.join(d, 'remote-viewer.log'), 'w')
    viewer = mc.start(['xvfb-run', '-a', 'remote-viewer', 'spice://127.0.0.1:%d' % rec.port],
                      stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    try:
        time.sleep(6)
        alive = viewer.poll() is None
    finally:
        # xvfb-run, Xvfb and remote-viewer share the session the harness started.
        try:
            os.killpg(viewer.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            viewer.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(viewer.pid, signal.SIGKILL)
            viewer.wait()
        log.close()
        time.sleep(0.5)
        code = rec.stop()
    return {'viewer_alive_after_6s': alive, 'recorder_exit': code, 'db': db}


def serve_behind(sc, d, _ca):
    """`record --serve`: our server started behind the recorder by one command,
    which ends by itself once the first session has ended."""
    db = os.path.join(d, 'recorder.db')
    rec = start_recorder(sc, db, os.path.join(d, 'recorder.log'), ['--serve', 'desktop', '--sessions', '1'])
    shot = screenshot(rec.port, os.path.join(d, 'shot.ppm'))
    try:
        rec.proc.wait(30)
        ended_by_itself = True
    except subprocess.TimeoutExpired:
        ended_by_itself = False
    code = rec.stop()
    return {'client': shot, 'recorder_exit': code, 'ended_by_itself': ended_by_itself, 'db': db,
            'events': rec.events}


def concurrent(sc, d, _ca):
    # libspice-server takes one client at a time unless told otherwise.
    server = Serve(sc, os.path.join(d, 'serve.log'), ['--scenario', 'desktop'],
                   env=dict(os.environ, SPICE_DEBUG_ALLOW_MC='1'))
    try:
        rec = start_recorder(sc, os.path.join(d, 'recorder.db'), os.path.join(d, 'recorder.log'),
                     ['--server', '127.0.0.1:%d' % server.port])
        results = [None] * CONCURRENT

        def one(i):
            results[i] = screenshot(rec.port, os.path.join(d, 'shot%02d.ppm' % i))

        def all_at_once():
            threads = [threading.Thread(target=one, args=(i,)) for i in range(CONCURRENT)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(SCREENSHOT_TIMEOUT_S + 5)
        pcap = os.path.join(d, 'legs.pcap')
        with_tcpdump(pcap, [server.port, rec.port], all_at_once)
        code = rec.stop()
    finally:
        server.stop()
    return {'clients': results, 'recorder_exit': code, 'pcap': pcap, 'db': os.path.join(d, 'recorder.db'),
            'server_ports': [server.port], 'recorder_ports': [rec.port]}


def sigkill(sc, d, _ca):
    server = Serve(sc, os.path.join(d, 'serve.log'), ['--scenario', 'video', '--fps', '30'])
    try:
        rec = start_recorder(sc, os.path.join(d, 'recorder.db'), os.path.join(d, 'recorder.log'),
                     ['--server', '127.0.0.1:%d' % server.port])

        def busy():
            client = glib_client('spice://127.0.0.1:%d' % rec.port, 8, os.path.join(d, 'client.json'))
            time.sleep(3.5)
            killed['at_ns'] = time.time_ns()
            rec.stop(signal.SIGKILL)
            client.wait(30)
        killed = {}
        pcap = os.path.join(d, 'legs.pcap')
        with_tcpdump(pcap, [server.port, rec.port], busy)
    finally:
        server.stop()
    return {'pcap': pcap, 'db': os.path.join(d, 'recorder.db'), 'server_ports': [server.port],
            'recorder_ports': [rec.port], 'killed_at_ns': killed.get('at_ns')}


RECORDINGS = {'qemu-plain': qemu_plain, 'qemu-tls': qemu_tls, 'still': still, 'wrong-cert': wrong_cert,
              'need-secured': need_secured, 'abrupt': abrupt, 'serve-behind': serve_behind,
              'remote-viewer': remote_viewer, 'concurrent': concurrent, 'sigkill': sigkill}


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--out', required=True)
    p.add_argument('--spice-capture', required=True)
    p.add_argument('--only', default='', help='comma list of recordings (default: all)')
    args = p.parse_args(argv)
    sc = os.path.abspath(args.spice_capture)
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    ca = os.path.join(out, 'test-ca')
    if not os.path.exists(os.path.join(ca, 'server-cert.pem')):
        if run([sc, 'serve', '--make-test-ca', ca], 60).returncode != 0:
            sys.stderr.write('make_recordings: cannot make the test CA\n')
            return 1
    names = [n for n in args.only.split(',') if n] or list(RECORDINGS)
    manifest, status = {}, 0
    path = os.path.join(out, 'manifest.json')
    if args.only and os.path.exists(path):
        with open(path) as f:
            manifest = json.load(f)  # --only redoes some and keeps the others
    manifest['ca'] = ca
    for name in names:
        d = os.path.join(out, name)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        t0 = time.monotonic()
        try:
            manifest[name] = RECORDINGS[name](sc, d, ca)
            manifest[name]['seconds'] = round(time.monotonic() - t0, 2)
        except (Failed, mc.HarnessError, subprocess.TimeoutExpired, OSError) as err:
            manifest[name] = {'error': str(err)}
            sys.stderr.write('make_recordings: %s: %s\n' % (name, err))
            status = 1
        print('%s: %.1f s' % (name, time.monotonic() - t0))
    with open(path, 'w') as f:
        json.dump(manifest, f, indent=2)
    return status


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
