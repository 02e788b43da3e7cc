#pragma once
// Rendering decoded fields: JSON for the store and --json output, and a compact
// one-line text for terminals. Keys are the description's field names, so the
// store's json_extract paths mirror the dotted names ("$.base.surface_id").
//
// Integers are JSON numbers; text fields are strings; byte fields up to
// `bytes_inline_limit` are lowercase hex strings, longer ones {"size":N,"offset":O}
// (the bytes themselves stay in the message's raw column); arrays are lists; a
// pointer is its target object, or null when the offset is 0.
#include <span>
#include <string>

#include "dissect/decode/decoded.hpp"

namespace sc::decode {

struct JsonOptions {
  uint32_t bytes_inline_limit = 64;
  schema::SecretMask redact = schema::kSecretNone;  // secret fields of these classes become null
};

// Overwrites the bytes of every secret field of `classes` with zeros (header_size:
// where the body starts in `wire`). Returns how many fields were blanked.
size_t redact_wire(const DecodedMessage& msg, std::span<uint8_t> wire, size_t header_size,
                   schema::SecretMask classes = schema::kSecretAll);

void append_json(const DecodedMessage& msg, std::span<const uint8_t> body, std::string& out,
                 const JsonOptions& options = {});

// "session_id=1 supported_mouse_modes=server|client ..." (leaf fields only).
// Secret fields of the `redact` classes read "<redacted>".
std::string to_text(const DecodedMessage& msg, std::span<const uint8_t> body, size_t max_len = 200,
                    schema::SecretMask redact = schema::kSecretNone);

// JSON string escaping, shared by every JSON writer in the project.
// Well-formed UTF-8 (RFC 3629) throughout.
bool valid_utf8(std::string_view s);
void append_json_string(std::string& out, std::string_view s);

}  // namespace sc::decode
