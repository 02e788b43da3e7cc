#include "dissect/decode/json.hpp"

#include <algorithm>
#include <charconv>

namespace sc::decode {

using schema::Kind;

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  // Runs of plain printable ASCII are copied at once; only the rest is escaped.
  size_t plain = 0;
  while (plain < s.size() && s[plain] >= 0x20 && s[plain] < 0x7f && s[plain] != '"' && s[plain] != '\\') ++plain;
  out.append(s.data(), plain);
  s.remove_prefix(plain);
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c >= 0x7f) {
          // Non-ASCII is escaped byte-wise so that arbitrary guest bytes stay valid JSON.
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

namespace {

void append_hex(std::string& out, std::span<const uint8_t> bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  const size_t at = out.size();
  out.resize(at + 2 * bytes.size());
  char* p = out.data() + at;
  for (uint8_t b : bytes) {
    *p++ = kHex[b >> 4];
    *p++ = kHex[b & 15];
  }
}

void append_number(std::string& out, uint64_t v, bool is_signed) {
  char buf[24];
  auto r = is_signed ? std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(v)) : std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

std::string_view text_of(std::span<const uint8_t> body, const FieldValue& v) {
  std::string_view s(reinterpret_cast<const char*>(body.data()) + v.offset, v.size);
  while (!s.empty() && s.back() == '\0') s.remove_suffix(1);  // C strings carry their NUL
  return s;
}

class JsonWriter {
 public:
  JsonWriter(const DecodedMessage& m, std::span<const uint8_t> body, std::string& out, const JsonOptions& o)
      : reg_(schema::Registry::spice()), m_(m), body_(body), out_(out), o_(o) {}

  void value(uint32_t i) {
    const FieldValue& v = m_.values[i];
    const auto& n = reg_.node(v.node);
    const auto& t = *n.type;
    if (o_.redact && n.is_secret()) {
      out_ += "null";
      return;
    }
    switch (t.kind) {
      case Kind::Int: append_number(out_, v.number, schema::int_signed(t.rep)); return;
      case Kind::Bytes:
        if (t.text) {
          append_json_string(out_, text_of(body_, v));
        } else if (v.size <= o_.bytes_inline_limit) {
          out_ += '"';
          append_hex(out_, body_.subspan(v.offset, v.size));
          out_ += '"';
        } else {
          out_ += "{\"size\":";
          append_number(out_, v.size, false);
          out_ += ",\"offset\":";
          append_number(out_, v.offset, false);
          out_ += '}';
        }
        return;
      case Kind::Array:
        out_ += '[';
        for (uint32_t j = i + 1; j < v.end; j = m_.values[j].end) {
          if (j != i + 1) out_ += ',';
          value(j);
        }
        out_ += ']';
        return;
      case Kind::Pointer:
        if (i + 1 < v.end) value(i + 1); else out_ += "null";
        return;
      case Kind::Struct:
      case Kind::Switch:
        out_ += '{';
        for (uint32_t j = i + 1; j < v.end; j = m_.values[j].end) {
          if (j != i + 1) out_ += ',';
          out_ += reg_.node(m_.values[j].node).json_key;
          value(j);
        }
        out_ += '}';
        return;
    }
  }

 private:
  const schema::Registry& reg_;
  const DecodedMessage& m_;
  std::span<const uint8_t> body_;
  std::string& out_;
  const JsonOptions& o_;
};

}  // namespace

void append_json(const DecodedMessage& msg, std::span<const uint8_t> body, std::string& out,
                 const JsonOptions& options) {
  if (msg.values.empty()) {
    out += "{}";
    return;
  }
  JsonWriter(msg, body, out, options).value(0);
}

size_t redact_wire(const DecodedMessage& msg, std::span<uint8_t> wire, size_t header_size) {
  const auto& reg = schema::Registry::spice();
  size_t blanked = 0;
  for (const auto& v : msg.values) {
    if (!reg.node(v.node).is_secret()) continue;
    const size_t from = header_size + v.offset;
    if (from + v.size > wire.size()) continue;
    std::fill_n(wire.begin() + static_cast<std::ptrdiff_t>(from), v.size, uint8_t{0});
    ++blanked;
  }
  return blanked;
}

std::string to_text(const DecodedMessage& msg, std::span<const uint8_t> body, size_t max_len) {
  const auto& reg = schema::Registry::spice();
  std::string out;
  const std::string prefix = msg.def ? msg.def->full_name + "." : "";
  for (const auto& v : msg.values) {
    const auto& n = reg.node(v.node);
    const auto& t = *n.type;
    if (t.kind != Kind::Int && t.kind != Kind::Bytes) continue;
    if (out.size() >= max_len) {
      out += " …";
      break;
    }
    if (!out.empty()) out += ' ';
    std::string_view path = n.path;
    if (path.starts_with(prefix)) path.remove_prefix(prefix.size());
    out += path;
    out += '=';
    if (t.kind == Kind::Int) {
      if (t.names) {
        out += t.names->describe(v.number);
      } else {
        append_number(out, v.number, schema::int_signed(t.rep));
      }
    } else if (t.text) {
      append_json_string(out, text_of(body, v));
    } else if (v.size <= 16) {
      append_hex(out, body.subspan(v.offset, v.size));
    } else {
      out += '<';
      append_number(out, v.size, false);
      out += " bytes>";
    }
  }
  return out;
}

}  // namespace sc::decode
