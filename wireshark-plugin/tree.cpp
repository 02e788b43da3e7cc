#include "wireshark-plugin/tree.hpp"

#include <epan/expert.h>
#include <epan/proto.h>
#include <spice/enums.h>

#include <algorithm>
#include <string>

#include "dissect/decode/decoder.hpp"
#include "dissect/decode/frame_decode.hpp"
#include "dissect/decode/sub_messages.hpp"
#include "dissect/display/image_source.hpp"
#include "dissect/proto/spice.hpp"
#include "wireshark-plugin/fields.hpp"

namespace sc::wsplugin {

using decode::FieldValue;
using decode::kNoValue;
using schema::Kind;
using schema::LayoutNode;

namespace {

// Scratch reused for every message (dissection is single-threaded); nothing here
// needs a destructor to run if Wireshark unwinds with one of its exceptions.
struct Scratch {
  decode::DecodedFrame decoded;
  decode::DecodedMessage agent;       // a reassembled agent message
  std::vector<uint32_t> packets;      // the frames that carried one
  std::vector<proto_tree*> trees;     // by value index: the subtree children go under
  std::vector<uint32_t> next_child;   // by value index: elements seen so far (list positions)
  std::vector<uint8_t> skip;          // by value index: already shown by its pointer
};
Scratch& scratch() {
  static Scratch s;
  return s;
}

int pi_severity(decode::Severity s) {
  switch (s) {
    case decode::Severity::Info: return PI_NOTE;
    case decode::Severity::Warning: return PI_WARN;
    case decode::Severity::Error: return PI_ERROR;
  }
  return PI_ERROR;
}

bool visible(proto_tree* t) { return t && PTREE_DATA(t) && PTREE_DATA(t)->visible; }

// " (auth_selection, mini_header)" for capability word `word` of a link message.
void append_cap_names(proto_item* item, CapsList which, uint8_t channel_type, uint32_t word, uint64_t bits) {
  const auto& reg = schema::Registry::spice();
  std::span<const schema::CapName> names;
  if (which == CapsList::Common) {
    names = reg.common_caps();
  } else if (const auto* ch = reg.channel(channel_type)) {
    names = ch->caps;
  }
  std::string text;
  for (unsigned b = 0; b < 32; ++b) {
    if (!((bits >> b) & 1u)) continue;
    const uint32_t index = word * 32 + b;
    auto it = std::find_if(names.begin(), names.end(), [&](const schema::CapName& c) { return c.index == index; });
    if (!text.empty()) text += ", ";
    text += it != names.end() ? it->name : "bit" + std::to_string(index);
  }
  if (!text.empty()) proto_item_append_text(item, " (%s)", text.c_str());
}

// Every decoded value of one message body (at tvb offset body_at) under `mt`, and
// the decoder's diagnostics as expert infos.
void add_fields(proto_tree* mt, tvbuff_t* tvb, packet_info* pinfo, int body_at, uint32_t body_size,
                const decode::DecodedMessage& decoded, uint8_t channel_type) {
  Fields& F = fields();
  const auto& reg = schema::Registry::spice();
  Scratch& s = scratch();
  const auto& values = decoded.values;
  s.trees.assign(values.size(), nullptr);
  s.next_child.assign(values.size(), 0);
  s.skip.assign(values.size(), 0);
  const bool show_text = visible(mt);

  auto clamp_len = [&](const FieldValue& v) {
    return static_cast<int>(std::min<uint64_t>(v.size, v.offset <= body_size ? body_size - v.offset : 0));
  };
  auto add_leaf = [&](proto_tree* parent, const NodeInfo& info, const schema::Type& t, const FieldValue& v,
                      uint32_t position) -> proto_item* {
    const int enc = t.kind == Kind::Int ? (t.big_endian ? ENC_BIG_ENDIAN : ENC_LITTLE_ENDIAN)
                                        : (t.text ? ENC_UTF_8 : ENC_NA);
    proto_item* item = proto_tree_add_item(parent, info.hf, tvb, body_at + static_cast<int>(v.offset), clamp_len(v), enc);
    if (show_text && t.kind == Kind::Int) {
      if (info.flags && t.names && v.number != 0) {
        proto_item_append_text(item, " (%s)", t.names->describe(v.number).c_str());
      }
      if (info.caps != CapsList::None) append_cap_names(item, info.caps, channel_type, position, v.number);
    }
    return item;
  };

  for (uint32_t i = 0; i < values.size(); ++i) {
    if (s.skip[i]) continue;
    const FieldValue& v = values[i];
    const LayoutNode& n = reg.node(v.node);
    const NodeInfo& info = F.nodes[v.node];
    proto_tree* parent = v.parent == kNoValue ? mt : s.trees[v.parent];
    if (n.parent == schema::kNoNode) {  // the message body itself
      s.trees[i] = mt;
      continue;
    }
    if (!parent) continue;
    const uint32_t position = v.parent == kNoValue ? 0 : s.next_child[v.parent]++;
    const int off = body_at + static_cast<int>(v.offset);
    const schema::Type& t = *n.type;
    const bool internal = n.name.empty();

    switch (t.kind) {
      case Kind::Int:
        if (info.hf >= 0) add_leaf(parent, info, t, v, position);
        break;
      case Kind::Bytes:
        if (info.hf >= 0) {
          proto_item* item = add_leaf(parent, info, t, v, position);
          // A payload hook's header goes under its bytes.
          if (v.end > i + 1 && info.ett >= 0) s.trees[i] = proto_item_add_subtree(item, info.ett);
        }
        break;
      case Kind::Struct:
      case Kind::Switch:
        if (!internal) {
          proto_item* item = proto_tree_add_item(parent, info.hf, tvb, off, clamp_len(v), ENC_NA);
          s.trees[i] = proto_item_add_subtree(item, info.ett);
        } else if (n.path.ends_with("[]")) {
          s.trees[i] = proto_tree_add_subtree_format(parent, tvb, off, clamp_len(v), info.ett, nullptr, "[%u]", position);
        } else {
          s.trees[i] = parent;  // a pointer's target: its fields go under the pointer
        }
        break;
      case Kind::Array: {
        const LayoutNode& elem = reg.node(n.children[0]);
        if (internal) {
          s.trees[i] = parent;  // a pointer's target list: shown by the pointer
        } else if (elem.type->kind == Kind::Int) {
          s.trees[i] = proto_tree_add_subtree_format(parent, tvb, off, clamp_len(v), info.ett, nullptr,
                                                     "%s: %" PRIu64 " element%s", n.name.c_str(), v.number,
                                                     v.number == 1 ? "" : "s");
        } else {
          proto_item* item = proto_tree_add_uint(parent, info.hf, tvb, off, clamp_len(v), static_cast<uint32_t>(v.number));
          s.trees[i] = proto_item_add_subtree(item, info.ett);
        }
        break;
      }
      case Kind::Pointer: {
        if (internal) {  // a pointer to a pointer: the outer one shows the way
          s.trees[i] = parent;
          break;
        }
        const LayoutNode& target = reg.node(n.children[0]);
        const bool has_target = v.end > i + 1 && values[i + 1].parent == i;
        if (!has_target) {
          proto_tree_add_subtree_format(parent, tvb, off, clamp_len(v), F.ett_element, nullptr,
                                        v.number == 0 ? "%s: none (offset 0)" : "%s: offset %" PRIu64 " (not decoded)",
                                        n.name.c_str(), v.number);
          break;
        }
        const FieldValue& tv = values[i + 1];
        switch (target.type->kind) {
          case Kind::Int:
          case Kind::Bytes: {
            // A pointer is its target: the value, found through the offset.
            proto_item* item = add_leaf(parent, info, *target.type, tv, 0);
            if (show_text) proto_item_append_text(item, " (through offset %" PRIu64 ")", v.number);
            s.skip[i + 1] = 1;
            break;
          }
          case Kind::Array: {
            const LayoutNode& elem = reg.node(target.children[0]);
            if (elem.type->kind == Kind::Int) {
              s.trees[i] = proto_tree_add_subtree_format(parent, tvb, body_at + static_cast<int>(tv.offset),
                                                         clamp_len(tv), info.ett, nullptr,
                                                         "%s: %" PRIu64 " element%s (through offset %" PRIu64 ")",
                                                         n.name.c_str(), tv.number, tv.number == 1 ? "" : "s", v.number);
            } else {
              proto_item* item = proto_tree_add_uint(parent, info.hf, tvb, body_at + static_cast<int>(tv.offset),
                                                     clamp_len(tv), static_cast<uint32_t>(tv.number));
              if (show_text) proto_item_append_text(item, " (through offset %" PRIu64 ")", v.number);
              s.trees[i] = proto_item_add_subtree(item, info.ett);
            }
            break;
          }
          case Kind::Struct:
          case Kind::Switch:
          case Kind::Pointer: {
            proto_item* item = proto_tree_add_uint(parent, info.hf, tvb, off, clamp_len(v), static_cast<uint32_t>(v.number));
            if (show_text) proto_item_append_text(item, " (offset)");
            s.trees[i] = proto_item_add_subtree(item, info.ett);
            break;
          }
        }
        break;
      }
    }
  }

  for (const auto& d : decoded.diagnostics) {
    const int where = body_at + static_cast<int>(std::min<uint32_t>(d.offset, body_size));
    proto_tree_add_expert_format(mt, pinfo, F.expert_for(d.code, pi_severity(d.severity)), tvb, where, 0, "%s%s%s",
                                 d.path.c_str(), d.path.empty() ? "" : ": ", d.text.c_str());
  }
}


}  // namespace

const char* frame_name(const FrameRecord& f, wmem_allocator_t* scope) {
  if (f.def) return f.def->full_name.c_str();
  const std::string ch = schema::Registry::spice().channel_name(f.channel_type);
  return wmem_strdup_printf(scope, "%s.%s", ch.c_str(), f.undecodable ? "undecodable" : "unknown");
}

proto_tree* add_message_tree(proto_tree* tree, tvbuff_t* tvb, packet_info* pinfo, int at, const FrameRecord& f,
                             Direction dir, const decode::NegotiatedCaps& caps) {
  Fields& F = fields();
  const auto& reg = schema::Registry::spice();
  const char* name = frame_name(f, pinfo->pool);
  const char* dir_name = dir == Direction::C2S ? "c2s" : "s2c";
  const int wire = static_cast<int>(f.wire_size);
  const int hs = f.header_size;
  const int body_at = at + hs;
  const uint32_t body_size = f.wire_size - f.header_size;

  proto_item* mi = nullptr;
  proto_tree* mt = nullptr;
  if (f.def) {
    mi = proto_tree_add_item(tree, F.nodes[f.def->root].hf, tvb, at, wire, ENC_NA);
    mt = proto_item_add_subtree(mi, F.nodes[f.def->root].ett);
  } else if (f.undecodable) {
    mi = proto_tree_add_item(tree, F.undecodable, tvb, at, wire, ENC_NA);
    mt = proto_item_add_subtree(mi, F.ett_unknown);
  } else {
    mt = proto_tree_add_subtree(tree, tvb, at, wire, F.ett_unknown, &mi, name);
  }
  if (visible(tree)) {
    if (f.def || f.undecodable) proto_item_set_text(mi, "%s", name);
    if (f.type) proto_item_append_text(mi, " (type %u)", f.type);
    proto_item_append_text(mi, ", %s, %u bytes", dir_name, f.wire_size);
  }
  proto_item* gi = proto_tree_add_string(mt, F.message, tvb, at, 0, name);
  proto_item_set_generated(gi);
  gi = proto_tree_add_string(mt, F.direction, tvb, at, 0, dir_name);
  proto_item_set_generated(gi);
  gi = proto_tree_add_uint64(mt, F.stream_offset, tvb, at, 0, f.offset);
  proto_item_set_generated(gi);

  if (hs > 0) {
    const bool mini = static_cast<size_t>(hs) == framing::kMiniHeaderSize;
    proto_tree* ht = proto_tree_add_subtree_format(mt, tvb, at, hs, F.ett_header, nullptr, "%s header",
                                                   mini ? "Mini" : "Full");
    // Values are the framer's; the offsets follow frame.hpp's header layouts.
    if (mini) {
      proto_tree_add_uint(ht, F.message_type, tvb, at, 2, f.type);
      proto_tree_add_uint(ht, F.size, tvb, at + 2, 4, body_size);
    } else {
      proto_tree_add_uint64(ht, F.serial, tvb, at, 8, f.serial);
      proto_tree_add_uint(ht, F.message_type, tvb, at + 8, 2, f.type);
      proto_tree_add_uint(ht, F.size, tvb, at + 10, 4, body_size);
      proto_tree_add_uint(ht, F.sub_list, tvb, at + 14, 4, f.sub_list);
    }
  }
  if (!f.def) {
    if (!f.undecodable) {
      proto_tree_add_item(mt, F.unknown_body, tvb, body_at, static_cast<int>(body_size), ENC_NA);
      const std::string ch = reg.channel_name(f.channel_type);
      proto_tree_add_expert_format(mt, pinfo, &F.ei_unknown_type, tvb, at, hs,
                                   "message type %u is not defined for the %s channel in this direction; kept as bytes",
                                   f.type, ch.c_str());
    }
    return mt;
  }

  if (!F.needs_body(mt, f.def->root) && f.sub_list == 0) return mt;

  // The body, decoded by the project's decoder from the tvb's bytes. With a
  // sub-message list (full headers), the message's own fields end where it begins.
  const uint8_t* body = body_size ? tvb_get_ptr(tvb, body_at, static_cast<int>(body_size)) : nullptr;
  const std::span<const uint8_t> whole{body, body_size};
  Scratch& s = scratch();
  decode::decode_frame({.def = f.def, .channel_type = f.channel_type, .dir = dir, .body = whole, .sub_list = f.sub_list},
                       caps, s.decoded);
  add_fields(mt, tvb, pinfo, body_at, static_cast<uint32_t>(s.decoded.own_body.size()), s.decoded.own, f.channel_type);
  if (!s.decoded.has_subs) return mt;
  const auto& subs = s.decoded.subs;
  for (const auto& d : subs.diagnostics) {
    proto_tree_add_expert_format(mt, pinfo, F.expert_for(d.code, pi_severity(d.severity)), tvb,
                                 body_at + static_cast<int>(std::min<uint32_t>(d.offset, body_size)), 0, "%s",
                                 d.text.c_str());
  }
  uint32_t index = 0;
  for (const auto& m : subs.items) {
    const int sub_at = body_at + static_cast<int>(m.offset) - static_cast<int>(framing::kMiniHeaderSize);
    const int sub_len = static_cast<int>(framing::kMiniHeaderSize + m.body.size());
    const char* sub_name = m.def ? m.def->full_name.c_str() : "unknown";
    proto_item* si = nullptr;
    proto_tree* st;
    if (m.def) {
      si = proto_tree_add_item(mt, F.nodes[m.def->root].hf, tvb, sub_at, sub_len, ENC_NA);
      st = proto_item_add_subtree(si, F.nodes[m.def->root].ett);
    } else {
      st = proto_tree_add_subtree(mt, tvb, sub_at, sub_len, F.ett_unknown, &si, sub_name);
    }
    if (visible(mt)) proto_item_set_text(si, "sub-message %u: %s (type %u), %zu bytes", index, sub_name, m.type, m.body.size());
    proto_tree_add_uint(st, F.message_type, tvb, sub_at, 2, m.type);
    proto_tree_add_uint(st, F.size, tvb, sub_at + 2, 4, static_cast<uint32_t>(m.body.size()));
    if (m.def) {
      add_fields(st, tvb, pinfo, body_at + static_cast<int>(m.offset), static_cast<uint32_t>(m.body.size()), m.decoded,
                 f.channel_type);
    } else {
      proto_tree_add_item(st, F.unknown_body, tvb, body_at + static_cast<int>(m.offset), static_cast<int>(m.body.size()),
                          ENC_NA);
    }
    ++index;
  }
  return mt;
}

void add_image(proto_tree* mt, tvbuff_t* tvb, packet_info* pinfo, int at, const FrameRecord& f, const ImageRecord& rec,
               const char* exported) {
  const display::ImageInfo& r = rec.info;
  Fields& F = fields();
  // In the packet's pool: a Wireshark exception (tree item limit) may unwind past here.
  const char* type = wmem_strdup(pinfo->pool, display::image_type_name(r.type).c_str());
  // (the CLI leaves "no cache operation" blank; a filter needs a word)
  const std::string_view op = display::cache_op_name(r.cache);
  const char* cache = r.cache == display::CacheOp::None ? "none" : wmem_strndup(pinfo->pool, op.data(), op.size());
  const std::string_view named = display::image_status_name(display::image_status(r));
  const char* status = wmem_strndup(pinfo->pool, named.data(), named.size());
  const uint32_t body_size = f.wire_size - f.header_size;
  const int where = at + f.header_size + static_cast<int>(std::min(r.offset, body_size));
  proto_item* ii = proto_tree_add_item(mt, F.image, tvb, where, 0, ENC_NA);
  proto_item_set_generated(ii);
  if (visible(mt)) {
    proto_item_set_text(ii, "Decoded image: %s %ux%u, id %" PRIu64 ", %" PRIu64 " bytes%s%s%s, %s", type, r.width,
                        r.height, r.id, r.payload_bytes, r.cache == display::CacheOp::None ? "" : ", cache ",
                        r.cache == display::CacheOp::None ? "" : cache, r.lossy ? ", lossy" : "", status);
  }
  proto_tree* it = proto_item_add_subtree(ii, F.ett_image);
  auto generated = [](proto_item* item) { proto_item_set_generated(item); };
  generated(proto_tree_add_string(it, F.image_type, tvb, where, 0, type));
  generated(proto_tree_add_uint(it, F.image_width, tvb, where, 0, r.width));
  generated(proto_tree_add_uint(it, F.image_height, tvb, where, 0, r.height));
  generated(proto_tree_add_uint64(it, F.image_compressed_size, tvb, where, 0, r.payload_bytes));
  generated(proto_tree_add_uint64(it, F.image_decoded_size, tvb, where, 0, r.decoded_bytes));
  generated(proto_tree_add_string(it, F.image_cache, tvb, where, 0, cache));
  generated(proto_tree_add_string(it, F.image_status, tvb, where, 0, status));
  generated(proto_tree_add_uint64(it, F.image_id, tvb, where, 0, r.id));
  if (!r.field.empty()) {
    generated(proto_tree_add_string(it, F.image_field, tvb, where, 0,
                                    wmem_strndup(pinfo->pool, r.field.data(), r.field.size())));
  }
  generated(proto_tree_add_boolean(it, F.image_lossy, tvb, where, 0, r.lossy));
  if (exported) generated(proto_tree_add_string(it, F.image_exported, tvb, where, 0, exported));
  if (r.fault) {
    expert_add_info_format(pinfo, ii, &F.ei_image_failed, "%s image %" PRIu64 ": %s (%s)", type, r.id,
                           r.fault->text.c_str(), r.fault->code.c_str());
  }
  if (rec.png_refused) {
    expert_add_info_format(pinfo, ii, &F.ei_image_memory,
                           "the PNGs kept for Export Objects reached the memory bound (preference "
                           "spicecap.image_memory_mb): this image and every later one are not offered");
  }
}

void add_agent_item(proto_tree* tree, tvbuff_t* tvb, packet_info* pinfo, int at, int len, const Connection& conn,
                    const AgentItem& a) {
  Fields& F = fields();
  const char* dir_name = a.dir == Direction::C2S ? "c2s" : "s2c";
  if (!a.is_message) {
    if (a.in_fields) return;  // a decoder diagnostic: the message's fields show it where it is
    proto_item* di = proto_tree_add_string_format_value(tree, F.agent_diagnostic, tvb, at, len, a.code.c_str(),
                                                        "%s (%s, %s)", a.code.c_str(), dir_name,
                                                        std::string(decode::severity_name(a.severity)).c_str());
    proto_item_set_generated(di);
    expert_field* ei = a.severity == decode::Severity::Error     ? &F.ei_agent_error
                       : a.severity == decode::Severity::Warning ? &F.ei_agent_warn
                                                                 : &F.ei_agent_note;
    expert_add_info_format(pinfo, di, ei, "agent %s: %s", dir_name, a.text.c_str());
    return;
  }

  // The reassembled bytes live as long as the connection (the first pass made them).
  const int size = static_cast<int>(a.bytes.size());
  tvbuff_t* atvb = tvb_new_child_real_data(tvb, a.bytes.data(), static_cast<guint>(size), size);
  add_new_data_source(pinfo, atvb, "Reassembled agent message");
  const char* name = a.def ? a.def->full_name.c_str() : "agent.unknown";
  proto_item* mi = nullptr;
  proto_tree* mt;
  if (a.def) {
    mi = proto_tree_add_item(tree, F.nodes[a.def->root].hf, atvb, 0, size, ENC_NA);
    mt = proto_item_add_subtree(mi, F.nodes[a.def->root].ett);
  } else {
    mt = proto_tree_add_subtree(tree, atvb, 0, size, F.ett_agent, &mi, name);
  }
  if (visible(tree)) {
    proto_item_set_text(mi, "Agent message: %s (type %u), %s, %u bytes", name, a.header.type, dir_name, a.header.size);
  }
  proto_item* gi = proto_tree_add_string(mt, F.agent_message, atvb, 0, 0, name);
  proto_item_set_generated(gi);
  gi = proto_tree_add_string(mt, F.agent_direction, atvb, 0, 0, dir_name);
  proto_item_set_generated(gi);
  gi = proto_tree_add_uint64(mt, F.agent_stream_offset, atvb, 0, 0, a.span.first_carrier);
  proto_item_set_generated(gi);
  gi = proto_tree_add_uint(mt, F.agent_header_at, atvb, 0, 0, a.span.first_offset);
  proto_item_set_generated(gi);
  gi = proto_tree_add_uint64(mt, F.agent_last_offset, atvb, 0, 0, a.span.last_carrier);
  proto_item_set_generated(gi);

  const int hs = static_cast<int>(std::min<size_t>(agent::kHeaderSize, a.bytes.size()));
  proto_tree* ht = proto_tree_add_subtree(mt, atvb, 0, hs, F.ett_agent_header, nullptr, "VDAgentMessage header");
  proto_tree_add_item(ht, F.agent_protocol, atvb, 0, 4, ENC_LITTLE_ENDIAN);
  proto_tree_add_item(ht, F.agent_type, atvb, 4, 4, ENC_LITTLE_ENDIAN);
  proto_tree_add_item(ht, F.agent_opaque, atvb, 8, 8, ENC_LITTLE_ENDIAN);
  proto_tree_add_item(ht, F.agent_size, atvb, 16, 4, ENC_LITTLE_ENDIAN);

  // The main.agent_data messages it came in, and the packets that showed them.
  const auto& reg = schema::Registry::spice();
  const schema::MessageDef* carrier_def = reg.find(
      SPICE_CHANNEL_MAIN, a.dir,
      static_cast<uint16_t>(a.dir == Direction::C2S ? int{SPICE_MSGC_MAIN_AGENT_DATA} : int{SPICE_MSG_MAIN_AGENT_DATA}));
  Scratch& s = scratch();
  s.packets.clear();
  uint32_t carriers = 0;
  for (uint32_t i = conn.frame_at(a.dir, a.span.first_carrier); i < conn.frame_count(a.dir); ++i) {
    const FrameRecord& f = conn.frame(a.dir, i);
    if (f.offset > a.span.last_carrier) break;
    if (f.def != carrier_def) continue;
    ++carriers;
    if (s.packets.empty() || s.packets.back() != f.shown_in) s.packets.push_back(f.shown_in);
  }
  proto_item* ci = proto_tree_add_uint(mt, F.agent_carriers, atvb, 0, 0, carriers);
  proto_item_set_generated(ci);
  if (carriers > 1) {
    proto_tree* ct = proto_item_add_subtree(ci, F.ett_agent_carriers);
    constexpr size_t kMaxListed = 1000;
    std::string text;
    for (size_t i = 0; i < s.packets.size(); ++i) {
      const uint32_t p = s.packets[i];
      if (i < 8) text += (i ? ", " : "") + (p ? std::to_string(p) : std::string("(not shown)"));
      if (i < kMaxListed && p != 0) {
        proto_item* fi = proto_tree_add_uint(ct, F.agent_frame, atvb, 0, 0, p);
        proto_item_set_generated(fi);
      }
    }
    if (s.packets.size() > 8) text += ", …";
    if (s.packets.size() > kMaxListed) {
      proto_tree_add_subtree_format(ct, atvb, 0, 0, F.ett_element, nullptr, "… %zu more frames",
                                    s.packets.size() - kMaxListed);
    }
    if (visible(mt)) proto_item_append_text(ci, " (in frame%s %s)", s.packets.size() == 1 ? "" : "s", text.c_str());
  }

  const uint32_t body_size = static_cast<uint32_t>(a.bytes.size() - static_cast<size_t>(hs));
  if (!a.def) {
    if (body_size > 0) proto_tree_add_item(mt, F.agent_body, atvb, hs, static_cast<int>(body_size), ENC_NA);
    if (body_size < a.header.size) {
      proto_tree_add_subtree_format(mt, atvb, 0, hs, F.ett_element, nullptr,
                                    "body of %u bytes not kept (larger than the reassembly limit)", a.header.size);
    }
    return;
  }
  if (!F.needs_body(mt, a.def->root)) return;
  s.agent.clear();
  decode::decode_message(*a.def, std::span<const uint8_t>(a.bytes).subspan(static_cast<size_t>(hs)),
                         conn.agent_caps(a.caps), s.agent);
  add_fields(mt, atvb, pinfo, hs, body_size, s.agent, proto::kAgentLayer);
}

}  // namespace sc::wsplugin
