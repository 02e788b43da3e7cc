#!/usr/bin/python3
"""Count SPICE messages in a pcap with tshark's built-in SPICE dissector.

This is the baseline our own dissector is compared against. It prints JSON:
data-stage messages counted per channel type name, direction (c2s / s2c) and
message type number, link-stage messages counted the same way by kind, plus
malformed frames and expert-info messages per channel.

How it works (tshark 4.0, Debian 12):
- `-d tcp.port==P,spice` forces the dissector on the server port and
  `-o tcp.desegment_tcp_streams:TRUE` lets it reassemble messages split over
  segments; a message is reported in the frame where it completes.
- Fields, one row per frame (`-T fields -Y spice`):
  tcp.stream, tcp.dstport (== P means client to server);
  spice.link_client (FT_NONE, printed as "1" when present) with
  spice.channel_type on the same frame: the channel type of that TCP stream.
  spice.channel_type alone is not enough: MAIN's CHANNELS_LIST message also
  carries a list of spice.channel_type values;
  link stage: spice.link_client, spice.link_server, spice.auth_select_client,
  spice.ticket_client, spice.ticket_server (the link result);
  data stage: spice.message_type, one value per message completed in the
  frame (a segment often carries several);
  _ws.malformed and _ws.expert.message for the dissector's own complaints.
- The dissector keeps no channel type per data message, so the type comes from
  the stream's link message; streams whose link was not captured count under
  "unknown".

Limitations of the built-in dissector seen on captures from make_capture.py
(QEMU 7.2 + spice-gtk 0.42, tshark 4.0.17); no frame was marked malformed:
- usbredir, port and webdav streams are flagged "Unknown channel - cannot
  dissect", though their message headers are still counted; PORT_INIT and
  PORT_EVENT (type 201) are "not fully dissected"; usbredir and port payloads
  stay raw.
- On the webdav channel it completes only the first client message (the
  PORT_EVENT): the following SPICEVMC_DATA and PONGs, present in the stream,
  are shown as "TCP segment of a reassembled PDU" and never counted.
- Every display draw command carries "value irrelevant as bitmap address is 0"
  notes (about 2 per DRAW_COPY).
"""

import argparse
import collections
import json
import re
import subprocess
import sys

ENUMS_H = '/usr/include/spice-1/spice/enums.h'   # Debian libspice-protocol-dev
TSHARK_TIMEOUT_S = 600

FIELDS = ['tcp.stream', 'tcp.dstport', 'spice.link_client', 'spice.channel_type',
          'spice.link_server', 'spice.auth_select_client', 'spice.ticket_client',
          'spice.ticket_server', 'spice.message_type', '_ws.malformed', '_ws.expert.message']
# Link-stage fields counted as messages, with the name used in the output.
LINK_FIELDS = {'spice.link_client': 'link_client', 'spice.link_server': 'link_server',
               'spice.auth_select_client': 'auth_select', 'spice.ticket_client': 'ticket',
               'spice.ticket_server': 'link_result'}
# Joins several values of one field; expert messages themselves contain commas.
AGGREGATOR = '\x1f'


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--pcap', required=True)
    p.add_argument('--port', type=int, required=True, help='SPICE server TCP port')
    return p.parse_args(argv)


def channel_names(path=ENUMS_H):
    """SPICE_CHANNEL_* numbers to lower-case names, read from the protocol
    headers rather than retyped here."""
    with open(path) as f:
        text = f.read()
    block = re.search(r'SPICE_CHANNEL_MAIN\s*=\s*1,(.*?)SPICE_END_CHANNEL', text, re.S)
    if not block:
        raise SystemExit('tshark_counts: cannot find the channel enum in %s' % path)
    names = ['main'] + re.findall(r'SPICE_CHANNEL_(\w+)', block.group(1))
    return {i + 1: name.lower() for i, name in enumerate(names)}


def tshark_rows(pcap, port):
    cmd = ['tshark', '-n', '-r', pcap, '-d', 'tcp.port==%d,spice' % port,
           '-o', 'tcp.desegment_tcp_streams:TRUE', '-Y', 'spice',
           '-T', 'fields', '-E', 'aggregator=' + AGGREGATOR]
    for field in FIELDS:
        cmd += ['-e', field]
    done = subprocess.run(cmd, capture_output=True, text=True, errors='replace',
                          timeout=TSHARK_TIMEOUT_S)
    if done.returncode != 0:
        raise SystemExit('tshark_counts: tshark failed (%d): %s'
                         % (done.returncode, done.stderr.strip().splitlines()[-1:]))
    for line in done.stdout.splitlines():
        values = line.split('\t')
        yield {f: (v.split(AGGREGATOR) if v else []) for f, v in zip(FIELDS, values)}


def nested_counter():
    return collections.defaultdict(lambda: collections.defaultdict(collections.Counter))


def count(rows, port, names):
    stream_channel = {}
    link = nested_counter()
    data = nested_counter()
    malformed = collections.Counter()
    expert = collections.defaultdict(collections.Counter)
    for row in rows:
        stream = row['tcp.stream'][0]
        if row['spice.link_client'] and row['spice.channel_type']:
            ctype = int(row['spice.channel_type'][0])
            stream_channel[stream] = names.get(ctype, 'type-%d' % ctype)
        channel = stream_channel.get(stream, 'unknown')
        direction = 'c2s' if int(row['tcp.dstport'][0]) == port else 's2c'
        for field, kind in LINK_FIELDS.items():
            if row[field]:
                link[channel][direction][kind] += len(row[field])
        for msg_type in row['spice.message_type']:
            data[channel][direction][int(msg_type)] += 1
        if row['_ws.malformed']:
            malformed[channel] += 1
        for message in row['_ws.expert.message']:
            expert[channel][message] += 1
    streams = collections.Counter(stream_channel.values())
    return {'streams': streams, 'link': link, 'messages': data,
            'malformed_frames': malformed, 'expert': expert}


def as_plain(value):
    """Counters and defaultdicts to sorted plain dicts with string keys."""
    if isinstance(value, dict):
        # Keys of one dict are all names or all numbers, so they sort directly.
        return {str(k): as_plain(v) for k, v in sorted(value.items())}
    return value


def main(argv):
    args = parse_args(argv)
    result = count(tshark_rows(args.pcap, args.port), args.port, channel_names())
    result = {'pcap': args.pcap, 'port': args.port, **as_plain(result)}
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write('\n')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
