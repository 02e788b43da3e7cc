#!/usr/bin/python3
"""A scripted SPICE client (SpiceClientGLib via python3-gi) for the server tests.

Connects to `serve`, then runs the requested steps and prints one JSON object
with what it observed on its last stdout line:
  file       copy --file PATH to the guest (MainChannel.file_copy_async)
  clipboard  receive the guest's text (guest grabbed it), then grab the client
             clipboard with --client-text and serve the guest's request
  input      key presses (scancodes 0x1e 'a', 0x30 'b') and pointer positions
  playback   count playback bytes for a second
  port       write to the echo spiceport and read the echo back
  resize     ask the guest (monitors config through the agent) for 1024x768
Run with /usr/bin/python3: python3-gi exists only for Debian's interpreter.
"""
import argparse
import ctypes
import json
import sys
import time

import gi

gi.require_version("SpiceClientGLib", "2.0")
from gi.repository import Gio, GLib, GObject, SpiceClientGLib  # noqa: E402

ECHO_PORT = "org.spice-space.capture.echo.0"
UTF8_TEXT = 1
IMAGE_PNG = 2


class Client:
    def __init__(self, args):
        self.args = args
        self.ctx = GLib.MainContext.default()
        self.session = SpiceClientGLib.Session()
        self.session.set_property("uri", args.uri)
        if args.password:
            self.session.set_property("password", args.password)
        if args.ca_file:
            self.session.set_property("ca-file", args.ca_file)
        self.main = None
        self.inputs = None
        self.port = None
        self.channels = []
        self.result = {"errors": [], "channels": []}
        self.clip_from_guest = None
        self.png_from_guest = None
        self.guest_grabbed = False
        self.guest_requested = False
        self.playback_bytes = 0
        self.port_echo = b""
        self.port_opened = False
        self.main_error = None
        GObject.Object.connect(self.session, "channel-new", self.on_channel_new)

    # -- plumbing -----------------------------------------------------------
    def pump(self, seconds, until=None):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if until is not None and until():
                return True
            self.ctx.iteration(False)
            time.sleep(0.002)
        return until() if until is not None else True

    def on_channel_new(self, session, channel):
        self.channels.append(channel)
        name = type(channel).__name__
        self.result["channels"].append(name)
        if isinstance(channel, SpiceClientGLib.MainChannel):
            self.main = channel
            GObject.Object.connect(channel, "channel-event", self.on_main_event)
            GObject.Object.connect(channel, "main-clipboard-selection-grab", self.on_guest_grab)
            GObject.Object.connect(channel, "main-clipboard-selection", self.on_guest_clipboard)
            GObject.Object.connect(channel, "main-clipboard-selection-request", self.on_guest_request)
            return  # the session connects the main channel itself
        if isinstance(channel, SpiceClientGLib.InputsChannel):
            self.inputs = channel
        elif isinstance(channel, SpiceClientGLib.PlaybackChannel):
            GObject.Object.connect(channel, "playback-data", self.on_playback_data)
        elif isinstance(channel, SpiceClientGLib.PortChannel):
            GObject.Object.connect(channel, "port-data", self.on_port_data)
            GObject.Object.connect(channel, "notify::port-opened", self.on_port_opened)
        SpiceClientGLib.Channel.connect(channel)

    def on_main_event(self, channel, event):
        if event in (SpiceClientGLib.ChannelEvent.ERROR_AUTH, SpiceClientGLib.ChannelEvent.ERROR_CONNECT,
                     SpiceClientGLib.ChannelEvent.ERROR_TLS, SpiceClientGLib.ChannelEvent.ERROR_LINK,
                     SpiceClientGLib.ChannelEvent.ERROR_IO):
            self.main_error = event.value_nick

    def on_guest_grab(self, channel, selection, types, ntypes):
        self.guest_grabbed = True
        channel.clipboard_selection_request(selection, UTF8_TEXT)
        return True

    def on_guest_clipboard(self, channel, selection, ctype, data, size):
        raw = ctypes.string_at(data, size) if data else b""
        if ctype == IMAGE_PNG:
            self.png_from_guest = raw
        else:
            self.clip_from_guest = raw.decode("utf-8", "replace")

    def on_guest_request(self, channel, selection, ctype):
        self.guest_requested = True
        data = self.args.client_text.encode()
        channel.clipboard_selection_notify(selection, ctype, data)
        return True

    def on_playback_data(self, channel, data, size):
        self.playback_bytes += size

    def on_port_data(self, channel, data, size):
        if channel.get_property("port-name") == ECHO_PORT:
            self.port_echo += ctypes.string_at(data, size)

    def on_port_opened(self, channel, _pspec):
        if channel.get_property("port-name") == ECHO_PORT and channel.get_property("port-opened"):
            self.port = channel
            self.port_opened = True

    def agent_connected(self):
        return self.main is not None and self.main.get_property("agent-connected")

    # -- steps --------------------------------------------------------------
    def connect(self):
        SpiceClientGLib.Session.connect(self.session)
        ok = self.pump(15, lambda: self.main_error is not None or
                       (self.main is not None and self.main.get_property("mouse-mode") != 0 and
                        self.inputs is not None))
        self.result["connected"] = bool(ok) and self.main_error is None
        self.result["main_error"] = self.main_error
        self.result["agent"] = bool(self.pump(5, self.agent_connected))
        return self.result["connected"]

    def step_file(self):
        done = {}

        def finished(channel, res, _data):
            try:
                done["ok"] = channel.file_copy_finish(res)
            except GLib.Error as e:  # the guest refused or failed
                done["ok"] = False
                done["error"] = e.message

        self.main.file_copy_async([Gio.File.new_for_path(self.args.file)], Gio.FileCopyFlags.NONE,
                                  None, None, None, finished, None)
        self.pump(60, lambda: "ok" in done)
        self.result["file"] = done

    def step_clipboard(self):
        self.pump(5, lambda: self.clip_from_guest is not None)
        self.result["guest_grabbed"] = self.guest_grabbed
        self.result["clipboard_from_guest"] = self.clip_from_guest
        if self.guest_grabbed:
            self.main.clipboard_selection_request(0, IMAGE_PNG)
            self.pump(5, lambda: self.png_from_guest is not None)
        png = self.png_from_guest or b""
        self.result["png_from_guest"] = {"size": len(png), "is_png": png[:8] == b"\x89PNG\r\n\x1a\n"}
        self.main.clipboard_selection_grab(0, [UTF8_TEXT])
        self.pump(5, lambda: self.guest_requested)
        self.pump(0.5)
        self.result["guest_requested"] = self.guest_requested

    def step_input(self):
        for code in (0x1e, 0x30):
            self.inputs.key_press(code)
            self.pump(0.05)
            self.inputs.key_release(code)
            self.pump(0.05)
        for x, y in ((100, 120), (200, 220), (300, 310)):
            self.inputs.position(x, y, 0, 0)
            self.pump(0.05)
        self.inputs.button_press(1, 0)  # SPICE_MOUSE_BUTTON_LEFT
        self.pump(0.05)
        self.inputs.button_release(1, 1)  # state: SPICE_MOUSE_BUTTON_MASK_LEFT
        self.pump(0.3)
        self.result["mouse_mode"] = int(self.main.get_property("mouse-mode"))

    def step_playback(self):
        before = self.playback_bytes
        self.pump(1.0)
        self.result["playback_bytes_per_s"] = self.playback_bytes - before

    def step_port(self):
        self.pump(5, lambda: self.port_opened)
        self.result["port_opened"] = self.port_opened
        if not self.port:
            return
        payload = b"spice-capture echo test " * 50
        self.port.write_async(payload, None, lambda ch, res, _d: ch.write_finish(res), None)
        self.pump(5, lambda: len(self.port_echo) >= len(payload))
        self.result["port_echo_ok"] = self.port_echo[: len(payload)] == payload

    def step_resize(self):
        self.main.update_display_enabled(0, True, False)
        self.main.update_display(0, 0, 0, 1024, 768, False)
        self.main.send_monitor_config()
        self.pump(2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--uri", required=True)
    ap.add_argument("--password")
    ap.add_argument("--ca-file")
    ap.add_argument("--file")
    ap.add_argument("--client-text", default="hello from the client")
    ap.add_argument("--steps", default="file,clipboard,input,playback,port,resize")
    ap.add_argument("--hold", type=float, default=0, help="stay connected this many seconds at the end")
    args = ap.parse_args()
    c = Client(args)
    if c.connect():
        for step in [s for s in args.steps.split(",") if s]:
            try:
                getattr(c, "step_" + step)()
            except Exception as e:  # report and go on: the test decides
                c.result["errors"].append(f"{step}: {e!r}")
        c.pump(args.hold)
    c.session.disconnect()
    c.pump(0.3)
    print(json.dumps(c.result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
