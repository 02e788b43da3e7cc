// spicecap: an epan plugin for Wireshark 4.0 that decodes SPICE with
// spice-capture's own framing (dissect/framing) and decoder (dissect/decode),
// with the protocol description's dotted field names under "spicecap.".
//
// Registration: protocol "spicecap" beside the built-in "spice"; a TCP heuristic
// on the link magic REDQ; Decode As on tcp.port; a port-range preference for
// captures that start mid-session; Export Objects ("spicecap", tap "spicecap_eo")
// for the decoded images of display channels.
#include <wireshark.h>

#include <epan/conversation.h>
#include <epan/dissectors/packet-tcp.h>
#include <epan/expert.h>
#include <epan/export_object.h>
#include <epan/packet.h>
#include <epan/prefs.h>
#include <epan/proto_data.h>
#include <epan/tap.h>
#include <epan/to_str.h>
#include <spice/protocol.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "wireshark-plugin/connection.hpp"
#include "wireshark-plugin/fields.hpp"
#include "wireshark-plugin/images.hpp"
#include "wireshark-plugin/tree.hpp"

#ifndef SC_PLUGIN_VERSION
#define SC_PLUGIN_VERSION "0.0.0"
#endif

extern "C" {
extern WS_DLL_PUBLIC_DEF const gchar plugin_version[];
extern WS_DLL_PUBLIC_DEF const int plugin_want_major;
extern WS_DLL_PUBLIC_DEF const int plugin_want_minor;
WS_DLL_PUBLIC_DEF void plugin_register(void);
}

const gchar plugin_version[] = SC_PLUGIN_VERSION;
const int plugin_want_major = WIRESHARK_VERSION_MAJOR;
const int plugin_want_minor = WIRESHARK_VERSION_MINOR;

namespace sc::wsplugin {
namespace {

constexpr const char* kAbbrev = "spicecap";

int proto_spicecap = -1;
int proto_tcp = -1;
int eo_tap = -1;  // Export Objects
dissector_handle_t spicecap_handle;

// Preferences.
range_t* pref_midsession_ports = nullptr;  // server ports whose connections may start mid-session
range_t* registered_ports = nullptr;       // what is in the tcp.port table now
guint pref_sniff_bytes = 64u << 10;        // ConnectionFramer's default; the import uses the same
gboolean pref_decode_images = TRUE;        // display channels through DisplayState
guint pref_image_memory_mb = 512;          // PNGs kept for Export Objects, per capture file

// One SPICE connection: which endpoint is the client, and its framing state.
struct ConnectionState {
  address client_addr = ADDRESS_INIT_NONE;
  guint32 client_port = 0;
  std::string server;  // address:port, the Export Objects hostname
  std::unique_ptr<Connection> conn;

