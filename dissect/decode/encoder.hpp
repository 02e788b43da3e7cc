#pragma once
// Encoding one message body from named fields: the inverse of decode_message,
// driven by the same description. Replay and tests build messages with it.
//
// Input is the JSON shape append_json produces (with bytes inlined as hex). Count
// fields that are left out are filled in from the arrays they count; enum fields
// may be given by name ("client"). Pointer targets are laid out after the fixed
// part, in field order, as SPICE servers do.
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <vector>

#include "dissect/decode/decoded.hpp"
#include "util/result.hpp"

namespace sc::decode {

Result<std::vector<uint8_t>> encode_message(const schema::MessageDef& def, const nlohmann::json& fields,
                                            const NegotiatedCaps& caps = {});

}  // namespace sc::decode
