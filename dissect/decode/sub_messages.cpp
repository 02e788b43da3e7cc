#include "dissect/decode/sub_messages.hpp"

#include "dissect/decode/decoder.hpp"
#include "dissect/decode/json.hpp"

namespace sc::decode {

namespace {
uint32_t le(std::span<const uint8_t> b, size_t at, int width) {
  uint32_t v = 0;
  for (int i = 0; i < width; ++i) v |= static_cast<uint32_t>(b[at + i]) << (8 * i);
  return v;
}
}  // namespace

SubMessages decode_sub_messages(uint8_t channel_type, schema::Direction dir, std::span<const uint8_t> body,
                                uint32_t sub_list, const NegotiatedCaps& caps) {
  SubMessages out;
  auto fail = [&](uint32_t at, std::string text) {
    out.diagnostics.push_back({Severity::Error, "bad_sub_list", at, "", std::move(text)});
    return out;
  };
  if (sub_list + 2ull > body.size()) return fail(sub_list, "sub-message list starts beyond the body");
  const uint32_t count = le(body, sub_list, 2);
  if (sub_list + 2ull + 4ull * count > body.size()) {
    return fail(sub_list, "sub-message list of " + std::to_string(count) + " entries does not fit the body");
  }
  const auto& reg = schema::Registry::spice();
  for (uint32_t i = 0; i < count; ++i) {
    const uint32_t at = le(body, sub_list + 2 + 4 * i, 4);
    if (at + 6ull > body.size()) return fail(at, "sub-message " + std::to_string(i) + " starts beyond the body");
    SubMessage m;
    m.type = static_cast<uint16_t>(le(body, at, 2));
    const uint32_t size = le(body, at + 2, 4);
    if (at + 6ull + size > body.size()) return fail(at, "sub-message " + std::to_string(i) + " ends beyond the body");
    m.offset = at + 6;
    m.body = body.subspan(m.offset, size);
    m.def = reg.find(channel_type, dir, m.type);
    if (m.def) decode_message(*m.def, m.body, caps, m.decoded);
    out.items.push_back(std::move(m));
  }
  return out;
}

void append_sub_messages_json(const SubMessages& subs, std::string& out, const JsonOptions& options) {
  out += '[';
  for (size_t i = 0; i < subs.items.size(); ++i) {
    const auto& m = subs.items[i];
    if (i) out += ',';
    out += "{\"type\":" + std::to_string(m.type) + ",\"name\":";
    append_json_string(out, m.def ? m.def->full_name : "unknown");
    out += ",\"fields\":";
    if (m.def) append_json(m.decoded, m.body, out, options); else out += "null";
    out += '}';
  }
  out += ']';
}

}  // namespace sc::decode