  Direction direction_of(const packet_info* pinfo) const {
    return pinfo->srcport == client_port && addresses_equal(&pinfo->src, &client_addr) ? Direction::C2S
                                                                                        : Direction::S2C;
  }
};

// Owned here, freed when the capture file closes (conversation data dies with it).
std::vector<std::unique_ptr<ConnectionState>>& states() {
  static std::vector<std::unique_ptr<ConnectionState>> all;
  return all;
}

// The display states and kept PNGs of the capture file (made with the first
// connection, under the preferences in force then).
std::unique_ptr<DisplaySessions>& displays() {
  static std::unique_ptr<DisplaySessions> d;
  return d;
}

void cleanup() {
  states().clear();
  displays().reset();
}

bool starts_with_magic(tvbuff_t* tvb) {
  return tvb_captured_length(tvb) >= 4 && tvb_get_letohl(tvb, 0) == SPICE_MAGIC;
}

// Decides, on the first bytes the dissector sees of a connection, which side is
// the client (as `spice-capture import` does) and whether the link stage is there.
ConnectionState* new_state(tvbuff_t* tvb, packet_info* pinfo) {
  const bool redq = starts_with_magic(tvb);
  bool src_is_client = true;
  const auto* tcpd = proto_tcp >= 0 ? static_cast<const tcp_analysis*>(
                                          conversation_get_proto_data(find_or_create_conversation(pinfo), proto_tcp))
                                    : nullptr;
  const guint16 syn_server_port = tcpd ? tcpd->server_port : 0;
  if (redq) {
    // The client speaks first; with the handshake seen, the initiator is the client.
    if (syn_server_port != 0 && pinfo->srcport != pinfo->destport) src_is_client = pinfo->destport == syn_server_port;
  } else if (pref_midsession_ports && value_is_in_range(pref_midsession_ports, pinfo->destport)) {
    src_is_client = true;
  } else if (pref_midsession_ports && value_is_in_range(pref_midsession_ports, pinfo->srcport)) {
    src_is_client = false;
  } else if (pinfo->match_uint == pinfo->srcport && pinfo->match_uint != pinfo->destport) {
    src_is_client = false;  // Decode As matched the server's port on a server packet
  } else if (syn_server_port != 0) {
    src_is_client = pinfo->destport == syn_server_port;
  }
  auto st = std::make_unique<ConnectionState>();
  copy_address_wmem(wmem_file_scope(), &st->client_addr, src_is_client ? &pinfo->src : &pinfo->dst);
  st->client_port = src_is_client ? pinfo->srcport : pinfo->destport;
  const address& server = src_is_client ? pinfo->dst : pinfo->src;
  char* host = address_to_str(nullptr, &server);
  st->server = server.type == AT_IPv6 ? "[" + std::string(host) + "]" : std::string(host);
  wmem_free(nullptr, host);
  st->server += ":" + std::to_string(src_is_client ? pinfo->destport : pinfo->srcport);
  framing::FramerOptions options;
  options.sniff_bytes = pref_sniff_bytes;
  if (pref_decode_images && !displays()) {
    displays() = std::make_unique<DisplaySessions>(uint64_t{pref_image_memory_mb} << 20);
  }
  st->conn = std::make_unique<Connection>(!redq, options, pref_decode_images ? displays().get() : nullptr);
  states().push_back(std::move(st));
  return states().back().get();
}

const char* header_name(framing::HeaderKind k) {
  switch (k) {
    case framing::HeaderKind::Mini: return "mini";
    case framing::HeaderKind::Full: return "full";
    case framing::HeaderKind::Unknown: break;
  }
  return "unknown";
}

// " draw_copy ×3, mark [agent.clipboard_grab]" for frames [first, first + count) of
// `dir` (consecutive repeats folded), with the agent messages they completed.
void append_frames(wmem_strbuf_t* text, const Connection& conn, Direction dir, uint32_t first, uint32_t count) {
  unsigned listed = 0;
  for (uint32_t i = 0; i < count;) {
    const FrameRecord& f = conn.frame(dir, first + i);
    uint32_t run = 1;
    while (i + run < count) {
      const FrameRecord& g = conn.frame(dir, first + i + run);
      if (g.def != f.def || g.undecodable != f.undecodable || g.type != f.type) break;
      ++run;
    }
    if (listed++ == 12) {
      wmem_strbuf_append(text, " …");
      break;
    }
    wmem_strbuf_append(text, listed > 1 ? ", " : " ");
    if (f.def && f.def->is_link()) {
      wmem_strbuf_append_printf(text, "link %s", f.def->name.c_str());
    } else if (f.def) {
      wmem_strbuf_append(text, f.def->name.c_str());
    } else if (f.undecodable) {
      wmem_strbuf_append_printf(text, "undecodable (%u bytes)", f.wire_size);
    } else {
      wmem_strbuf_append_printf(text, "unknown type %u", f.type);
    }
    if (run > 1) wmem_strbuf_append_printf(text, " ×%u", run);
    i += run;
  }
  // The agent messages these frames completed: " [agent.clipboard_grab, agent.file_xfer_data ×2]".
  const char* last_agent = nullptr;
  unsigned agent_run = 0, agents_listed = 0;
  auto flush_agent = [&] {
    if (!last_agent) return;
    if (agents_listed++ < 12) {
      wmem_strbuf_append(text, agents_listed > 1 ? ", " : " [");
      wmem_strbuf_append(text, last_agent);
      if (agent_run > 1) wmem_strbuf_append_printf(text, " ×%u", agent_run);
    } else if (agents_listed == 13) {
      wmem_strbuf_append(text, ", …");
    }
  };
  for (uint32_t i = 0; i < count; ++i) {
    const FrameRecord& f = conn.frame(dir, first + i);
    if (f.agent_items == 0) continue;
    const uint32_t k0 = conn.first_agent_item(dir, first + i);
    for (uint32_t k = k0; k < k0 + f.agent_items; ++k) {
      const AgentItem& a = conn.agent_item(k);
      if (!a.is_message) continue;
      const char* name = a.def ? a.def->full_name.c_str() : "agent.unknown";
      if (last_agent && std::strcmp(last_agent, name) == 0) {
        ++agent_run;
        continue;
      }
      flush_agent();
      last_agent = name;
      agent_run = 1;
    }
  }
  flush_agent();
  if (agents_listed > 0) wmem_strbuf_append(text, "]");
}

// "display s2c: draw_copy ×3, mark", then "| display c2s: ack ×16" for frames of the
// other direction this call completed.
void set_info(packet_info* pinfo, const Connection& conn, const CallRecord& rec) {
  if (!pinfo->cinfo) return;  // no columns wanted (tshark -q, -T fields without them)
  const auto& reg = schema::Registry::spice();
  wmem_strbuf_t* text = wmem_strbuf_new(pinfo->pool, "");
  const uint8_t channel = rec.frame_count ? conn.frame(rec.dir, rec.first_frame).channel_type : rec.channel_type;
  const std::string ch = reg.channel_name(channel);
  wmem_strbuf_append_printf(text, "%s %s:", channel ? ch.c_str() : "spice", rec.dir == Direction::C2S ? "c2s" : "s2c");
  append_frames(text, conn, rec.dir, rec.first_frame, rec.frame_count);
  if (rec.frame_count == 0) {
    wmem_strbuf_append(text, rec.seen_before                         ? " [bytes seen before]"
                             : rec.held_from >= 0 && !rec.handed_back ? " [message continues, TCP reassembly off]"
                                                                      : " [continuation]");
  }
  if (rec.cross_count > 0) {
    const Direction other = schema::opposite(rec.dir);
    const std::string och = reg.channel_name(conn.frame(other, rec.cross_first).channel_type);
    wmem_strbuf_append_printf(text, " | %s %s:", och.c_str(), other == Direction::C2S ? "c2s" : "s2c");
    append_frames(text, conn, other, rec.cross_first, rec.cross_count);
  }
  col_set_str(pinfo->cinfo, COL_PROTOCOL, "SPICEcap");
  col_clear(pinfo->cinfo, COL_INFO);
  col_append_sep_str(pinfo->cinfo, COL_INFO, " | ", wmem_strbuf_get_str(text));
}

// One decoded image offered to Export Objects: what the tap callback copies into
// the entry it hands Wireshark. Lives in the packet's pool (taps run before the
// packet's dissection ends).
struct ExportedImage {
  const char* filename;
  const char* hostname;
  std::span<const uint8_t> png;
};

// Tap queues are bounded (TAP_PACKET_QUEUE_LEN, 5000 in 4.0, for every tap of the
// packet together): leave room for the other taps.
constexpr unsigned kMaxImagesQueued = 4000;

// What the dissector calls of one packet dissection have queued for Export
// Objects (a packet may hold several SPICEcap trees): in the packet's pool, made
// afresh by every dissection of it.
struct PacketExports {
  wmem_map_t* names;  // name stem -> times used (GUINT_TO_POINTER)
  unsigned queued;
  gboolean overflow_noted;
};
constexpr guint32 kExportsKey = 0;  // p_*_proto_data key in pinfo->pool (the file-scope keys are TCP sequence numbers)

// The images of the frames one call shows, in tree order: their Export Objects
// names ("<packet>-<type>-<id>.png", then "-2", "-3" ... for repeats within the
// packet) and whether the tap wants them. Names are made in every pass alike, so
// the tree and the exported files agree.
struct PacketImages {
  packet_info* pinfo;
  const ConnectionState& st;
  bool tapping = false;
  PacketExports* exports = nullptr;

