#!/usr/bin/python3
"""Record one real SPICE session into a pcap file.

Starts a SPICE server on a free 127.0.0.1 port (QEMU with no guest disk, or any
command given with --server cmd; with --tls-dir QEMU also gets a TLS port, or only
that with --tls-only), starts tcpdump on loopback for its port(s), runs
real clients against it one after the other (spicy-screenshot, then the
SpiceClientGLib client spice_client.py), stops tcpdump and the server by the
process ids it started, and writes a JSON meta file describing the run.

Every wait is bounded and every started process is stopped on the way out,
also on Ctrl-C or SIGTERM. Exits 1 with a one-line error if anything fails.
"""

import argparse
import json
import os
import re
import shlex
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SPICE_CLIENT = os.path.join(HERE, 'spice_client.py')
# Debian's python3-gi lives under /usr/bin/python3, not under a pyenv python.
SYSTEM_PYTHON = '/usr/bin/python3'

SERVER_START_TIMEOUT_S = 20
TCPDUMP_READY_TIMEOUT_S = 10
PROCESS_STOP_TIMEOUT_S = 5
SCREENSHOT_TIMEOUT_S = 30
# Beyond its own hard timeout (duration + 20 s) the GLib client gets this long.
GLIB_CLIENT_MARGIN_S = 30
# Lets the last FIN/ACK segments reach tcpdump before it is stopped.
CAPTURE_SETTLE_S = 0.3

SPICE_CHANNEL_MAIN = 1
LINK_MESS_SIZE = 18  # SpiceLinkMess without capabilities; also its caps_offset

# Written to every port channel: the QMP monitor port answers with real JSON.
DEFAULT_PORT_DATA = '{"execute":"qmp_capabilities"}\n{"execute":"query-status"}\n'

QEMU_BASE = ['qemu-system-x86_64', '-accel', 'tcg', '-machine', 'q35', '-m', '128',
             '-display', 'none', '-vga', 'qxl']

# Optional QEMU devices, each self-contained (own USB controller, own
# virtio-serial bus) so that one can be dropped without breaking another.
# The last field lists the client channels (type, port name) it should create.
# Test and webdav ports use virtconsole rather than virtserialport: with no
# guest nobody opens a virtserialport, and spice-gtk refuses to write to a
# closed port; a virtconsole is opened by QEMU itself.
QEMU_FEATURES = [
    ('audio',
     ['-audiodev', 'spice,id=snd0', '-device', 'intel-hda,id=hda0',
      '-device', 'hda-duplex,audiodev=snd0,bus=hda0.0'],
     [('playback', None), ('record', None)]),
    ('usbredir',
     ['-chardev', 'spicevmc,id=usbredir0,name=usbredir',
      '-device', 'qemu-xhci,id=xhci-redir',
      '-device', 'usb-redir,chardev=usbredir0,bus=xhci-redir.0'],
     [('usbredir', None)]),
    ('smartcard',
     ['-chardev', 'spicevmc,id=ccid0,name=smartcard',
      '-device', 'qemu-xhci,id=xhci-ccid',
      '-device', 'usb-ccid,id=ccid,bus=xhci-ccid.0',
      '-device', 'ccid-card-passthru,chardev=ccid0,bus=ccid.0'],
     [('smartcard', None)]),
    ('test-port',
     ['-device', 'virtio-serial-pci,id=vser-test',
      '-chardev', 'spiceport,id=port0,name=org.example.test',
      '-device', 'virtconsole,chardev=port0,name=org.example.test,bus=vser-test.0'],
     [('port', 'org.example.test')]),
    ('webdav-port',
     ['-device', 'virtio-serial-pci,id=vser-webdav',
      '-chardev', 'spiceport,id=webdav0,name=org.spice-space.webdav.0',
      '-device', 'virtconsole,chardev=webdav0,name=org.spice-space.webdav.0,bus=vser-webdav.0'],
     [('webdav', 'org.spice-space.webdav.0')]),
    ('qmp-port',
     ['-chardev', 'spiceport,id=qmp0,name=org.qemu.monitor.qmp.0',
      '-mon', 'chardev=qmp0,mode=control'],
     [('port', 'org.qemu.monitor.qmp.0')]),
]


