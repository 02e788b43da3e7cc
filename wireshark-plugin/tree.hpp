#pragma once
// Renders one framed message into a Wireshark tree: the message subtree, its
// header, every decoded field (sc::decode::decode_message, the decoder the CLI
// and the store use) and the decoder's diagnostics as expert infos.
#include <wireshark.h>

#include <epan/packet.h>

#include "wireshark-plugin/connection.hpp"

namespace sc::wsplugin {

// The store's name for a frame: "main.init", "link.mess", "display.unknown", "display.undecodable".
const char* frame_name(const FrameRecord& f, wmem_allocator_t* scope);

// Adds the message that starts at tvb offset `at` under `tree`; returns the
// message's subtree.
proto_tree* add_message_tree(proto_tree* tree, tvbuff_t* tvb, packet_info* pinfo, int at, const FrameRecord& f,
                             Direction dir, const decode::NegotiatedCaps& caps);

// One image of a display message (frame `f` at tvb offset `at`) as a generated
// "Decoded image" subtree under the message's: type, size, cache, status, and the
// Export Objects file name when its PNG was kept (`exported`, else null).
void add_image(proto_tree* message_tree, tvbuff_t* tvb, packet_info* pinfo, int at, const FrameRecord& f,
               const ImageRecord& image, const char* exported);

// One thing the agent conversation reported under `tree`: a reassembled agent
// message ("Agent message: agent.clipboard_grab ...", its bytes as the data source
// "Reassembled agent message", header, decoded fields, the frames that carried
// it) or a diagnostic (an expert info). [at, at + len) are the bytes of the
// packet's tvb it is tied to (the main-channel message that completed it).
void add_agent_item(proto_tree* tree, tvbuff_t* tvb, packet_info* pinfo, int at, int len, const Connection& conn,
                    const AgentItem& item);

}  // namespace sc::wsplugin
