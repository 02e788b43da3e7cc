#!/usr/bin/python3
"""Real SPICE client for the test harness, built on SpiceClientGLib.

Connects to a SPICE server, opens every channel the server offers, waits for the
display's primary surface, then drives the inputs channel (keys, relative and
absolute mouse, buttons), writes bytes to every port channel and sends record
samples if the server starts recording. After --duration seconds it disconnects
and writes a JSON summary of what it did.

Exit codes: 0 session ran as planned, 2 the session failed (could not connect,
the server dropped it, no primary surface before the end), 3 hard timeout
(--duration + 20 s) because the server or the library hung.

Run it with /usr/bin/python3: the gi bindings come from Debian's python3-gi.
"""

import argparse
import array
import ctypes
import json
import math
import os
import sys
import threading

import gi

gi.require_version('SpiceClientGLib', '2.0')
from gi.repository import GLib, GObject, SpiceClientGLib as Spice  # noqa: E402

EXIT_OK, EXIT_SESSION_FAILED, EXIT_HARD_TIMEOUT = 0, 2, 3
HARD_TIMEOUT_MARGIN_S = 20
DISCONNECT_GRACE_MS = 3000
# Spacing between input events, so spice-gtk sends each one as its own message
# instead of merging mouse motions.
INPUT_STEP_MS = 40

# PC/XT set-1 make codes of "a", "b", "c"; spice-gtk derives the break codes.
SCANCODES_ABC = (0x1E, 0x30, 0x2E)
# (SPICE_MOUSE_BUTTON_x, SPICE_MOUSE_BUTTON_MASK_x) for LEFT and RIGHT.
BUTTONS = ((1, 0x1), (3, 0x4))
_DONE = object()  # end marker of the paced input steps
# SPICE_PORT_EVENT_BREAK: the only client event spice-gtk lets an application send.
PORT_EVENT_BREAK = 2

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
    args = p.parse_args(argv)
    if args.preferred_compression and args.preferred_compression not in compression_names():
        p.error('unknown compression %r' % args.preferred_compression)
    return args


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


def quiet_tone(frames, channels, rate):
    """A quiet 440 Hz tone as interleaved signed 16-bit samples."""
    samples = array.array('h')
    for i in range(frames):
        value = int(1000 * math.sin(2 * math.pi * 440 * i / rate))
        samples.extend([value] * channels)
    return samples.tobytes()


class CaptureClient:
    """One SPICE session that exercises every channel, then reports.

    Channel objects are only held while they live: spice-gtk emits the
    session's "disconnected" signal when the last channel is freed, so a
    Python reference kept past "channel-destroy" would stall the disconnect.
    Per-channel state lives in summary dicts passed as signal user data.
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

    def _hook_channel(self, channel, entry):
        if isinstance(channel, Spice.DisplayChannel):
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
            steps = iter(self._input_steps())
            GLib.timeout_add(INPUT_STEP_MS, lambda: next(steps, _DONE) is not _DONE)

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
        """The server wants audio: send a few 10 ms frames of a quiet tone."""
        self.record['started'] = True
        frames = rate // 100
        pcm = quiet_tone(frames, channels, rate)
        # send_data takes a raw pointer (PyGObject passes only integers for
        # it); the buffer is kept for the session in case spice-gtk queues
        # it by reference like port writes.
        self.record_pcm = ctypes.create_string_buffer(pcm, len(pcm))
        for i in range(5):
            channel.send_data(ctypes.addressof(self.record_pcm), len(pcm), i * 10)
            self.record['messages_sent'] += 1
            self.record['bytes_sent'] += len(pcm)

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