class HarnessError(Exception):
    """A step failed; the message is the one-line error shown to the user."""


class ClientFailed(HarnessError):
    """A client failed; carries its record so the meta file still shows it."""

    def __init__(self, record, message):
        super().__init__(message)
        self.record = record


class Terminated(Exception):
    """SIGTERM arrived; unwinds like Ctrl-C so cleanup runs."""


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--out', required=True, help='pcap file to write')
    p.add_argument('--meta', required=True, help='JSON file describing the run')
    p.add_argument('--server', choices=('qemu', 'cmd'), default='qemu',
                   help='qemu: QEMU with -spice; cmd: the --server-cmd command')
    p.add_argument('--server-cmd',
                   help='server command line for --server cmd; {port} is replaced')
    p.add_argument('--duration', type=float, default=6.0,
                   help='seconds the GLib client stays connected')
    p.add_argument('--image-compression', help='QEMU -spice image-compression= value')
    p.add_argument('--preferred-compression', help='passed to spice_client.py')
    p.add_argument('--clients', default='screenshot,glib',
                   help='comma list run in order: screenshot, glib, dump (spice-screen-dump: '
                        'saves the screen every --dump-every seconds for --duration)')
    p.add_argument('--screen-dump', metavar='PATH', help='the spice-screen-dump binary (for the dump client)')
    p.add_argument('--dump-every', type=float, default=0.25, help='seconds between the dump client\'s pictures')
    p.add_argument('--port-data', default=DEFAULT_PORT_DATA,
                   help='text the GLib client writes to every port channel')
    p.add_argument('--client-args', default='', metavar='ARGS',
                   help='more spice_client.py options, split like a shell command line and '
                        'appended to the GLib client\'s (e.g. agent actions: "--send-file F '
                        '--end-after-agent"); relative paths are from the current directory')
    p.add_argument('--extra-qemu-args', default='', help='appended to the QEMU command')
    p.add_argument('--tls-dir',
                   help='QEMU x509-dir (ca-cert.pem, server-cert.pem, server-key.pem): adds a '
                        'tls-port; the clients trust DIR/ca-cert.pem')
    p.add_argument('--tls-channels', default='',
                   help='comma list of QEMU tls-channel values (main, display, inputs, cursor, '
                        'playback, record, usbredir, smartcard, default = all): those channels '
                        'must use TLS')
    p.add_argument('--tls-only', action='store_true', help='no plain port, only the TLS one')
    p.add_argument('--recorder', metavar='SPICE_CAPTURE',
                   help='put `SPICE_CAPTURE record` between the clients and the server (on its own '
                        'ports, also captured, so the pcap holds both legs); needs --recorder-db')
    p.add_argument('--recorder-db', help='database the recorder writes')
    p.add_argument('--recorder-args', default='', help='more `record` options (shell words)')
    p.add_argument('--host', default='127.0.0.1',
                   help='name the clients connect to (the server listens on 127.0.0.1 only); '
                        'TLS clients send a name, not an address, as SNI: use localhost')
    args = p.parse_args(argv)
    args.client_list = [c for c in args.clients.split(',') if c]
    unknown = set(args.client_list) - set(CLIENTS)
    if unknown:
        p.error('unknown client(s): %s' % ', '.join(sorted(unknown)))
    if 'dump' in args.client_list and not args.screen_dump:
        p.error('the dump client needs --screen-dump')
    if args.server == 'cmd' and not args.server_cmd:
        p.error('--server cmd needs --server-cmd')
    if args.server != 'cmd' and args.server_cmd:
        p.error('--server-cmd is only used with --server cmd')
    if (args.tls_channels or args.tls_only) and not args.tls_dir:
        p.error('--tls-channels and --tls-only need --tls-dir')
    if args.tls_dir and args.server != 'qemu':
        p.error('--tls-dir is for --server qemu')
    if args.tls_dir:
        args.tls_dir = os.path.abspath(args.tls_dir)
    if bool(args.recorder) != bool(args.recorder_db):
        p.error('--recorder and --recorder-db go together')
    try:
        args.client_argv = shlex.split(args.client_args)
    except ValueError as err:
        p.error('--client-args: %s' % err)
    return args


