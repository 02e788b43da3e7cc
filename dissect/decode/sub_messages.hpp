#pragma once
// The sub-message list a full-header message may carry (SpiceDataHeader.sub_list):
// at body offset sub_list, a u16 count and that many u32 offsets, each pointing at
// a SpiceSubMessage {u16 type, u32 size, data}. The main message's own fields end
// where the list begins.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "dissect/decode/decoded.hpp"
#include "dissect/decode/json.hpp"

namespace sc::decode {

struct SubMessage {
  uint16_t type = 0;
  uint32_t offset = 0;  // of its data, in the parent body
  const schema::MessageDef* def = nullptr;  // null: not defined for this channel and direction
  std::span<const uint8_t> body;
  DecodedMessage decoded;
};

struct SubMessages {
  std::vector<SubMessage> items;
  std::vector<Diagnostic> diagnostics;  // a list or entry that does not fit the body
};

SubMessages decode_sub_messages(uint8_t channel_type, schema::Direction dir, std::span<const uint8_t> body,
                                uint32_t sub_list, const NegotiatedCaps& caps);

// {"type":T,"name":"display.mark","fields":{...}} for each entry, as a JSON array.
void append_sub_messages_json(const SubMessages& subs, std::string& out, const JsonOptions& options);

}  // namespace sc::decode
