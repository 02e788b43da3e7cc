#!/usr/bin/python3
"""Real SPICE client for the test harness, built on SpiceClientGLib.

Connects to a SPICE server, opens every channel the server offers, waits for the
display's primary surface, then drives the inputs channel (keys, relative and
absolute mouse, buttons), writes bytes to every port channel and, if the server
starts recording, sends half a second of a 440 Hz tone (a 10 ms frame every
10 ms, stamped 0, 10, 20... ms). With the agent options it also drives
the guest agent once the server reports it connected: file transfers, clipboard
both ways and a monitors config, one action after the other. After --duration
seconds (or, with --end-after-agent, shortly after the agent actions) it
disconnects and writes a JSON summary of what it did.

Exit codes: 0 session ran as planned, 2 the session failed (could not connect,
the server dropped it, no primary surface before the end, requested agent
actions not done before the end), 3 hard timeout
(--duration + 20 s) because the server or the library hung.

A file transfer the guest refuses or that is cancelled is a normal result,
recorded in the summary, not a failure.

Run it with /usr/bin/python3: the gi bindings come from Debian's python3-gi.
"""

import argparse
import array
import ctypes
import hashlib
import json
import math
import os
import re
import sys
import threading

import gi

gi.require_version('Gio', '2.0')
gi.require_version('SpiceClientGLib', '2.0')
from gi.repository import Gio, GLib, GObject, SpiceClientGLib as Spice  # noqa: E402

EXIT_OK, EXIT_SESSION_FAILED, EXIT_HARD_TIMEOUT = 0, 2, 3
HARD_TIMEOUT_MARGIN_S = 20
DISCONNECT_GRACE_MS = 3000
# Spacing between input events, so spice-gtk sends each one as its own message
# instead of merging mouse motions.
INPUT_STEP_MS = 40

# The microphone: this many 10 ms frames of one continuous tone, one frame
# every 10 ms (stamped 0, 10, 20... ms), once the server starts recording.
RECORD_FRAMES = 50
RECORD_TONE_HZ = 440
# PC/XT set-1 make codes of "a", "b", "c"; spice-gtk derives the break codes.
SCANCODES_ABC = (0x1E, 0x30, 0x2E)
# (SPICE_MOUSE_BUTTON_x, SPICE_MOUSE_BUTTON_MASK_x) for LEFT and RIGHT.
BUTTONS = ((1, 0x1), (3, 0x4))
_DONE = object()  # end marker of the paced input steps
# SPICE_PORT_EVENT_BREAK: the only client event spice-gtk lets an application send.
PORT_EVENT_BREAK = 2

# Agent (vd_agent.h): the CLIPBOARD selection and the clipboard types we use.
SELECTION_CLIPBOARD = 0
CLIPBOARD_TYPES = {0: 'none', 1: 'text', 2: 'png', 3: 'bmp', 4: 'tiff', 5: 'jpg'}
CLIPBOARD_TEXT, CLIPBOARD_PNG = 1, 2
MAX_MONITORS = 16  # spice-gtk's MAX_DISPLAY
# Pause before each agent action, so every one is its own burst in the capture.
AGENT_STEP_MS = 300
# The actions wait for the agent's capabilities (main-agent-update with caps
# set); if an agent never announces them, they start this long after it connected.
AGENT_CAPS_WAIT_MS = 2000
# How long a step waits for the guest: its clipboard grab, a clipboard request
# after our grab, clipboard data after our request.
GUEST_WAIT_MS = 5000
# --end-after-agent: disconnect this long after the last agent action.
AGENT_END_GRACE_MS = 1000