  PacketImages(packet_info* p, const ConnectionState& s) : pinfo(p), st(s) {
    exports = static_cast<PacketExports*>(p_get_proto_data(pinfo->pool, pinfo, proto_spicecap, kExportsKey));
    if (!exports) {
      exports = wmem_new0(pinfo->pool, PacketExports);
      exports->names = wmem_map_new(pinfo->pool, g_str_hash, g_str_equal);
      p_add_proto_data(pinfo->pool, pinfo, proto_spicecap, kExportsKey, exports);
    }
  }

  const char* name_for(const ImageRecord& r) {
    char* stem = wmem_strdup_printf(pinfo->pool, "%u-%s-%" PRIu64, pinfo->num,
                                    display::image_type_name(r.info.type).c_str(), r.info.id);
    const guint n = GPOINTER_TO_UINT(wmem_map_lookup(exports->names, stem)) + 1;
    wmem_map_insert(exports->names, stem, GUINT_TO_POINTER(n));
    return n == 1 ? wmem_strdup_printf(pinfo->pool, "%s.png", stem)
                  : wmem_strdup_printf(pinfo->pool, "%s-%u.png", stem, n);
  }
};

// A frame's tree and what the agent conversation made of it (reassembled agent
// messages, diagnostics) or the images its display message carried; `at` is
// where the frame starts in `tvb`.
void show_frame(proto_tree* t, tvbuff_t* tvb, packet_info* pinfo, int at, const Connection& conn, Direction dir,
                uint32_t index, PacketImages& images) {
  const FrameRecord& f = conn.frame(dir, index);
  proto_tree* mt = add_message_tree(t, tvb, pinfo, at, f, dir, conn.caps(f.caps));
  if (f.has_images) {
    for (const ImageRecord& r : conn.images_of(dir, index)) {
      const char* name = r.png >= 0 ? images.name_for(r) : nullptr;
      add_image(mt, tvb, pinfo, at, f, r, name);
      if (!name || !images.tapping) continue;
      PacketExports& x = *images.exports;
      if (x.queued == kMaxImagesQueued) {
        if (!x.overflow_noted) {
          proto_tree_add_expert_format(mt, pinfo, &fields().ei_image_queue, tvb, at, 0,
                                       "more than %u images in this packet: Export Objects gets the first %u",
                                       kMaxImagesQueued, kMaxImagesQueued);
          x.overflow_noted = TRUE;
        }
        continue;
      }
      auto* e = wmem_new(pinfo->pool, ExportedImage);
      *e = {name, images.st.server.c_str(), conn.displays()->png(static_cast<uint32_t>(r.png))};
      tap_queue_packet(eo_tap, pinfo, e);
      ++x.queued;
    }
  }
  if (f.agent_items == 0) return;
  const uint32_t first = conn.first_agent_item(dir, index);
  for (uint32_t k = first; k < first + f.agent_items; ++k) {
    add_agent_item(t, tvb, pinfo, at, static_cast<int>(f.wire_size), conn, conn.agent_item(k));
  }
}

void show_record(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, const ConnectionState& st,
                 const CallRecord& rec) {
  Fields& F = fields();
  const Connection& conn = *st.conn;
  const guint32 client_port = st.client_port;
  set_info(pinfo, conn, rec);
  PacketImages images(pinfo, st);
  images.tapping = eo_tap >= 0 && have_tap_listener(eo_tap);
  // Export Objects re-dissects without a tree (retap): the frames must still be walked.
  if (!tree && !images.tapping) return;
  const auto& reg = schema::Registry::spice();
  const int len = static_cast<int>(tvb_captured_length(tvb));
  proto_item* top = proto_tree_add_item(tree, proto_spicecap, tvb, 0, -1, ENC_NA);
  proto_tree* t = proto_item_add_subtree(top, F.ett_top);
  const std::string ch = reg.channel_name(rec.channel_type);
  proto_item_append_text(top, ", %s channel %u, %s, %u message%s", ch.c_str(), rec.channel_id,
                         rec.dir == Direction::C2S ? "client to server" : "server to client", rec.frame_count,
                         rec.frame_count == 1 ? "" : "s");
  proto_item* gi = proto_tree_add_uint(t, F.channel, tvb, 0, 0, rec.channel_type);
  proto_item_set_generated(gi);
  gi = proto_tree_add_uint(t, F.channel_id, tvb, 0, 0, rec.channel_id);
  proto_item_set_generated(gi);
  gi = proto_tree_add_string(t, F.header, tvb, 0, 0, header_name(rec.header));
  proto_item_set_generated(gi);
  gi = proto_tree_add_boolean(t, F.midstream, tvb, 0, 0, conn.midstream());
  proto_item_set_generated(gi);
  gi = proto_tree_add_uint(t, F.client_port, tvb, 0, 0, client_port);
  proto_item_set_generated(gi);

  // Bytes before the first message: the tail of one shown elsewhere.
  int at = 0;
  const int first_at = rec.frame_count ? static_cast<int>(conn.frame(rec.dir, rec.first_frame).offset - rec.base)
                       : rec.held_from >= 0 ? static_cast<int>(rec.held_from)
                                           : len;
  if (first_at > 0) {
    proto_tree_add_item(t, F.continuation, tvb, 0, std::min(first_at, len), ENC_NA);
    if (rec.seen_before) {
      proto_tree_add_expert_format(t, pinfo, &F.ei_seen_before, tvb, 0, std::min(first_at, len),
                                   "these bytes reached the framer in an earlier packet (retransmission)");
    }
  }
  for (uint32_t i = 0; i < rec.frame_count; ++i) {
    const FrameRecord& f = conn.frame(rec.dir, rec.first_frame + i);
    at = static_cast<int>(f.offset - rec.base);
    show_frame(t, tvb, pinfo, at, conn, rec.dir, rec.first_frame + i, images);
  }
  if (rec.cross_count > 0) {
    // The other direction's messages this call completed, from a copy of their bytes.
    const Direction other = schema::opposite(rec.dir);
    const auto& bytes = conn.cross_bytes(rec.cross_bytes);
    const int n = static_cast<int>(bytes.size());
    tvbuff_t* xtvb = tvb_new_child_real_data(tvb, bytes.data(), static_cast<guint>(n), n);
    add_new_data_source(pinfo, xtvb, other == Direction::C2S ? "SPICE c2s bytes framed here" : "SPICE s2c bytes framed here");
    proto_tree* xt = proto_tree_add_subtree_format(
        t, xtvb, 0, n, F.ett_cross, nullptr,
        "%u %s message%s completed by this packet (bytes from earlier packets, framed once this direction told how)",
        rec.cross_count, other == Direction::C2S ? "client to server" : "server to client",
        rec.cross_count == 1 ? "" : "s");
    const uint64_t start = conn.frame(other, rec.cross_first).offset;
    for (uint32_t i = 0; i < rec.cross_count; ++i) {
      const FrameRecord& f = conn.frame(other, rec.cross_first + i);
      show_frame(xt, xtvb, pinfo, static_cast<int>(f.offset - start), conn, other, rec.cross_first + i, images);
    }
  }
  if (rec.held_from >= 0 && rec.held_from < len) {
    const int h = static_cast<int>(rec.held_from);
    proto_tree_add_item(t, F.pending, tvb, h, len - h, ENC_NA);
    if (!rec.handed_back) {
      proto_tree_add_expert_format(t, pinfo, &F.ei_no_reassembly, tvb, h, len - h,
                                   "the message starting here continues in later segments, but TCP reassembly "
                                   "(tcp.desegment_tcp_streams) is off: it is framed but not shown");
    }
  }
  for (uint32_t k : rec.agent_notes) add_agent_item(t, tvb, pinfo, 0, 0, conn, conn.agent_item(k));
  for (const auto& p : rec.problems) {
    int where = 0;
    if (p.stream_offset >= rec.base && p.stream_offset < rec.base + static_cast<uint64_t>(len)) {
      where = static_cast<int>(p.stream_offset - rec.base);
    }
    const int sev = p.severity == decode::Severity::Error ? PI_ERROR
                    : p.severity == decode::Severity::Warning ? PI_WARN
                                                             : PI_NOTE;
    proto_tree_add_expert_format(t, pinfo, F.expert_for(p.code, sev), tvb, where, 0, "%s at stream offset %" PRIu64
                                 ": %s", p.dir == Direction::C2S ? "c2s" : "s2c", p.stream_offset, p.text.c_str());
  }
}

int dissect_spicecap(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data) {
  auto* tcp = static_cast<tcpinfo*>(data);
  if (!tcp) return 0;  // SPICE runs over TCP only
  conversation_t* conv = find_or_create_conversation(pinfo);
  auto* st = static_cast<ConnectionState*>(conversation_get_proto_data(conv, proto_spicecap));
  if (!st) {
    if (PINFO_FD_VISITED(pinfo)) return 0;
    st = new_state(tvb, pinfo);
    conversation_add_proto_data(conv, proto_spicecap, st);
  }
  Connection& conn = *st->conn;
  const Direction dir = st->direction_of(pinfo);
  const int captured = static_cast<int>(tvb_captured_length(tvb));
  CallRecord* rec = nullptr;
  if (!PINFO_FD_VISITED(pinfo)) {
    const int64_t base = conn.offset_of(dir, tcp->seq);
    const uint64_t ts = static_cast<uint64_t>(pinfo->abs_ts.secs) * 1000000000u + static_cast<uint64_t>(pinfo->abs_ts.nsecs);
    const uint8_t* bytes = captured > 0 ? tvb_get_ptr(tvb, 0, captured) : nullptr;
    Desegment request;
    if (base < 0) {
      rec = &conn.stale(dir);
    } else {
      rec = &conn.on_segment(dir, static_cast<uint64_t>(base), {bytes, static_cast<size_t>(captured)},
                             tvb_reported_length(tvb), pinfo->can_desegment != 0, ts, pinfo->num, request);
    }
    if (request.wanted) {
      pinfo->desegment_offset = static_cast<int>(request.offset);
      pinfo->desegment_len = request.more ? request.more : DESEGMENT_ONE_MORE_SEGMENT;
    }
    if (p_get_proto_data(wmem_file_scope(), pinfo, proto_spicecap, tcp->seq)) {
      p_remove_proto_data(wmem_file_scope(), pinfo, proto_spicecap, tcp->seq);
    }
    p_add_proto_data(wmem_file_scope(), pinfo, proto_spicecap, tcp->seq, rec);
  } else {
    rec = static_cast<CallRecord*>(p_get_proto_data(wmem_file_scope(), pinfo, proto_spicecap, tcp->seq));
    if (!rec) return captured;  // TCP did not hand these bytes to us on the first pass
  }
  if (rec->shows_something()) show_record(tvb, pinfo, tree, *st, *rec);
  return captured;
}

// Export Objects: one entry per decoded image queued by show_frame. Wireshark
// owns the entry and frees its fields with g_free (eo_free_entry), so they are
// GLib copies.
tap_packet_status export_image(void* tapdata, packet_info* pinfo, epan_dissect_t*, const void* data, tap_flags_t) {
  auto* list = static_cast<export_object_list_t*>(tapdata);
  const auto* image = static_cast<const ExportedImage*>(data);
  if (!list || !image) return TAP_PACKET_DONT_REDRAW;
  auto* entry = g_new0(export_object_entry_t, 1);
  entry->pkt_num = pinfo->num;
  entry->hostname = g_strdup(image->hostname);
  entry->content_type = g_strdup("image/png");
  entry->filename = g_strdup(image->filename);
  entry->payload_len = image->png.size();
  entry->payload_data = static_cast<guint8*>(g_memdup2(image->png.data(), image->png.size()));
  list->add_entry(list->gui_data, entry);
  return TAP_PACKET_REDRAW;
}

gboolean dissect_spicecap_heur(tvbuff_t* tvb, packet_info* pinfo, proto_tree* tree, void* data) {
  if (!data || !starts_with_magic(tvb)) return FALSE;
  conversation_t* conv = find_or_create_conversation(pinfo);
  conversation_set_dissector(conv, spicecap_handle);
  dissect_spicecap(tvb, pinfo, tree, data);
  return TRUE;
}

void apply_prefs() {
  if (!spicecap_handle) return;
  if (registered_ports) {
    dissector_delete_uint_range("tcp.port", registered_ports, spicecap_handle);
    wmem_free(wmem_epan_scope(), registered_ports);
    registered_ports = nullptr;
  }
  if (pref_midsession_ports) {
    registered_ports = range_copy(wmem_epan_scope(), pref_midsession_ports);
    dissector_add_uint_range("tcp.port", registered_ports, spicecap_handle);
  }
}

void register_protocol() {
  proto_spicecap = proto_register_protocol("SPICE (spice-capture decoder)", "SPICEcap", kAbbrev);
  register_fields(proto_spicecap, kAbbrev);
  spicecap_handle = register_dissector(kAbbrev, dissect_spicecap, proto_spicecap);
  // Nothing to reset: the kept PNGs belong to the capture file (cleanup()).
  eo_tap = register_export_object(proto_spicecap, export_image, nullptr);

  module_t* prefs = prefs_register_protocol(proto_spicecap, apply_prefs);
  range_convert_str(wmem_epan_scope(), &pref_midsession_ports, "", 65535);
  prefs_register_range_preference(
      prefs, "midsession_ports", "Server ports of mid-session captures",
      "TCP ports of SPICE servers whose connections the capture may have joined after the link stage. "
      "Connections on these ports are decoded even without the REDQ link magic: the channel type and "
      "header kind are inferred from the first bytes (as spice-capture import --port does).",
      &pref_midsession_ports, 65535);
  prefs_register_uint_preference(
      prefs, "sniff_bytes", "Bytes to infer a mid-session channel from",
      "How many bytes of a connection without a link stage (both directions together) the framer "
      "reads before it decides the channel type and header kind. Nothing of such a connection is "
      "shown before that. 65536 is what spice-capture import uses.",
      10, &pref_sniff_bytes);
  prefs_register_bool_preference(
      prefs, "decode_images", "Decode display images",
      "Run every display channel's messages through the display state that `spice-capture render` and "
      "`images` use (the session's pixmap cache and GLZ dictionary shared by its display channels), show "
      "each image's type, size, cache operation and decoding status (spicecap.image.*) and offer the decoded "
      "images as PNG in File > Export Objects > SPICEcap. Takes effect when a capture file is opened.",
      &pref_decode_images);
  prefs_register_uint_preference(
      prefs, "image_memory_mb", "Memory for exported images (MiB)",
      "The PNGs kept for Export Objects take at most this much memory per capture file; images after that "
      "are still shown but not offered (an expert note, spicecap.expert.image_memory, marks the first). "
      "0 keeps none. Takes effect when a capture file is opened.",
      10, &pref_image_memory_mb);
  register_cleanup_routine(cleanup);
}

void register_handoff() {
  proto_tcp = proto_get_id_by_filter_name("tcp");
  collect_decoded_fields();
  heur_dissector_add("tcp", dissect_spicecap_heur, "SPICE over TCP (spice-capture decoder)", "spicecap_tcp",
                     proto_spicecap, HEURISTIC_ENABLE);
  dissector_add_for_decode_as("tcp.port", spicecap_handle);
  apply_prefs();
}

}  // namespace
}  // namespace sc::wsplugin

void plugin_register(void) {
  static proto_plugin plugin;
  plugin.register_protoinfo = sc::wsplugin::register_protocol;
  plugin.register_handoff = sc::wsplugin::register_handoff;
  proto_register_plugin(&plugin);
}
