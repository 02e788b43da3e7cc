#pragma once
// Decoding one message body: a pure function of the bytes, the message definition
// and the negotiated capabilities. Used by the import pipeline and the Wireshark
// plugin alike.
//
// Never throws on bad input: truncation, impossible counts and wild pointers end
// the walk with a Diagnostic (the values decoded so far are kept).
#include <span>

#include "dissect/decode/decoded.hpp"

namespace sc::decode {

struct DecodeLimits {
  uint32_t max_values = 1u << 20;  // per message
};

void decode_message(const schema::MessageDef& def, std::span<const uint8_t> body, const NegotiatedCaps& caps,
                    DecodedMessage& out, const DecodeLimits& limits = {});

}  // namespace sc::decode