# --- processes ---------------------------------------------------------------

def free_tcp_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def start(cmd, **kwargs):
    """Start a child in its own session: Ctrl-C reaches only us, and we stop
    the children ourselves, tcpdump first, so the capture is complete."""
    try:
        return subprocess.Popen(cmd, start_new_session=True, **kwargs)
    except OSError as err:
        raise HarnessError('cannot start %s: %s' % (cmd[0], err)) from err


def stop(proc, sig=signal.SIGTERM):
    """Signal one child by pid, wait a bounded time, then SIGKILL it.
    Returns True if it ended on the first signal."""
    if proc.poll() is not None:
        return True
    proc.send_signal(sig)
    try:
        proc.wait(PROCESS_STOP_TIMEOUT_S)
        return True
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return False


def wait_for_spice(proc, port, stderr_path, tls_ca=None):
    """Poll until the server answers a SPICE link message, or exits
    (over TLS, trusting the CA file tls_ca, when it is given).

    A TCP connect alone is not proof: QEMU opens its SPICE socket before it
    creates the devices, so a connect can succeed just before QEMU exits on
    a bad -device. The link reply comes from its main loop, after start-up.
    """
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise HarnessError('server exited with %d: %s'
                               % (proc.returncode, last_line(stderr_path)))
        if answers_spice_link(port, tls_ca):
            return
        time.sleep(0.05)
    raise HarnessError('server did not answer on port %d within %d s'
                       % (port, SERVER_START_TIMEOUT_S))


def answers_spice_link(port, tls_ca=None):
    """Send a main-channel SpiceLinkHeader + SpiceLinkMess (protocol 2.2, no
    capabilities) and check the reply starts with the REDQ magic."""
    body = struct.pack('<IBBIII', 0, SPICE_CHANNEL_MAIN, 0, 0, 0, LINK_MESS_SIZE)
    header = struct.pack('<4sIII', b'REDQ', 2, 2, len(body))
    try:
        with socket.create_connection(('127.0.0.1', port), timeout=1.0) as raw:
            s = raw
            if tls_ca:
                s = ssl.create_default_context(cafile=tls_ca).wrap_socket(raw, server_hostname='127.0.0.1')
            s.sendall(header + body)
            return s.recv(4) == b'REDQ'
    except (OSError, ssl.SSLError):
        return False


PORT_ATTEMPTS = 3
PORT_TAKEN_SIGNS = ('binding socket', 'Failed to open SPICE sockets', 'Address already in use', 'taken')


def port_was_taken(stderr_path):
    try:
        with open(stderr_path, errors='replace') as f:
            text = f.read()
    except OSError:
        return False
    return any(sign in text for sign in PORT_TAKEN_SIGNS)


def last_line(path):
    try:
        with open(path, errors='replace') as f:
            lines = [line.strip() for line in f if line.strip()]
    except OSError:
        return ''
    return lines[-1] if lines else '(no output)'


# --- server ------------------------------------------------------------------

def qemu_command(args, port, features, tls_port=None):
    spice = 'addr=127.0.0.1,disable-ticketing=on'
    if not args.tls_only:
        spice = 'port=%d,' % port + spice
    if tls_port:
        spice += ',tls-port=%d,x509-dir=%s' % (tls_port, args.tls_dir)
        for channel in filter(None, args.tls_channels.split(',')):
            spice += ',tls-channel=' + channel
    if args.image_compression:
        spice += ',image-compression=' + args.image_compression
    cmd = QEMU_BASE + ['-spice', spice]
    for _name, extra, _channels in features:
        cmd += extra
    return cmd + shlex.split(args.extra_qemu_args)


