#include "wireshark-plugin/fields.hpp"

#include <wireshark.h>

#include <epan/proto.h>

#include <algorithm>
#include <deque>
#include <stdexcept>
#include <unordered_map>

#include "dissect/proto/spice.hpp"
#include "dissect/schema/field_list.hpp"

namespace sc::wsplugin {

using schema::Kind;
using schema::LayoutNode;

namespace {

// Everything Wireshark keeps pointers to lives here until the process ends
// (a plugin is never unloaded).
struct Storage {
  std::deque<std::string> strings;
  std::deque<std::vector<value_string>> vals;
  std::deque<std::vector<val64_string>> vals64;
  std::unordered_map<const schema::ValueNames*, const void*> names_table;
  std::deque<int> hf_ids;
  std::vector<hf_register_info> hf;
  std::deque<int> etts;
  std::vector<ei_register_info> ei;
  Fields fields;
};

Storage& storage() {
  static Storage s;
  return s;
}

const char* keep(std::string s) {
  auto& st = storage();
  st.strings.push_back(std::move(s));
  return st.strings.back().c_str();
}

struct Repr {
  ftenum type = FT_NONE;
  int display = BASE_NONE;
  const void* strings = nullptr;
  bool flags = false;
};

const void* value_table(const schema::ValueNames& names, bool wide) {
  auto& st = storage();
  if (auto it = st.names_table.find(&names); it != st.names_table.end()) return it->second;
  const void* table;
  if (wide) {
    auto& v = st.vals64.emplace_back();
    for (const auto& nv : names.values) v.push_back({nv.value, keep(nv.name)});
    v.push_back({0, nullptr});
    table = v.data();
  } else {
    auto& v = st.vals.emplace_back();
    for (const auto& nv : names.values) v.push_back({static_cast<guint32>(nv.value), keep(nv.name)});
    v.push_back({0, nullptr});
    table = v.data();
  }
  st.names_table.emplace(&names, table);
  return table;
}

Repr int_repr(const schema::Type& t, bool hex) {
  static constexpr ftenum kTypes[] = {FT_UINT8, FT_UINT16, FT_UINT32, FT_UINT64, FT_INT8, FT_INT16, FT_INT32, FT_INT64};
  Repr r;
  r.type = kTypes[static_cast<int>(t.rep)];
  const bool wide = schema::int_width(t.rep) == 8;
  const bool is_signed = schema::int_signed(t.rep);
  r.display = hex && !is_signed ? BASE_HEX : BASE_DEC;
  if (t.names && t.names->is_flags && !is_signed) {
    r.display = BASE_HEX;
    r.flags = true;
  } else if (t.names) {
    r.strings = value_table(*t.names, wide);
    if (wide) r.display |= BASE_VAL64_STRING;
  }
  return r;
}

Repr leaf_repr(const schema::Type& t, bool hex) {
  if (t.kind == Kind::Int) return int_repr(t, hex);
  Repr r;
  r.type = t.text ? FT_STRINGZTRUNC : FT_BYTES;
  return r;
}

bool is_caps_list(const std::string& path) {
  return path.ends_with(".common_caps") || path.ends_with(".channel_caps");
}

// The field a named node (or a message root) gets.
Repr repr_of(const schema::Registry& reg, const LayoutNode& n) {
  if (n.parent == schema::kNoNode) return {};  // a message
  const schema::Type& t = *n.type;
  auto list_repr = [&](const LayoutNode& array) {
    const LayoutNode& elem = reg.node(array.children[0]);
    if (elem.type->kind == Kind::Int) return int_repr(*elem.type, is_caps_list(n.path));
    return Repr{FT_UINT32, BASE_DEC, nullptr, false};
  };
  switch (t.kind) {
    case Kind::Int:
    case Kind::Bytes: return leaf_repr(t, false);
    case Kind::Struct:
    case Kind::Switch: return {};
    case Kind::Array: return list_repr(n);
    case Kind::Pointer: {
      const LayoutNode& target = reg.node(n.children[0]);
      switch (target.type->kind) {
        case Kind::Int:
        case Kind::Bytes: return leaf_repr(*target.type, false);
        case Kind::Array: return list_repr(target);
        case Kind::Struct:
        case Kind::Switch:
        case Kind::Pointer: return {FT_UINT32, BASE_DEC, nullptr, false};
      }
    }
  }
  return {};
}

bool groups_others(const LayoutNode& n) {
  switch (n.type->kind) {
    case Kind::Struct:
    case Kind::Switch:
    case Kind::Array:
    case Kind::Pointer: return true;
    case Kind::Bytes: return !n.children.empty();  // a payload hook's header
    default: return n.parent == schema::kNoNode;
  }
}

int new_ett() {
  storage().etts.push_back(-1);
  return static_cast<int>(storage().etts.size() - 1);  // position; resolved after registration
}

}  // namespace

Fields& fields() { return storage().fields; }

bool Fields::needs_body(proto_tree* tree, uint32_t root) const {
  if (!tree) return false;
  if (PTREE_DATA(tree)->visible) return true;
  for (int hf : decoded_fields[root]) {
    if (proto_field_is_referenced(tree, hf)) return true;
  }
  return false;
}

expert_field* Fields::expert_for(const std::string& code, int severity_pi) {
  static const std::unordered_map<std::string, expert_field Fields::*> by_code = {
      {"gap", &Fields::ei_gap},
      {"resync", &Fields::ei_resync},
      {"midstream", &Fields::ei_midstream},
      {"incomplete", &Fields::ei_incomplete},
      {"undecodable_stream", &Fields::ei_undecodable_stream},
      {"bad_header", &Fields::ei_bad_header},
      {"truncated", &Fields::ei_truncated},
      {"bad_count", &Fields::ei_bad_count},
      {"bad_pointer", &Fields::ei_bad_pointer},
      {"trailing_bytes", &Fields::ei_trailing_bytes},
      {"too_many_fields", &Fields::ei_too_many_fields},
      {"unknown_type", &Fields::ei_unknown_type},
      {"bad_sub_list", &Fields::ei_bad_sub_list},
  };
  if (auto it = by_code.find(code); it != by_code.end()) return &(this->*(it->second));
  if (severity_pi == PI_ERROR) return &ei_other_error;
  if (severity_pi == PI_WARN) return &ei_other_warn;
  return &ei_other_note;
}

Fields& register_fields(int proto, const char* abbrev) {
  auto& st = storage();
  Fields& f = st.fields;
  f.proto = proto;
  const auto& reg = schema::Registry::spice();
  const std::string prefix = std::string(abbrev) + ".";

  // Descriptions for the blurbs, from the same list `spice-capture fields` prints.
  std::unordered_map<std::string, schema::FieldEntry> entries;
  for (auto& e : schema::list_fields(reg)) entries.emplace(e.path, std::move(e));

  auto add_hf = [&](int& id_slot_index, const std::string& name, const std::string& filter, Repr r,
                    const std::string& blurb) {
    st.hf_ids.push_back(-1);
    id_slot_index = static_cast<int>(st.hf_ids.size() - 1);
    hf_register_info hf{};
    hf.p_id = &st.hf_ids.back();
    hf.hfinfo = {keep(name), keep(filter), r.type, r.display, r.strings, 0, blurb.empty() ? nullptr : keep(blurb),
                 HFILL};
    st.hf.push_back(hf);
  };

  // One field per dotted path, one subtree index per grouping path.
  f.nodes.assign(reg.nodes().size(), {});
  std::unordered_map<std::string, std::pair<int, int>> by_path;  // path -> (hf slot, ett slot)
  std::vector<std::pair<int, int>> slot_of(reg.nodes().size(), {-1, -1});
  auto named_slot = [&](const LayoutNode& n) -> std::pair<int, int> {
    if (auto it = by_path.find(n.path); it != by_path.end()) return it->second;
    std::pair<int, int> s{-1, groups_others(n) ? new_ett() : -1};
    const Repr r = repr_of(reg, n);
    std::string blurb = n.path;
    if (auto e = entries.find(n.path); e != entries.end()) {
      blurb += " (" + e->second.kind + (e->second.values.empty() ? "" : " " + e->second.values) + ", " +
               e->second.direction + ")";
    }
    add_hf(s.first, n.parent == schema::kNoNode ? n.path : n.name, prefix + n.path, r, blurb);
    by_path.emplace(n.path, s);
    return s;
  };
  // Nodes without a field of their own borrow the nearest named ancestor's
  // (integer list elements) or get only a subtree (struct list elements).
  auto named_ancestor = [&](const LayoutNode& n) -> const LayoutNode* {
    for (uint32_t p = n.parent; p != schema::kNoNode; p = reg.node(p).parent) {
      const LayoutNode& a = reg.node(p);
      if (!a.name.empty() || a.parent == schema::kNoNode) return &a;
    }
    return nullptr;
  };
  std::unordered_map<std::string, int> element_ett;
  for (const auto& n : reg.nodes()) {
    NodeInfo& info = f.nodes[n.id];
    if (!n.name.empty() || n.parent == schema::kNoNode) {
      slot_of[n.id] = named_slot(n);
      const Repr r = repr_of(reg, n);
      info.flags = r.flags;
      if (n.type->kind == Kind::Array && is_caps_list(n.path) && n.path.starts_with("link.")) {
        info.caps = n.path.ends_with(".common_caps") ? CapsList::Common : CapsList::Channel;
      }
    } else if (n.path.ends_with("[]")) {
      const LayoutNode* owner = named_ancestor(n);
      if (n.type->kind == Kind::Int && owner) {
        slot_of[n.id].first = named_slot(*owner).first;
        info.flags = int_repr(*n.type, false).flags;
        info.caps = is_caps_list(owner->path) && owner->path.starts_with("link.")
                        ? (owner->path.ends_with(".common_caps") ? CapsList::Common : CapsList::Channel)
                        : CapsList::None;
      } else {
        auto [it, fresh] = element_ett.emplace(n.path, -1);
        if (fresh) it->second = new_ett();
        slot_of[n.id].second = it->second;
      }
    }
    // pointer targets and anonymous switches: no item of their own
  }
  for (const auto& e : entries) {
    if (!by_path.count(e.first)) throw std::logic_error("no Wireshark field for " + e.first);
  }

  // Framing and connection fields.
  std::vector<value_string>& channel_names = st.vals.emplace_back();
  for (const auto& ch : reg.channels()) if (!ch.layer) channel_names.push_back({ch.type, keep(ch.name)});
  channel_names.push_back({0, nullptr});
  // Agent message types by name, from the layer's messages.
  std::vector<value_string>& agent_types = st.vals.emplace_back();
  for (const auto& m : reg.messages()) {
    if (m.channel_type != proto::kAgentLayer || m.direction != schema::Direction::C2S) continue;
    agent_types.push_back({m.type, keep(m.name)});
  }
  agent_types.push_back({0, nullptr});
  struct Fixed {
    int* target;
    const char* name;
    const char* filter;
    Repr repr;
    const char* blurb;
  };
  std::vector<std::pair<int*, int>> fixed_slots;
  const Fixed fixed[] = {
      {&f.channel, "Channel type", "channel", {FT_UINT8, BASE_DEC, channel_names.data(), false},
       "SPICE channel type (from the link message, or inferred mid-session)"},
      {&f.channel_id, "Channel id", "channel_id", {FT_UINT8, BASE_DEC, nullptr, false}, "the channel's id within its type"},
      {&f.header, "Header", "header", {FT_STRING, BASE_NONE, nullptr, false},
       "data-stage header both peers negotiated: mini or full"},
      {&f.midstream, "Mid-session", "midstream", {FT_BOOLEAN, BASE_NONE, nullptr, false},
       "no link stage captured: channel type and header were inferred"},
      {&f.client_port, "Client port", "client_port", {FT_UINT16, BASE_DEC, nullptr, false},
       "TCP port of the connection's client (the store's channels.client)"},
      {&f.direction, "Direction", "direction", {FT_STRING, BASE_NONE, nullptr, false}, "c2s or s2c"},
      {&f.message, "Message", "message", {FT_STRING, BASE_NONE, nullptr, false},
       "<channel>.<message>, link.<step>, <channel>.unknown or <channel>.undecodable (the store's messages.name)"},
      {&f.message_type, "Message type", "message_type", {FT_UINT16, BASE_DEC, nullptr, false}, "wire message type"},
      {&f.stream_offset, "Stream offset", "stream_offset", {FT_UINT64, BASE_DEC, nullptr, false},
       "position of the message's first byte in its direction's TCP stream (the store's messages.stream_offset)"},
      {&f.serial, "Serial", "serial", {FT_UINT64, BASE_DEC, nullptr, false}, "full header: message serial"},
      {&f.size, "Size", "size", {FT_UINT32, BASE_DEC, nullptr, false}, "message body size"},
      {&f.sub_list, "Sub-message list", "sub_list", {FT_UINT32, BASE_DEC, nullptr, false},
       "full header: offset of the sub-message list, 0 = none"},
      {&f.unknown_body, "Body of an unknown message type", "unknown_body", {FT_BYTES, BASE_NONE, nullptr, false},
       nullptr},
      {&f.undecodable, "Undecodable bytes", "undecodable", {FT_BYTES, BASE_NONE, nullptr, false},
       "bytes the framer could not cut into messages"},
      {&f.pending, "Start of a message completed later", "pending", {FT_BYTES, BASE_NONE, nullptr, false},
       "bytes of a message that TCP reassembly completes in a later packet"},
      {&f.continuation, "Bytes already shown", "continuation", {FT_BYTES, BASE_NONE, nullptr, false},
       "bytes that belong to a message shown in another packet"},
      {&f.agent_message, "Agent message", "agent_message", {FT_STRING, BASE_NONE, nullptr, false},
       "a reassembled agent (vdagent) message: agent.<message> or agent.unknown (the store's agent_messages name)"},
      {&f.agent_direction, "Agent direction", "agent_direction", {FT_STRING, BASE_NONE, nullptr, false},
       "c2s (client to guest) or s2c (guest to client)"},
      {&f.agent_stream_offset, "Starts in the agent data at stream offset", "agent_stream_offset",
       {FT_UINT64, BASE_DEC, nullptr, false},
       "stream offset of the main.agent_data message its header starts in (the store's agent_messages.first_offset)"},
      {&f.agent_header_at, "Header at body byte", "agent_header_at", {FT_UINT32, BASE_DEC, nullptr, false},
       "where in that main.agent_data body the header starts (agent_messages.header_at)"},
      {&f.agent_last_offset, "Ends in the agent data at stream offset", "agent_last_offset",
       {FT_UINT64, BASE_DEC, nullptr, false},
       "stream offset of the main.agent_data message with its last byte (agent_messages.last_offset)"},
      {&f.agent_protocol, "Protocol", "agent_protocol", {FT_UINT32, BASE_DEC, nullptr, false},
       "VDAgentMessage.protocol (1)"},
      {&f.agent_type, "Type", "agent_type", {FT_UINT32, BASE_DEC, agent_types.data(), false},
       "VDAgentMessage.type"},
      {&f.agent_opaque, "Opaque", "agent_opaque", {FT_UINT64, BASE_HEX, nullptr, false}, "VDAgentMessage.opaque"},
      {&f.agent_size, "Size", "agent_size", {FT_UINT32, BASE_DEC, nullptr, false},
       "VDAgentMessage.size: body bytes after the 20-byte header"},
      {&f.agent_body, "Agent message body", "agent_body", {FT_BYTES, BASE_NONE, nullptr, false},
       "body of an agent message of unknown type"},
      {&f.agent_carriers, "Reassembled from main.agent_data messages", "agent_carriers",
       {FT_UINT32, BASE_DEC, nullptr, false}, "how many main.agent_data messages carried it"},
      {&f.agent_frame, "Carried in frame", "agent_frame", {FT_FRAMENUM, BASE_NONE, nullptr, false},
       "a packet whose main.agent_data carried part of the agent message"},
      {&f.agent_diagnostic, "Agent diagnostic", "agent_diagnostic", {FT_STRING, BASE_NONE, nullptr, false},
       "what the agent conversation noticed, by code (the store's problems.code)"},
      {&f.image, "Decoded image", "image", {FT_NONE, BASE_NONE, nullptr, false},
       "an image a display message carried, decoded as the client would (with the session's caches)"},
      {&f.image_type, "Type", "image.type", {FT_STRING, BASE_NONE, nullptr, false},
       "quic, lz_rgb, glz_rgb, lz4, jpeg, bitmap, from_cache, surface, ... (`spice-capture images` type)"},
      {&f.image_width, "Width", "image.width", {FT_UINT32, BASE_DEC, nullptr, false}, "descriptor width, pixels"},
      {&f.image_height, "Height", "image.height", {FT_UINT32, BASE_DEC, nullptr, false}, "descriptor height, pixels"},
      {&f.image_compressed_size, "Compressed size", "image.compressed_size", {FT_UINT64, BASE_DEC, nullptr, false},
       "payload bytes on the wire"},
      {&f.image_decoded_size, "Decoded size", "image.decoded_size", {FT_UINT64, BASE_DEC, nullptr, false},
       "width x height x 4 once decoded (0: not decoded, or a SURFACE image, which reads a live surface)"},
      {&f.image_cache, "Pixmap cache", "image.cache", {FT_STRING, BASE_NONE, nullptr, false},
       "what the image did to the pixmap cache: none, store, replace, hit, miss"},
      {&f.image_status, "Status", "image.status", {FT_STRING, BASE_NONE, nullptr, false},
       "\"decoded\", or why it could not be (the fault's text)"},
      {&f.image_id, "Image id", "image.id", {FT_UINT64, BASE_DEC, nullptr, false}, "descriptor.id"},
      {&f.image_field, "Field", "image.field", {FT_STRING, BASE_NONE, nullptr, false},
       "the image pointer's path: display.draw_copy.data.src_bitmap"},
      {&f.image_lossy, "Lossy", "image.lossy", {FT_BOOLEAN, BASE_NONE, nullptr, false},
       "decoded from JPEG (directly or through the cache)"},
      {&f.image_exported, "Export Objects file", "image.exported", {FT_STRING, BASE_NONE, nullptr, false},
       "the file name File > Export Objects > SPICEcap offers for it (decoded images kept within the memory bound)"},
  };
  for (const auto& x : fixed) {
    int slot;
    add_hf(slot, x.name, prefix + x.filter, x.repr, x.blurb ? x.blurb : "");
    fixed_slots.emplace_back(x.target, slot);
  }

  proto_register_field_array(proto, st.hf.data(), static_cast<int>(st.hf.size()));

  f.ett_top = new_ett();
  f.ett_element = new_ett();
  f.ett_header = new_ett();
  f.ett_unknown = new_ett();
  f.ett_cross = new_ett();
  f.ett_agent = new_ett();
  f.ett_agent_header = new_ett();
  f.ett_agent_carriers = new_ett();
  f.ett_agent_diagnostic = new_ett();
  f.ett_image = new_ett();
  std::vector<gint*> ett_ptrs;
  for (auto& e : st.etts) ett_ptrs.push_back(&e);
  proto_register_subtree_array(ett_ptrs.data(), static_cast<int>(ett_ptrs.size()));

  // Slots become the ids Wireshark assigned.
  for (const auto& n : reg.nodes()) {
    auto [hf_slot, ett_slot] = slot_of[n.id];
    f.nodes[n.id].hf = hf_slot >= 0 ? st.hf_ids[hf_slot] : -1;
    f.nodes[n.id].ett = ett_slot >= 0 ? st.etts[ett_slot] : -1;
  }
  for (auto [target, slot] : fixed_slots) *target = st.hf_ids[slot];
  f.ett_top = st.etts[f.ett_top];
  f.ett_element = st.etts[f.ett_element];
  f.ett_header = st.etts[f.ett_header];
  f.ett_unknown = st.etts[f.ett_unknown];
  f.ett_cross = st.etts[f.ett_cross];
  f.ett_agent = st.etts[f.ett_agent];
  f.ett_agent_header = st.etts[f.ett_agent_header];
  f.ett_agent_carriers = st.etts[f.ett_agent_carriers];
  f.ett_agent_diagnostic = st.etts[f.ett_agent_diagnostic];
  f.ett_image = st.etts[f.ett_image];

  struct Ei {
    expert_field* field;
    const char* name;
    int group;
    int severity;
    const char* summary;
  };
  const Ei eis[] = {
      {&f.ei_gap, "gap", PI_SEQUENCE, PI_ERROR, "bytes missing from the capture"},
      {&f.ei_resync, "resync", PI_SEQUENCE, PI_NOTE, "framing resynchronised"},
      {&f.ei_midstream, "midstream", PI_ASSUMPTION, PI_NOTE, "capture starts mid-session: channel inferred"},
      {&f.ei_incomplete, "incomplete", PI_MALFORMED, PI_WARN, "stream ends inside a message"},
      {&f.ei_undecodable_stream, "undecodable_stream", PI_MALFORMED, PI_ERROR, "stream cannot be decoded"},
      {&f.ei_bad_header, "bad_header", PI_MALFORMED, PI_ERROR, "implausible message header"},
      {&f.ei_truncated, "truncated", PI_MALFORMED, PI_ERROR, "field runs past the end of the message"},
      {&f.ei_bad_count, "bad_count", PI_MALFORMED, PI_ERROR, "impossible element count"},
      {&f.ei_bad_pointer, "bad_pointer", PI_MALFORMED, PI_ERROR, "offset points outside the message"},
      {&f.ei_trailing_bytes, "trailing_bytes", PI_PROTOCOL, PI_WARN, "bytes after the last field"},
      {&f.ei_too_many_fields, "too_many_fields", PI_UNDECODED, PI_ERROR, "too many fields in one message"},
      {&f.ei_unknown_type, "unknown_type", PI_UNDECODED, PI_WARN, "message type not defined for this channel"},
      {&f.ei_bad_sub_list, "bad_sub_list", PI_MALFORMED, PI_ERROR, "sub-message list does not fit the body"},
      {&f.ei_seen_before, "seen_before", PI_SEQUENCE, PI_NOTE, "bytes already handed to the framer"},
      {&f.ei_no_reassembly, "no_reassembly", PI_REASSEMBLE, PI_WARN,
       "message spans segments but TCP reassembly is off for this call"},
      {&f.ei_other_note, "other_note", PI_PROTOCOL, PI_NOTE, "other note"},
      {&f.ei_other_warn, "other_warning", PI_PROTOCOL, PI_WARN, "other warning"},
      {&f.ei_other_error, "other_error", PI_PROTOCOL, PI_ERROR, "other error"},
      {&f.ei_agent_note, "agent_note", PI_PROTOCOL, PI_NOTE, "agent conversation note"},
      {&f.ei_agent_warn, "agent_warning", PI_PROTOCOL, PI_WARN, "agent conversation warning"},
      {&f.ei_agent_error, "agent_error", PI_PROTOCOL, PI_ERROR, "agent conversation error"},
      {&f.ei_image_failed, "image_failed", PI_UNDECODED, PI_WARN, "image could not be decoded"},
      {&f.ei_image_memory, "image_memory", PI_UNDECODED, PI_NOTE,
       "memory bound for exported images reached: later images are not offered by Export Objects"},
      {&f.ei_image_queue, "image_queue", PI_UNDECODED, PI_NOTE,
       "more images in one packet than Export Objects takes: the rest are not offered"},
  };
  for (const auto& e : eis) {
    ei_register_info info{};
    info.ids = e.field;
    info.eiinfo = {keep(prefix + "expert." + e.name), e.group, e.severity, e.summary, EXPFILL};
    st.ei.push_back(info);
  }
  expert_module_t* module = expert_register_protocol(proto);
  expert_register_field_array(module, st.ei.data(), static_cast<int>(st.ei.size()));
  return f;
}

void collect_decoded_fields() {
  Fields& f = fields();
  const auto& reg = schema::Registry::spice();
  // What the decoder's diagnostics turn into, and the generic expert fields.
  std::vector<int> experts;
  for (const expert_field* e : {&f.ei_truncated, &f.ei_bad_count, &f.ei_bad_pointer, &f.ei_trailing_bytes,
                                &f.ei_too_many_fields, &f.ei_bad_sub_list, &f.ei_other_note, &f.ei_other_warn,
                                &f.ei_other_error}) {
    experts.push_back(e->hf);
  }
  for (const char* name : {"_ws.expert", "_ws.expert.message", "_ws.expert.severity", "_ws.expert.group"}) {
    const int id = proto_registrar_get_id_byname(name);
    if (id >= 0) experts.push_back(id);
  }
  f.decoded_fields.assign(reg.nodes().size(), {});
  for (const auto& m : reg.messages()) {
    std::vector<int>& list = f.decoded_fields[m.root];
    std::vector<uint32_t> todo(reg.node(m.root).children.begin(), reg.node(m.root).children.end());
    while (!todo.empty()) {
      const LayoutNode& n = reg.node(todo.back());
      todo.pop_back();
      const int hf = f.nodes[n.id].hf;
      if (hf >= 0 && std::find(list.begin(), list.end(), hf) == list.end()) list.push_back(hf);
      todo.insert(todo.end(), n.children.begin(), n.children.end());
    }
    list.insert(list.end(), experts.begin(), experts.end());
  }
}

}  // namespace sc::wsplugin