CHANNEL_FAILURES = {
    Spice.ChannelEvent.ERROR_CONNECT, Spice.ChannelEvent.ERROR_TLS,
    Spice.ChannelEvent.ERROR_LINK, Spice.ChannelEvent.ERROR_AUTH,
    Spice.ChannelEvent.ERROR_IO,
}


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--uri', required=True, help='spice://127.0.0.1:PORT')
    p.add_argument('--duration', type=float, default=6.0, help='seconds to stay connected')
    p.add_argument('--password')
    p.add_argument('--ca-file')
    p.add_argument('--preferred-compression', metavar='NAME',
                   help='image compression to ask for: ' + ', '.join(compression_names()))
    p.add_argument('--port-data', default='', help='text written to every port channel')
    p.add_argument('--json-out', help='write the JSON summary here')
    agent = p.add_argument_group('guest agent', 'actions run one after the other once the agent '
                                 'is connected: guest clipboard, client clipboard, files, monitors')
    agent.add_argument('--send-file', dest='transfers', action='append', metavar='PATH',
                       type=lambda v: [v], default=[],
                       help='copy PATH to the guest, one file_copy_async call; repeatable, '
                            'transfers run one after the other in command-line order')
    agent.add_argument('--send-files', dest='transfers', action='append', metavar='PATH[,PATH...]',
                       type=lambda v: v.split(','),
                       help='copy several files in one file_copy_async call (concurrent '
                            'transfers); repeatable')
    agent.add_argument('--cancel-file-after', type=int, metavar='BYTES',
                       help='cancel every transfer once at least BYTES of it are sent (spice-gtk '
                            'reports progress before each 64 KiB chunk; 0 = before any data)')
    agent.add_argument('--clipboard-text', metavar='TEXT',
                       help='grab the CLIPBOARD offering UTF-8 TEXT and answer the guest\'s request')
    agent.add_argument('--clipboard-png', metavar='FILE',
                       help='grab the CLIPBOARD offering the PNG FILE (after the text, if both)')
    agent.add_argument('--request-guest-clipboard', action='store_true',
                       help='wait for the guest\'s clipboard grab, request each offered type '
                            'among text and PNG and record what arrives')
    agent.add_argument('--monitors', metavar='WxH[+X+Y][,...]', type=parse_monitors,
                       help='send this monitors config (positions given for all heads are kept; '
                            'without positions spice-gtk lines the heads up left to right)')
    agent.add_argument('--end-after-agent', action='store_true',
                       help='disconnect %g s after the agent actions (and the input events) are '
                            'done instead of after --duration, which stays the upper bound'
                            % (AGENT_END_GRACE_MS / 1000))
    args = p.parse_args(argv)
    if args.preferred_compression and args.preferred_compression not in compression_names():
        p.error('unknown compression %r' % args.preferred_compression)
    for path in [path for group in args.transfers for path in group] + [args.clipboard_png]:
        if path is not None and not os.path.isfile(path):
            p.error('no such file: %r' % path)
    if args.cancel_file_after is not None and args.cancel_file_after < 0:
        p.error('--cancel-file-after must be >= 0')
    return args


def parse_monitors(text):
    """WxH[+X+Y],... -> [{'width', 'height', 'x', 'y'}]; x/y None when not given."""
    heads = []
    for item in text.split(','):
        m = re.fullmatch(r'(\d+)x(\d+)(?:\+(\d+)\+(\d+))?', item.strip())
        if not m or not int(m.group(1)) or not int(m.group(2)):
            raise argparse.ArgumentTypeError('bad monitor %r: want WxH or WxH+X+Y' % item)
        x, y = (int(m.group(3)), int(m.group(4))) if m.group(3) else (None, None)
        heads.append({'width': int(m.group(1)), 'height': int(m.group(2)), 'x': x, 'y': y})
    if len(heads) > MAX_MONITORS:
        raise argparse.ArgumentTypeError('at most %d monitors' % MAX_MONITORS)
    if len({h['x'] is None for h in heads}) > 1:
        raise argparse.ArgumentTypeError('give +X+Y for every monitor or for none')
    return heads


def blob_info(kind, data):
    return {'type': kind, 'size': len(data), 'sha256': hashlib.sha256(data).hexdigest()}


def compression_enum():
    pspec = Spice.Session.find_property('preferred-compression')
    return type(pspec.default_value)


def compression_names():
    """Nicks of SpiceImageCompress known to this spice-gtk (off, quic, lz4...)."""
    return {v.value_nick: k for k, v in compression_enum().__enum_values__.items()
            if v.value_nick != 'invalid'}