class Server:
    """The SPICE server process, started on a port and stopped by its pid."""

    def __init__(self, args, port, stderr_path, tls_port=None):
        self.args = args
        self.port = port
        self.tls_port = tls_port
        self.stderr_path = stderr_path
        self.proc = None
        self.cmd = None
        self.features = []
        self.dropped = {}   # QEMU feature name -> why it was dropped

    def start(self):
        if self.args.server == 'cmd':
            self._launch(shlex.split(self.args.server_cmd.replace('{port}', str(self.port))))
            return
        self.features = list(QEMU_FEATURES)
        try:
            self._launch(self._qemu(self.features))
        except HarnessError:
            self._drop_failing_features()
            self._launch(self._qemu(self.features))

    def _qemu(self, features):
        return qemu_command(self.args, self.port, features, self.tls_port)

    def _launch(self, cmd):
        self.stop()
        self.cmd = cmd
        with open(self.stderr_path, 'w') as err:
            self.proc = start(cmd, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=err)
        if self.args.tls_only:
            wait_for_spice(self.proc, self.tls_port, self.stderr_path, self.ca_file())
        else:
            wait_for_spice(self.proc, self.port, self.stderr_path)

    def ca_file(self):
        return os.path.join(self.args.tls_dir, 'ca-cert.pem') if self.args.tls_dir else None

    def listening_ports(self):
        return ([] if self.args.tls_only else [self.port]) + ([self.tls_port] if self.tls_port else [])

    def _drop_failing_features(self):
        """The full QEMU command failed: if the base command starts, try each
        feature alone on it and keep the ones that start."""
        self._launch(self._qemu([]))
        kept = []
        for feature in self.features:
            try:
                self._launch(self._qemu([feature]))
                kept.append(feature)
            except HarnessError as err:
                self.dropped[feature[0]] = str(err)
        self.stop()
        self.features = kept

    def stop(self):
        if self.proc is not None:
            stop(self.proc)
            self.proc = None

    def expected_channels(self):
        return {name: channels for name, _extra, channels in self.features}


class Recorder:
    """`spice-capture record --json DB ARGS` (ARGS say where the server is and which
    ports to listen on): the clients connect to its ports. Looks like a Server to
    the clients (port, tls_port, ca_file()). Also used by make_recordings.py."""

    def __init__(self, spice_capture, db, stderr_path, record_args, ca=None):
        self.stderr_path = stderr_path
        self.ca = ca
        self.port = None
        self.tls_port = None
        self.proc = None
        self.cmd = [spice_capture, 'record', '--db', os.path.abspath(db), '--json'] + record_args
        self.exit_code = None
        self.events = []

    @staticmethod
    def args_for(args, server):
        """The record options that put it in front of `server` as this run wants."""
        out = []
        if not args.tls_only:
            out += ['--server', '127.0.0.1:%d' % server.port, '--port', '0']
        if server.tls_port:
            # The recorder shows clients the server's own certificate (CN localhost)
            # and checks the server's against the same test CA.
            out += ['--tls-server', '127.0.0.1:%d' % server.tls_port, '--tls-port', '0',
                    '--ca', server.ca_file(), '--server-name', 'localhost',
                    '--cert', os.path.join(args.tls_dir, 'server-cert.pem'),
                    '--key', os.path.join(args.tls_dir, 'server-key.pem')]
        return out + shlex.split(args.recorder_args)

    def start(self):
        self.err = open(self.stderr_path, 'w')
        self.proc = start(self.cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=self.err, text=True)
        ready = threading.Event()

        def read():
            for line in self.proc.stdout:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                self.events.append(event)
                if event.get('event') == 'listening':
                    self.port = event.get('port') or 0
                    self.tls_port = event.get('tls_port') or None
                    ready.set()
        self.reader = threading.Thread(target=read, daemon=True)
        self.reader.start()
        if not ready.wait(SERVER_START_TIMEOUT_S):
            self.stop()
            raise HarnessError('recorder not listening after %d s: %s'
                               % (SERVER_START_TIMEOUT_S, last_line(self.stderr_path)))

    def ca_file(self):
        return self.ca

    def listening_ports(self):
        return [p for p in (self.port, self.tls_port) if p]

    def stderr(self):
        with open(self.stderr_path, errors='replace') as f:
            return f.read()

    def stop(self, sig=signal.SIGINT):
        """SIGINT is how a recording is ended: it must exit 0. Returns the exit code."""
        if self.proc is None:
            return self.exit_code
        stop(self.proc, sig)
        self.exit_code = self.proc.returncode
        self.reader.join(PROCESS_STOP_TIMEOUT_S)
        self.err.close()
        self.proc = None
        return self.exit_code


