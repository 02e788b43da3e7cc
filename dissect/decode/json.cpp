#include "dissect/decode/json.hpp"

#include <algorithm>
#include <charconv>

namespace sc::decode {

using schema::Kind;

namespace {

// Length of the well-formed UTF-8 sequence at the start of `s` (RFC 3629: no
// overlongs, no surrogates, nothing above U+10FFFF), or 0 when it is not one.
size_t utf8_sequence(std::string_view s) {
  const auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char c = b(0);
  size_t len = 0;
  unsigned char lo = 0x80, hi = 0xbf;  // allowed range of the second byte
  if (c >= 0xc2 && c <= 0xdf) len = 2;
  else if (c == 0xe0) len = 3, lo = 0xa0;
  else if (c >= 0xe1 && c <= 0xec) len = 3;
  else if (c == 0xed) len = 3, hi = 0x9f;
  else if (c >= 0xee && c <= 0xef) len = 3;
  else if (c == 0xf0) len = 4, lo = 0x90;
  else if (c >= 0xf1 && c <= 0xf3) len = 4;
  else if (c == 0xf4) len = 4, hi = 0x8f;
  else return 0;
  if (s.size() < len || b(1) < lo || b(1) > hi) return 0;
  for (size_t i = 2; i < len; ++i) {
    if (b(i) < 0x80 || b(i) > 0xbf) return 0;
  }
  return len;
}

}  // namespace

bool valid_utf8(std::string_view s) {
  while (!s.empty()) {
    if (static_cast<unsigned char>(s[0]) < 0x80) {
      s.remove_prefix(1);
      continue;
    }
    const size_t n = utf8_sequence(s);
    if (n == 0) return false;
    s.remove_prefix(n);
  }
  return true;
}

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  while (!s.empty()) {
    // Runs of plain printable ASCII are copied at once; only the rest is looked at.
    size_t plain = 0;
    while (plain < s.size() && s[plain] >= 0x20 && s[plain] < 0x7f && s[plain] != '"' && s[plain] != '\\') ++plain;
    out.append(s.data(), plain);
    s.remove_prefix(plain);
    if (s.empty()) break;
    const unsigned char c = static_cast<unsigned char>(s[0]);
    size_t used = 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else if (const size_t n = utf8_sequence(s); n != 0) {
          // Text in SPICE (names, clipboard, file names) is UTF-8: it stays text.
          out.append(s.data(), n);
          used = n;
        } else {
          // A byte that starts no valid sequence is marked, not reinterpreted:
          // U+FFFD per bad byte keeps the rest of the string readable.
          out += "\xef\xbf\xbd";
        }
    }
    s.remove_prefix(used);
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
    if (n.is_secret(o_.redact)) {
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
          if (m_.values[j].end > j + 1 && reg_.node(m_.values[j].node).type->kind == Kind::Bytes) header(j);
        }
        out_ += '}';
        return;
    }
  }

  // A payload hook's header sits beside its bytes, whose own value stays what it
  // always was: "data" is the bytes, "data.lz" the LZ header described over them.
  void header(uint32_t i) {
    const auto& n = reg_.node(m_.values[i].node);
    if (n.is_secret(o_.redact)) return;
    for (uint32_t j = i + 1; j < m_.values[i].end; j = m_.values[j].end) {
      out_ += ",\"";
      out_ += n.name;
      out_ += '.';
      out_ += reg_.node(m_.values[j].node).name;
      out_ += "\":";
      value(j);
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

size_t redact_wire(const DecodedMessage& msg, std::span<uint8_t> wire, size_t header_size,
                   schema::SecretMask classes) {
  const auto& reg = schema::Registry::spice();
  size_t blanked = 0;
  for (const auto& v : msg.values) {
    if (!reg.node(v.node).is_secret(classes)) continue;
    const size_t from = header_size + v.offset;
    if (from + v.size > wire.size()) continue;
    std::fill_n(wire.begin() + static_cast<std::ptrdiff_t>(from), v.size, uint8_t{0});
    ++blanked;
  }
  return blanked;
}

std::string to_text(const DecodedMessage& msg, std::span<const uint8_t> body, size_t max_len,
                    schema::SecretMask redact) {
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
    if (n.is_secret(redact)) {
      out += "<redacted>";
    } else if (t.kind == Kind::Int) {
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
