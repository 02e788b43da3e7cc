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

// Adds the message that starts at tvb offset `at` under `tree`.
void add_message_tree(proto_tree* tree, tvbuff_t* tvb, packet_info* pinfo, int at, const FrameRecord& f,
                      Direction dir, const decode::NegotiatedCaps& caps);

}  // namespace sc::wsplugin