# --- capture -----------------------------------------------------------------

class Tcpdump:
    """tcpdump on lo for the server's ports; immediate mode and a large buffer
    so loopback bursts are not dropped and the last block is not lost."""

    def __init__(self, out, ports):
        self.cmd = ['tcpdump', '-i', 'lo', '--immediate-mode', '-B', '131072', '-U',
                    '-w', out, ' or '.join('tcp port %d' % p for p in ports)]
        self.proc = None
        self.lines = []
        self.listening = threading.Event()
        self.reader = None

    def start(self):
        self.proc = start(self.cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, errors='replace')
        self.reader = threading.Thread(target=self._read_stderr, daemon=True)
        self.reader.start()
        if not self.listening.wait(TCPDUMP_READY_TIMEOUT_S):
            raise HarnessError('tcpdump not listening after %d s: %s'
                               % (TCPDUMP_READY_TIMEOUT_S, ' | '.join(self.lines[-3:])))

    def _read_stderr(self):
        for line in self.proc.stderr:
            self.lines.append(line.rstrip('\n'))
            if 'listening on' in line:
                self.listening.set()

    def stop(self):
        """SIGINT makes tcpdump flush the file and print its counters."""
        if self.proc is None:
            return None
        clean = stop(self.proc, signal.SIGINT)
        self.reader.join(PROCESS_STOP_TIMEOUT_S)
        self.proc = None
        stats = self.stats()
        stats['stopped_cleanly'] = clean
        return stats

    def stats(self):
        found = {}
        for line in self.lines:
            m = re.match(r'(\d+) packets? (captured|received by filter|dropped by kernel)', line)
            if m:
                found[m.group(2).replace(' ', '_')] = int(m.group(1))
        return found


# --- clients -----------------------------------------------------------------

def run_client(name, cmd, timeout, env=None):
    """Run one client to completion, bounded; returns its meta record."""
    t0 = time.monotonic()
    try:
        done = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, errors='replace', timeout=timeout, env=env)
    except subprocess.TimeoutExpired as err:
        raise HarnessError('client %s did not finish within %d s' % (name, timeout)) from err
    except OSError as err:
        raise HarnessError('cannot start client %s: %s' % (name, err)) from err
    return {'name': name, 'cmd': cmd, 'exit_code': done.returncode,
            'seconds': round(time.monotonic() - t0, 3),
            'stderr_tail': done.stderr.strip().splitlines()[-5:]}


def require_success(record, output):
    """Raise unless the client exited 0 and wrote its output file."""
    if record['exit_code'] != 0:
        tail = record['stderr_tail'][-1] if record['stderr_tail'] else ''
        raise ClientFailed(record, 'client %s exited with %d: %s'
                           % (record['name'], record['exit_code'], tail))
    if not os.path.exists(output):
        raise ClientFailed(record, 'client %s wrote no %s' % (record['name'], output))


def fresh(path):
    """Remove a previous run's output, so it is never taken for this run's."""
    if os.path.exists(path):
        os.unlink(path)
    return path


