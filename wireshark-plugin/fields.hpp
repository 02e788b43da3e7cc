#pragma once
// Wireshark fields, subtrees and expert infos generated from the protocol
// description: one hf per dotted path of sc::schema::list_fields(), named
// "<abbrev>.<path>" ("spicecap.main.init.session_id"), plus a handful of fields
// about framing (channel, direction, message name, header, stream offset).
//
// How a path becomes a field:
//   message                   FT_NONE, the message's subtree
//   integer                   FT_UINTn / FT_INTn; enums get a value_string,
//                             flags are hex with their names appended
//   bytes / text              FT_BYTES / FT_STRINGZPAD (UTF-8)
//   struct, named switch      FT_NONE subtree
//   list of structs           FT_UINT32 element count, one "[i]" subtree per element
//   list of integers          the element type: every element is an item of the
//                             list's own field (spicecap.link.mess.mess.caps.common_caps)
//   pointer                   "a pointer is its target", as in the store's JSON: an
//                             integer/bytes/text target is shown with the pointer's
//                             field, a list target like a list, a struct target as
//                             FT_UINT32 offset with the struct's fields inside
//
// Layers inside messages (the agent protocol, registered as a layer) are paths
// like any other ("spicecap.agent.clipboard_grab.types"); the fields about their
// reassembly are spicecap.agent_* (note the underscore: no clash with a path).
#include <cstdint>
#include <string>
#include <vector>

#include <epan/expert.h>

#include "dissect/schema/registry.hpp"

namespace sc::wsplugin {

enum class CapsList : uint8_t { None, Common, Channel };

struct NodeInfo {
  int hf = -1;            // -1: no item of its own (anonymous switches, pointer targets, struct elements)
  int ett = -1;           // subtree index for nodes that group others
  bool flags = false;     // integer with flag names: append them
  CapsList caps = CapsList::None;  // a link message's capability words: append the names of the bits
};

struct Fields {
  int proto = -1;
  std::vector<NodeInfo> nodes;  // by LayoutNode id

  // Framing and connection fields (not from the description).
  int channel = -1, channel_id = -1, header = -1, midstream = -1, client_port = -1;
  int direction = -1, message = -1, message_type = -1, stream_offset = -1;
  int serial = -1, size = -1, sub_list = -1;
  int unknown_body = -1, undecodable = -1, pending = -1, continuation = -1;
  int ett_top = -1, ett_element = -1, ett_header = -1, ett_unknown = -1, ett_cross = -1;

  // Reassembled agent messages (main channel).
  int agent_message = -1, agent_direction = -1, agent_stream_offset = -1, agent_header_at = -1, agent_last_offset = -1;
  int agent_protocol = -1, agent_type = -1, agent_opaque = -1, agent_size = -1, agent_body = -1;
  int agent_carriers = -1, agent_frame = -1, agent_diagnostic = -1;
  int ett_agent = -1, ett_agent_header = -1, ett_agent_carriers = -1, ett_agent_diagnostic = -1;

  // Decoded images (display channels): spicecap.image and spicecap.image.*.
  int image = -1, image_type = -1, image_width = -1, image_height = -1, image_compressed_size = -1;
  int image_decoded_size = -1, image_cache = -1, image_status = -1, image_id = -1, image_field = -1;
  int image_lossy = -1, image_exported = -1;
  int ett_image = -1;

  // Expert infos: framing problems and decoder diagnostics by code, plus a
  // fallback per severity for codes this build does not know.
  expert_field ei_gap = EI_INIT, ei_resync = EI_INIT, ei_midstream = EI_INIT, ei_incomplete = EI_INIT,
               ei_undecodable_stream = EI_INIT, ei_bad_header = EI_INIT, ei_truncated = EI_INIT,
               ei_bad_count = EI_INIT, ei_bad_pointer = EI_INIT, ei_trailing_bytes = EI_INIT,
               ei_too_many_fields = EI_INIT, ei_unknown_type = EI_INIT, ei_bad_sub_list = EI_INIT,
               ei_seen_before = EI_INIT, ei_no_reassembly = EI_INIT, ei_other_note = EI_INIT,
               ei_other_warn = EI_INIT, ei_other_error = EI_INIT, ei_agent_note = EI_INIT,
               ei_agent_warn = EI_INIT, ei_agent_error = EI_INIT, ei_image_failed = EI_INIT,
               ei_image_memory = EI_INIT, ei_image_queue = EI_INIT;

  // By message root node: the fields its decoding can produce (and the expert
  // infos the decoder can raise). When the tree is not shown and a filter or
  // column references none of them, the body need not be decoded at all.
  std::vector<std::vector<int>> decoded_fields;
  bool needs_body(proto_tree* tree, uint32_t root) const;

  // The expert info for a diagnostic or problem code at the given severity.
  expert_field* expert_for(const std::string& code, int severity_pi);
};

// Registers the protocol's fields, subtrees and expert infos (once, from
// proto_register). `proto` is the registered protocol id, `abbrev` its filter name.
Fields& register_fields(int proto, const char* abbrev);
// Fills Fields::decoded_fields (from the handoff, once every field is registered).
void collect_decoded_fields();
Fields& fields();

}  // namespace sc::wsplugin