def start_hard_timeout(seconds):
    """Kill the process with exit code 3 if the main loop never returns."""
    def expire():
        sys.stderr.write('spice_client: hard timeout after %g s, exiting\n' % seconds)
        sys.stderr.flush()
        os._exit(EXIT_HARD_TIMEOUT)
    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()


def quiet_tone(frames, channels, rate, hz=RECORD_TONE_HZ):
    """A quiet tone as interleaved signed 16-bit samples, one phase throughout."""
    samples = array.array('h')
    for i in range(frames):
        value = int(1000 * math.sin(2 * math.pi * hz * i / rate))
        samples.extend([value] * channels)
    return samples.tobytes()


class CaptureClient:
    """One SPICE session that exercises every channel, then reports.

    Channel objects are only held while they live: spice-gtk emits the
    session's "disconnected" signal when the last channel is freed, so a
    Python reference kept past "channel-destroy" would stall the disconnect.
    Per-channel state lives in summary dicts passed as signal user data; file
    transfer tasks (which hold the main channel) are never stored either, the
    signals they emit bring them to the handlers.
    """

    def __init__(self, args):
        self.args = args
        self.loop = GLib.MainLoop()
        self.channels = []          # summary entries, in channel-new order
        self.inputs = None          # the InputsChannel while it is open
        self.primary = None
        self.input_counts = dict.fromkeys(('key_press', 'key_release', 'motion', 'position',
                                           'button_press', 'button_release'), 0)
        self.playback = {'started': False, 'data_messages': 0}
        self.record = {'started': False, 'messages_sent': 0, 'bytes_sent': 0}
        self.record_pcm = None
        self.failure = None
        self.ending = False
        self.disconnected = False
        self.inputs_started = False
        self.inputs_done = False
        self.main = None            # the MainChannel while it is open
        self._init_agent(args)
        # spice-gtk queues port writes by reference, without copying, and
        # PyGObject hands a bytes object's own buffer to C (a list would be a
        # temporary copy, freed before the data is sent): keep this one alive.
        self.port_payload = args.port_data.encode()
        self.session = self._make_session()

    def _make_session(self):
        session = Spice.Session(uri=self.args.uri, enable_audio=True,
                                enable_usbredir=True, enable_smartcard=True)
        if self.args.password is not None:
            session.props.password = self.args.password
        if self.args.ca_file:
            session.props.ca_file = self.args.ca_file
        if self.args.preferred_compression:
            value = compression_names()[self.args.preferred_compression]
            session.props.preferred_compression = compression_enum()(value)
        # Without the USB device manager the usbredir channel has no host side
        # and spice-gtk asserts when the channel comes up.
        Spice.UsbDeviceManager.get(session)
        GObject.Object.connect(session, 'channel-new', self._on_channel_new)
        GObject.Object.connect(session, 'channel-destroy', self._on_channel_destroy)
        GObject.Object.connect(session, 'disconnected', self._on_disconnected)
        return session

    # --- lifetime -----------------------------------------------------------

    def run(self):
        if not Spice.Session.connect(self.session):
            self.failure = 'spice_session_connect refused the URI'
            return
        GLib.timeout_add(int(self.args.duration * 1000), self._end)
        self.loop.run()

    def _fail(self, reason):
        if self.failure is None:
            self.failure = reason
        self._end()

    def _end(self):
        if self.ending:
            return False
        self.ending = True
        if self.failure is None and not self.inputs_started:
            self.failure = 'no primary surface and open inputs channel before the end'
        if self.failure is None and self.agent_planned and not self.agent['actions_done']:
            self.failure = ('agent actions not done before the end: %s'
                            % (self.agent_step if self.agent['connected'] else 'agent never connected'))
        if self.disconnected:
            self.loop.quit()
        else:
            self.session.disconnect()
            GLib.timeout_add(DISCONNECT_GRACE_MS, self._disconnect_overdue)
        return False

    def _disconnect_overdue(self):
        if self.failure is None:
            self.failure = 'session did not disconnect within %d ms' % DISCONNECT_GRACE_MS
        self.loop.quit()
        return False

    def _on_disconnected(self, _session):
        self.disconnected = True
        if self.ending:
            self.loop.quit()
        else:
            self._fail('server closed the session early')

    # --- channels -----------------------------------------------------------

    def _on_channel_new(self, _session, channel):
        ctype = channel.props.channel_type
        entry = {'type': Spice.Channel.type_to_string(ctype), 'type_id': ctype,
                 'id': channel.props.channel_id, 'opened': False, 'error': None}
        self.channels.append(entry)
        GObject.Object.connect(channel, 'channel-event', self._on_channel_event, entry)
        self._hook_channel(channel, entry)
        Spice.Channel.connect(channel)

    def _on_channel_destroy(self, _session, channel):
        if channel is self.inputs:
            self.inputs = None
        if channel is self.main:
            self.main = None

    def _hook_channel(self, channel, entry):
        if isinstance(channel, Spice.MainChannel):
            self.main = channel
            for signal, handler in (
                    ('main-agent-update', self._on_agent_update),
                    ('new-file-transfer', self._on_new_file_transfer),
                    ('main-clipboard-selection-grab', self._on_guest_grab),
                    ('main-clipboard-selection-request', self._on_guest_request),
                    ('main-clipboard-selection', self._on_guest_clipboard)):
                GObject.Object.connect(channel, signal, handler)
        elif isinstance(channel, Spice.DisplayChannel):
            GObject.Object.connect(channel, 'display-primary-create', self._on_primary)
        elif isinstance(channel, Spice.PortChannel):  # also WebdavChannel
            port = {'name': None, 'opened': False, 'write_requested': False,
                    'bytes_written': 0, 'write_error': None, 'bytes_received': 0,
                    'events_sent': 0}
            GObject.Object.connect(channel, 'notify::port-opened', self._on_port_opened, port)
            GObject.Object.connect(channel, 'port-data', self._on_port_data, port)
            entry['port'] = port
        elif isinstance(channel, Spice.PlaybackChannel):
            GObject.Object.connect(channel, 'playback-start', self._on_playback_start)
            GObject.Object.connect(channel, 'playback-data', self._on_playback_data)
        elif isinstance(channel, Spice.RecordChannel):
            GObject.Object.connect(channel, 'record-start', self._on_record_start)
            GObject.Object.connect(channel, 'record-stop', self._on_record_stop)

    def _on_channel_event(self, channel, event, entry):
        if event == Spice.ChannelEvent.OPENED:
            entry['opened'] = True
            self._on_channel_opened(channel, entry)
        elif event in CHANNEL_FAILURES:
            entry['error'] = event.value_nick
            if isinstance(channel, Spice.MainChannel):
                self._fail('main channel: %s' % event.value_nick)

    def _on_channel_opened(self, channel, entry):
        if isinstance(channel, Spice.InputsChannel):
            self.inputs = channel
            self._maybe_start_inputs()
        elif 'port' in entry:
            # A BREAK gives the capture a client-to-server PORT_EVENT message.
            channel.event(PORT_EVENT_BREAK)
            entry['port']['events_sent'] += 1
            if channel.props.port_opened:
                self._write_port(channel, entry['port'])

    # --- display and inputs -------------------------------------------------

    def _on_primary(self, _channel, fmt, width, height, *_rest):
        if self.primary is None:
            self.primary = {'format': fmt, 'width': width, 'height': height}
            self._maybe_start_inputs()

    def _maybe_start_inputs(self):
        ready = self.primary is not None and self.inputs is not None
        if ready and not self.inputs_started and not self.ending:
            self.inputs_started = True
            GLib.timeout_add(INPUT_STEP_MS, self._input_tick, iter(self._input_steps()))

    def _input_tick(self, steps):
        if next(steps, _DONE) is not _DONE:
            return True
        self.inputs_done = True
        self._maybe_end_after_agent()
        return False

    def _input_steps(self):
        """One input event per step; the caller's timer runs one step a tick."""
        for code in SCANCODES_ABC:
            yield self._send_input('key_press', code)
            yield self._send_input('key_release', code)
        for dx, dy in ((5, 0), (0, 5), (-3, -3)):
            yield self._send_input('motion', dx, dy, 0)
        w, h = self.primary['width'], self.primary['height']
        for x, y in ((w // 4, h // 4), (w // 2, h // 2), (3 * w // 4, h // 3)):
            yield self._send_input('position', x, y, 0, 0)
        for button, mask in BUTTONS:
            yield self._send_input('button_press', button, mask)
            yield self._send_input('button_release', button, 0)

    def _send_input(self, method, *args):
        """Send one input event if the inputs channel is still there."""
        if self.inputs is not None and not self.ending:
            getattr(self.inputs, method)(*args)
            self.input_counts[method] += 1

    # --- ports --------------------------------------------------------------

    def _on_port_opened(self, channel, _pspec, port):
        port['name'] = channel.props.port_name
        if channel.props.port_opened:
            self._write_port(channel, port)

    def _write_port(self, channel, port):
        """Write --port-data once; spice-gtk refuses writes until the server
        reports the port open (a guest or QEMU frontend opened the chardev)."""
        port['opened'] = True
        if self.port_payload and not port['write_requested']:
            port['write_requested'] = True
            channel.write_async(self.port_payload, None, self._on_port_written, port)

    @staticmethod
    def _on_port_written(channel, result, port):
        try:
            port['bytes_written'] += channel.write_finish(result)
        except GLib.Error as err:
            port['write_error'] = err.message

    @staticmethod
    def _on_port_data(_channel, _data, size, port):
        port['bytes_received'] += size

    # --- audio --------------------------------------------------------------

    def _on_playback_start(self, *_args):
        self.playback['started'] = True

    def _on_playback_data(self, _channel, _data, _size):
        self.playback['data_messages'] += 1

    def _on_record_start(self, channel, _fmt, channels, rate):
        """The server wants audio: RECORD_FRAMES frames of a quiet tone, one per 10 ms."""
        if self.record['started']:
            return
        self.record.update(started=True, rate=rate, channels=channels, tone_hz=RECORD_TONE_HZ)
        frame_bytes = (rate // 100) * channels * 2
        pcm = quiet_tone(RECORD_FRAMES * (rate // 100), channels, rate)
        # send_data takes a raw pointer (PyGObject passes only integers for
        # it); the buffer is kept for the session in case spice-gtk queues
        # it by reference like port writes.
        self.record_pcm = ctypes.create_string_buffer(pcm, len(pcm))
        base = ctypes.addressof(self.record_pcm)

        frames = iter(range(RECORD_FRAMES))

        def send_next():
            i = next(frames, None)
            # The closure holds the channel: let it go at the end or a stop.
            if i is None or self.ending or self.record.get('stopped'):
                return False
            channel.send_data(base + i * frame_bytes, frame_bytes, i * 10)
            self.record['messages_sent'] += 1
            self.record['bytes_sent'] += frame_bytes
            return True
        if send_next():
            GLib.timeout_add(10, send_next)

    def _on_record_stop(self, _channel):
        self.record['stopped'] = True

    # --- agent: plan and pacing ---------------------------------------------

    def _init_agent(self, args):
        """Summary state and the planned steps, in the order they run."""
        self.agent = {'connected': False, 'caps_received': False, 'caps_waited_out': False,
                      'files': [], 'transfers': [], 'clipboard_sent': [],
                      'clipboard_received': [], 'guest_grabs': [], 'monitors_sent': [],
                      'queue_flushes': 0, 'actions_done': False}
        self.agent_steps = []       # (name, start) still to run
        self.agent_step = None      # name of the step running now
        self.agent_started = False
        self.caps_timer = None
        self.guest_timer = None     # a step waiting for the guest
        self.waiting_for_grab = False
        self.guest_wanted = []      # clipboard types still to request from the guest
        self.guest_awaited = None   # the type requested, until its data arrives
        self.clipboard_offer = None  # (type, data) of our grab, until the guest asks
        # Like port writes: every bytes object handed to spice-gtk stays alive
        # for the session (clipboard_selection_notify copies today, but that is
        # not part of its contract).
        self.clipboard_payloads = []
        self.xfer_binding = None    # file entries of the file_copy_async call being made
        self.xfer_cancellable = None
        self.end_scheduled = False

        if args.request_guest_clipboard:
            self.agent_steps.append(('guest clipboard', self._request_guest_clipboard))
        if args.clipboard_text is not None:
            data = args.clipboard_text.encode('utf-8')
            self.agent_steps.append(('clipboard text', lambda: self._grab(CLIPBOARD_TEXT, data)))
        if args.clipboard_png:
            with open(args.clipboard_png, 'rb') as f:
                png = f.read()
            self.agent_steps.append(('clipboard png', lambda: self._grab(CLIPBOARD_PNG, png)))
        for paths in args.transfers:
            call = {'files': [], 'result': None, 'error': None}
            for path in paths:
                with open(path, 'rb') as f:
                    info = blob_info(None, f.read())
                entry = {'path': os.path.abspath(path), 'name': os.path.basename(path),
                         'size': info['size'], 'sha256': info['sha256'], 'result': None,
                         'error': None, 'bytes_progress': None, 'cancel_requested_at': None,
                         'transfer': len(self.agent['transfers'])}
                self.agent['files'].append(entry)
                call['files'].append(entry['name'])
            self.agent['transfers'].append(call)
            entries = self.agent['files'][-len(paths):]
            self.agent_steps.append(('send %s' % ', '.join(call['files']),
                                     lambda c=call, e=entries: self._send_files(c, e)))
        if args.monitors:
            self.agent_steps.append(('monitors config', self._send_monitors))
        self.agent_planned = bool(self.agent_steps)

    def _on_agent_update(self, channel):
        """main-agent-update: the agent (dis)connected or announced its caps."""
        if not channel.props.agent_connected:
            if self.agent_started and not self.agent['actions_done'] and not self.ending:
                self._fail('agent disconnected during: %s' % self.agent_step)
            return
        self.agent['connected'] = True
        # spice-gtk zeroes the caps when the agent connects and fills them from
        # its ANNOUNCE_CAPABILITIES; clipboard calls need them.
        if channel.props.agent_caps_0 != 0:
            self.agent['caps_received'] = True
            self._start_agent()
        elif self.caps_timer is None:
            self.caps_timer = GLib.timeout_add(AGENT_CAPS_WAIT_MS, self._caps_waited_out)

    def _caps_waited_out(self):
        self.caps_timer = None
        self.agent['caps_waited_out'] = True
        self._start_agent()
        return False

    def _start_agent(self):
        if self.caps_timer is not None:
            GLib.source_remove(self.caps_timer)
            self.caps_timer = None
        if not self.agent_started and not self.ending:
            self.agent_started = True
            self._agent_next()

    def _agent_next(self):
        """Run the next step after a pause; every step calls this when done."""
        self.agent_step = None
        if self.ending:
            return
        if not self.agent_steps:
            self.agent['actions_done'] = True
            self._maybe_end_after_agent()
            return
        self.agent_step, start = self.agent_steps.pop(0)

        def run():
            if self.ending:
                pass
            elif self.main is None or not self.main.props.agent_connected:
                self._fail('agent not connected for: %s' % self.agent_step)
            else:
                start()
            return False
        GLib.timeout_add(AGENT_STEP_MS, run)

    def _wait_for_guest(self, what):
        self.guest_timer = GLib.timeout_add(GUEST_WAIT_MS, self._guest_too_slow, what)

    def _guest_answered(self):
        if self.guest_timer is not None:
            GLib.source_remove(self.guest_timer)
            self.guest_timer = None

    def _guest_too_slow(self, what):
        self.guest_timer = None
        if not self.ending:
            self._fail('guest agent: no %s within %d ms' % (what, GUEST_WAIT_MS))
        return False

    def _maybe_end_after_agent(self):
        if (self.args.end_after_agent and self.agent['actions_done'] and self.inputs_done
                and not self.end_scheduled and not self.ending):
            self.end_scheduled = True
            GLib.timeout_add(AGENT_END_GRACE_MS, self._end)

    # --- agent: clipboard ---------------------------------------------------

    def _grab(self, ctype, data):
        """Offer one type on the CLIPBOARD; the guest asks for it right away."""
        self.clipboard_payloads.append(data)
        self.clipboard_offer = (ctype, data)
        self.main.clipboard_selection_grab(SELECTION_CLIPBOARD, [ctype])
        self._wait_for_guest('request for our %s grab' % CLIPBOARD_TYPES[ctype])

    def _on_guest_request(self, channel, selection, ctype):
        """The guest pastes: answer our own grab's offer, nothing else."""
        offer = self.clipboard_offer
        if offer is None or selection != SELECTION_CLIPBOARD or ctype != offer[0]:
            return False
        self.clipboard_offer = None
        channel.clipboard_selection_notify(selection, ctype, offer[1])
        self.agent['clipboard_sent'].append(blob_info(CLIPBOARD_TYPES[ctype], offer[1]))
        self._guest_answered()
        self._agent_next()
        return True

    def _on_guest_grab(self, _channel, selection, types, ntypes):
        types = [int(t) for t in list(types)[:ntypes]]
        self.agent['guest_grabs'].append(
            {'selection': selection, 'types': [CLIPBOARD_TYPES.get(t, str(t)) for t in types]})
        if selection == SELECTION_CLIPBOARD and self.waiting_for_grab:
            self.waiting_for_grab = False
            self._guest_answered()
            self._request_guest_clipboard()
        return True

    def _request_guest_clipboard(self):
        """Request every offered text/PNG type of the guest's latest grab."""
        grabs = [g for g in self.agent['guest_grabs'] if g['selection'] == SELECTION_CLIPBOARD]
        if not grabs:
            self.waiting_for_grab = True
            self._wait_for_guest('clipboard grab from the guest')
            return
        names = {v: k for k, v in CLIPBOARD_TYPES.items()}
        self.guest_wanted = [names[t] for t in grabs[-1]['types']
                             if t in ('text', 'png')]
        self._request_next_guest_type()

    def _request_next_guest_type(self):
        if not self.guest_wanted:
            self._agent_next()
            return False
        self.guest_awaited = self.guest_wanted.pop(0)
        self.main.clipboard_selection_request(SELECTION_CLIPBOARD, self.guest_awaited)
        self._wait_for_guest('%s clipboard data from the guest' % CLIPBOARD_TYPES[self.guest_awaited])
        return False

    def _on_guest_clipboard(self, _channel, selection, ctype, data, size):
        """Clipboard data from the guest (PyGObject gives the C array as bytes)."""
        payload = bytes(data)[:size] if not isinstance(data, int) else ctypes.string_at(data, size)
        got = blob_info(CLIPBOARD_TYPES.get(ctype, str(ctype)), payload)
        got['selection'] = selection
        self.agent['clipboard_received'].append(got)
        if self.guest_awaited is not None:
            self.guest_awaited = None
            self._guest_answered()
            GLib.timeout_add(AGENT_STEP_MS, self._request_next_guest_type)

    # --- agent: files and monitors ------------------------------------------

    def _send_files(self, call, entries):
        """One file_copy_async call for entries; the next step starts from its
        callback. No progress callback: PyGObject frees it when the call returns
        (it is annotated scope=call) but spice-gtk calls it later; progress
        comes from each task's transferred-bytes instead."""
        # A single transfer gets its own cancellable; several share none, so
        # that spice-gtk gives each task its own and one can go without the rest.
        self.xfer_cancellable = Gio.Cancellable() if len(entries) == 1 else None
        self.xfer_binding = list(entries)
        try:
            self.main.file_copy_async([Gio.File.new_for_path(e['path']) for e in entries],
                                      Gio.FileCopyFlags.NONE, self.xfer_cancellable,
                                      None, None, self._on_files_copied, call)
        finally:
            self.xfer_binding = None

    def _on_new_file_transfer(self, _channel, task):
        """Emitted inside file_copy_async for each file: bind task to its entry."""
        path = task.props.file.get_path()
        entry = next((e for e in self.xfer_binding or [] if e['path'] == path), None)
        if entry is None:
            return
        self.xfer_binding.remove(entry)
        GObject.Object.connect(task, 'notify::transferred-bytes', self._on_xfer_progress, entry)
        GObject.Object.connect(task, 'finished', self._on_xfer_finished, entry)

    def _on_xfer_progress(self, task, _pspec, entry):
        """Notified before each chunk is read: bytes read (and queued) so far."""
        done = task.props.transferred_bytes
        entry['bytes_progress'] = done
        limit = self.args.cancel_file_after
        if limit is not None and done >= limit and entry['cancel_requested_at'] is None:
            entry['cancel_requested_at'] = done
            if self.xfer_cancellable is not None:
                self.xfer_cancellable.cancel()
            else:
                task.cancel()   # cancels the task's own GCancellable

    def _on_xfer_finished(self, task, error, entry):
        entry['bytes_progress'] = task.props.transferred_bytes
        if error is None:
            entry['result'] = 'ok'
        else:
            # Cancelled when we asked for it; a guest that cancels is an error
            # ("The spice agent cancelled the file transfer").
            entry['result'] = 'cancelled' if entry['cancel_requested_at'] is not None else 'error'
            entry['error'] = error.message
            self._flush_agent_queue()

    def _flush_agent_queue(self):
        """A task that ends with an error (we cancelled, the guest refused or
        cancelled) makes spice-gtk queue a FILE_XFER_STATUS for the guest (in
        its own "finished" handler, which runs before ours); when that happens
        in the main context nothing wakes the main channel, and the message
        waits for the next one the server sends on main, or is lost at
        disconnect. Any client message flushes the agent queue; a request for
        the current mouse mode is one the server ignores."""
        if self.main is not None and not self.ending:
            self.main.request_mouse_mode(self.main.props.mouse_mode)
            self.agent['queue_flushes'] += 1

    def _on_files_copied(self, channel, result, call):
        """The whole call is over. spice-gtk runs this from its own "finished"
        handler of the last task, before ours: per-file results come after."""
        try:
            channel.file_copy_finish(result)
            call['result'] = 'ok'
        except GLib.Error as err:
            cancelled = err.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED)
            call['result'], call['error'] = ('cancelled' if cancelled else 'error'), err.message
        self.xfer_cancellable = None
        self._agent_next()

    def _send_monitors(self):
        """Set each head and send the config at once (no 1 s update timer).
        Positions given are sent as they are; without them spice-gtk's
        alignment puts the heads left to right at y=0."""
        heads = self.args.monitors
        positioned = heads[0]['x'] is not None
        if positioned:
            self.main.props.disable_display_position = False
            self.main.props.disable_display_align = True
        sent, left = [], 0
        for i, head in enumerate(heads):
            x, y = (head['x'], head['y']) if positioned else (0, 0)
            self.main.update_display(i, x, y, head['width'], head['height'], False)
            self.main.update_display_enabled(i, True, False)
            if not positioned:
                x, left = left, left + head['width']
            sent.append({'id': i, 'width': head['width'], 'height': head['height'], 'x': x, 'y': y})
        if not self.main.send_monitor_config():
            self._fail('send_monitor_config refused the config')
            return
        self.agent['monitors_sent'] = sent
        self._agent_next()

    # --- report -------------------------------------------------------------

    def summary(self):
        return {
            'uri': self.args.uri,
            'duration_s': self.args.duration,
            'preferred_compression': self.args.preferred_compression,
            'channels': self.channels,
            'primary_surface': self.primary,
            'inputs': self.input_counts,
            'playback': self.playback,
            'record': self.record,
            'agent': self.agent,
            'failure': self.failure,
        }


def main(argv):
    args = parse_args(argv)
    start_hard_timeout(args.duration + HARD_TIMEOUT_MARGIN_S)
    client = CaptureClient(args)
    client.run()
    summary = client.summary()
    text = json.dumps(summary, indent=2)
    if args.json_out:
        with open(args.json_out, 'w') as f:
            f.write(text + '\n')
    else:
        print(text)
    if client.failure:
        sys.stderr.write('spice_client: %s\n' % client.failure)
        return EXIT_SESSION_FAILED
    return EXIT_OK


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