def run_screenshot(args, server, stem):
    out = fresh(stem + '.shot.ppm')
    cmd = ['spicy-screenshot', '-h', args.host]
    if not args.tls_only:
        cmd += ['-p', str(server.port)]
    env = None
    if server.tls_port:
        # spicy-screenshot has no CA option: OpenSSL takes the test CA from here.
        cmd += ['-s', str(server.tls_port)]
        env = dict(os.environ, SSL_CERT_FILE=server.ca_file())
    cmd += ['-o', out]
    record = run_client('screenshot', cmd, SCREENSHOT_TIMEOUT_S, env)
    require_success(record, out)
    record['screenshot'] = out
    return record


def run_glib(args, server, stem):
    json_out = fresh(stem + '.glib.json')
    uri = 'spice://%s:%d' % (args.host, server.port)
    if server.tls_port:
        query = ([] if args.tls_only else ['port=%d' % server.port]) + ['tls-port=%d' % server.tls_port]
        uri = 'spice://%s?' % args.host + '&'.join(query)
    cmd = [SYSTEM_PYTHON, SPICE_CLIENT, '--uri', uri,
           '--duration', str(args.duration), '--port-data', args.port_data,
           '--json-out', json_out]
    if server.tls_port:
        cmd += ['--ca-file', server.ca_file()]
    if args.preferred_compression:
        cmd += ['--preferred-compression', args.preferred_compression]
    cmd += args.client_argv
    record = run_client('glib', cmd, args.duration + GLIB_CLIENT_MARGIN_S)
    if os.path.exists(json_out):
        # Also kept when the client failed: its summary says how far it got.
        with open(json_out) as f:
            record['summary'] = json.load(f)
    require_success(record, json_out)
    return record


def run_dump(args, server, stem):
    out = stem + '.dumps'
    if os.path.isdir(out):
        shutil.rmtree(out)  # a previous run's pictures are never taken for this run's
    index = os.path.join(out, 'shots.json')
    cmd = [args.screen_dump, '--host', args.host, '--port', str(server.port), '--out', out,
           '--every', str(args.dump_every), '--duration', str(args.duration)]
    record = run_client('dump', cmd, args.duration + GLIB_CLIENT_MARGIN_S)
    require_success(record, index)
    record['shots'] = index
    return record


CLIENTS = {'screenshot': run_screenshot, 'glib': run_glib, 'dump': run_dump}


def missing_channels(expected, records):
    """Channels a kept QEMU feature should have produced but the GLib client
    did not see (e.g. a device that starts but offers no SPICE channel)."""
    seen = set()
    for record in records:
        for ch in record.get('summary', {}).get('channels', []):
            if ch['opened']:
                seen.add((ch['type'], (ch.get('port') or {}).get('name')))
    if not seen:
        return {}
    return {feature: [' '.join(filter(None, (t, n))) for t, n in channels if (t, n) not in seen]
            for feature, channels in expected.items()
            if any((t, n) not in seen for t, n in channels)}


# --- orchestration -----------------------------------------------------------

def capture(args, meta):
    t_start = time.monotonic()
    out = os.path.abspath(args.out)
    stem = os.path.splitext(out)[0]
    # A port found free can be taken before the server binds it (an outgoing
    # connection elsewhere gets it as its ephemeral port): then try another.
    for attempt in range(1, PORT_ATTEMPTS + 1):
        port = free_tcp_port()
        tls_port = free_tcp_port() if args.tls_dir else None
        while tls_port == port:
            tls_port = free_tcp_port()
        # 'port' is the one to name with `import --port`: the TLS one when it is alone.
        meta.update(pcap=out, server={'kind': args.server, 'port': tls_port if args.tls_only else port})
        if tls_port:
            meta['server'].update(tls_port=tls_port, plain_port=None if args.tls_only else port,
                                  tls_channels=list(filter(None, args.tls_channels.split(','))))
        server = Server(args, port, stem + '.server.log', tls_port)
        try:
            server.start()
            break
        except HarnessError:
            server.stop()
            if attempt == PORT_ATTEMPTS or not port_was_taken(server.stderr_path):
                meta['server'].update(cmd=server.cmd, log=server.stderr_path)
                raise
    recorder = None
    target = server
    if args.recorder:
        recorder = Recorder(args.recorder, args.recorder_db, stem + '.recorder.log',
                            Recorder.args_for(args, server), server.ca_file())
        try:
            recorder.start()
        except HarnessError:
            recorder.stop()
            server.stop()
            raise
        target = recorder
    tcpdump = Tcpdump(out, server.listening_ports() + (recorder.listening_ports() if recorder else []))
    try:
        meta['server']['start_seconds'] = round(time.monotonic() - t_start, 3)
        tcpdump.start()
        meta['tcpdump'] = {'cmd': tcpdump.cmd}
        meta['clients'] = []
        for name in args.client_list:
            try:
                meta['clients'].append(CLIENTS[name](args, target, stem))
            except ClientFailed as err:
                meta['clients'].append(err.record)
                raise
        time.sleep(CAPTURE_SETTLE_S)
    finally:
        if recorder:
            recorder.stop()
            meta['recorder'] = {'cmd': recorder.cmd, 'port': recorder.port, 'tls_port': recorder.tls_port,
                                'db': os.path.abspath(args.recorder_db), 'exit_code': recorder.exit_code,
                                'events': recorder.events, 'log': recorder.stderr_path}
        # On failure too: the last command tried is what to debug.
        meta['server'].update(cmd=server.cmd, log=server.stderr_path,
                              features=[f[0] for f in server.features],
                              dropped_features=server.dropped)
        stats = tcpdump.stop()
        if stats is not None:
            meta.setdefault('tcpdump', {}).update(stats)
        server.stop()
        meta['total_seconds'] = round(time.monotonic() - t_start, 3)

    check_capture(meta['tcpdump'])
    if recorder and recorder.exit_code != 0:
        raise HarnessError('the recorder exited with %s (see %s)' % (recorder.exit_code, recorder.stderr_path))
    meta['missing_channels'] = missing_channels(server.expected_channels(), meta['clients'])


def check_capture(stats):
    if 'captured' not in stats:
        raise HarnessError('tcpdump printed no packet counts')
    if stats.get('dropped_by_kernel', 0):
        raise HarnessError('tcpdump: %d packets dropped by kernel' % stats['dropped_by_kernel'])
    if not stats['captured']:
        raise HarnessError('tcpdump captured no packets')


def write_meta(path, meta):
    with open(path, 'w') as f:
        json.dump(meta, f, indent=2)
        f.write('\n')


def on_sigterm(_signum, _frame):
    raise Terminated()


def main(argv):
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, on_sigterm)
    # Also when started in the background, where SIGINT arrives ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    meta = {'args': vars(args), 'error': None}
    for path in (args.out, args.meta):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    status = 0
    try:
        capture(args, meta)
    except HarnessError as err:
        meta['error'], status = str(err), 1
    except (KeyboardInterrupt, Terminated):
        meta['error'], status = 'interrupted', 130
    write_meta(args.meta, meta)
    if status:
        sys.stderr.write('make_capture: error: %s\n' % meta['error'])
        return status
    for feature, channels in meta['missing_channels'].items():
        sys.stderr.write('make_capture: warning: %s gave no %s channel\n'
                         % (feature, ', '.join(channels)))
    for feature, why in meta['server'].get('dropped_features', {}).items():
        sys.stderr.write('make_capture: warning: dropped QEMU %s: %s\n' % (feature, why))
    tc = meta['tcpdump']
    print('%s: %d packets, %d dropped, %.1f s'
          % (meta['pcap'], tc['captured'], tc.get('dropped_by_kernel', 0), meta['total_seconds']))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
