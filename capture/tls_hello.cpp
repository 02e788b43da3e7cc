#include "capture/tls_hello.hpp"

#include <cstdio>
#include <optional>
#include <vector>

namespace sc::capture::tls {

namespace {

constexpr uint8_t kHandshakeRecord = 22;
constexpr uint8_t kClientHello = 1, kServerHello = 2;
constexpr uint16_t kExtServerName = 0, kExtSupportedVersions = 43;
// RFC 8446 5.1: a record's plaintext is at most 2^14 bytes; ciphertext may add 2048.
constexpr size_t kMaxRecordLength = 16384 + 2048;
constexpr size_t kMaxSniLength = 255;

// Every read is checked against the end; after one failure all reads fail, so a
// parser can read a whole structure and test ok() once.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> b) : b_(b) {}
  bool ok() const { return ok_; }
  size_t left() const { return ok_ ? b_.size() - at_ : 0; }
  uint8_t u8() { return have(1) ? b_[at_++] : 0; }
  uint16_t u16() {
    if (!have(2)) return 0;
    const uint16_t v = static_cast<uint16_t>(b_[at_] << 8 | b_[at_ + 1]);
    at_ += 2;
    return v;
  }
  std::span<const uint8_t> bytes(size_t n) {
    if (!have(n)) return {};
    auto s = b_.subspan(at_, n);
    at_ += n;
    return s;
  }
  std::span<const uint8_t> vec8() { return bytes(u8()); }
  std::span<const uint8_t> vec16() { return bytes(u16()); }
  void fail() { ok_ = false; }

 private:
  bool have(size_t n) {
    if (ok_ && b_.size() - at_ >= n) return true;
    ok_ = false;
    return false;
  }
  std::span<const uint8_t> b_;
  size_t at_ = 0;
  bool ok_ = true;
};

bool is_grease(uint16_t v) { return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff); }

// Orders versions by age: TLS 1.3 drafts (0x7fNN) come after 1.2 and before 1.3.
int version_rank(uint16_t v) {
  if ((v >> 8) == 0x03 && (v & 0xff) <= 0x04) return 2 * v;
  if ((v >> 8) == 0x7f) return 2 * 0x0304 - 1;
  return 0;
}

// At most kMaxSniLength characters out, however odd the bytes in.
std::string printable(std::span<const uint8_t> name) {
  std::string out;
  for (uint8_t c : name) {
    if (c > 0x20 && c < 0x7f && c != '\\') {
      if (out.size() + 1 > kMaxSniLength) break;
      out += static_cast<char>(c);
    } else {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      if (out.size() + 4 > kMaxSniLength) break;
      out += buf;
    }
  }
  return out;
}

// The extensions block: optional (TLS <= 1.2 hellos may end before it), but when
// present it must fill the message exactly.
template <typename Fn>
bool for_each_extension(Reader& r, Fn&& fn) {
  if (r.left() == 0) return true;
  Reader all(r.vec16());
  if (!r.ok() || r.left() != 0) return false;
  while (all.left() > 0) {
    const uint16_t type = all.u16();
    Reader body(all.vec16());
    if (!all.ok()) return false;
    if (!fn(type, body)) return false;
  }
  return all.ok();
}

std::optional<Hello> parse_client_hello(std::span<const uint8_t> msg) {
  Reader r(msg);
  Hello h;
  h.kind = HelloKind::Client;
  h.legacy_version = r.u16();
  r.bytes(32);  // random
  if (r.vec8().size() > 32) return std::nullopt;
  const auto suites = r.vec16();
  if (suites.empty() || suites.size() % 2 != 0) return std::nullopt;
  if (r.vec8().empty()) return std::nullopt;  // compression methods: at least "null"
  if (!r.ok()) return std::nullopt;
  h.version = h.legacy_version;
  const bool ok = for_each_extension(r, [&](uint16_t type, Reader& e) {
    if (type == kExtServerName && h.sni.empty()) {
      Reader list(e.vec16());
      while (e.ok() && list.left() > 0) {
        const uint8_t name_type = list.u8();
        const auto name = list.vec16();
        if (!list.ok()) return false;
        if (name_type == 0 && h.sni.empty()) h.sni = printable(name);
      }
      return e.ok() && list.ok();
    }
    if (type == kExtSupportedVersions) {
      const auto list = e.vec8();
      if (!e.ok() || list.size() % 2 != 0) return false;
      int best = 0;
      for (size_t i = 0; i + 1 < list.size(); i += 2) {
        const uint16_t v = static_cast<uint16_t>(list[i] << 8 | list[i + 1]);
        if (is_grease(v) || version_rank(v) <= best) continue;
        best = version_rank(v);
        h.version = v;
        h.has_supported_versions = true;
      }
    }
    return true;
  });
  if (!ok) return std::nullopt;
  return h;
}

std::optional<Hello> parse_server_hello(std::span<const uint8_t> msg) {
  Reader r(msg);
  Hello h;
  h.kind = HelloKind::Server;
  h.legacy_version = r.u16();
  r.bytes(32);
  if (r.vec8().size() > 32) return std::nullopt;
  r.u16();  // cipher suite
  r.u8();   // compression method
  if (!r.ok()) return std::nullopt;
  h.version = h.legacy_version;
  const bool ok = for_each_extension(r, [&](uint16_t type, Reader& e) {
    if (type == kExtSupportedVersions) {
      const uint16_t v = e.u16();
      if (!e.ok()) return false;
      h.version = v;
      h.has_supported_versions = true;
    }
    return true;
  });
  if (!ok) return std::nullopt;
  return h;
}

}  // namespace

bool looks_like_tls_record(std::span<const uint8_t> b, bool handshake_only) {
  if (b.size() < 5) return false;
  if (handshake_only ? b[0] != kHandshakeRecord : (b[0] < 20 || b[0] > 23)) return false;
  if (b[1] != 3 || b[2] > 4) return false;
  const size_t len = static_cast<size_t>(b[3] << 8 | b[4]);
  return len > 0 && len <= kMaxRecordLength;
}

HelloParse parse_hello(std::span<const uint8_t> stream) {
  HelloParse out;
  auto invalid = [&] {
    out.status = HelloStatus::Invalid;
    return out;
  };
  auto need_more = [&] {
    // More bytes than any hello needs and still not complete: not one we can read.
    out.status = stream.size() >= kMaxHelloBytes ? HelloStatus::Invalid : HelloStatus::NeedMore;
    return out;
  };
  // The handshake message may be split over records: gather record bodies until
  // its 4-byte header and the length it announces are there.
  std::vector<uint8_t> msg;
  size_t at = 0;
  while (true) {
    const auto rest = stream.subspan(at);
    if (rest.size() < 5) {
      // A partial header must still look right so far.
      if (!rest.empty() && rest[0] != kHandshakeRecord) return invalid();
      if (rest.size() >= 2 && rest[1] != 3) return invalid();
      return need_more();
    }
    if (!looks_like_tls_record(rest, true)) return invalid();
    const size_t len = static_cast<size_t>(rest[3] << 8 | rest[4]);
    if (rest.size() < 5 + len) {
      // The part of the record already there can still show a wrong message type.
      if (msg.empty() && rest.size() > 5 && rest[5] != kClientHello && rest[5] != kServerHello) return invalid();
      return need_more();
    }
    msg.insert(msg.end(), rest.begin() + 5, rest.begin() + 5 + static_cast<ptrdiff_t>(len));
    at += 5 + len;
    if (msg[0] != kClientHello && msg[0] != kServerHello) return invalid();
    if (msg.size() < 4) continue;
    const size_t body = static_cast<size_t>(msg[1]) << 16 | static_cast<size_t>(msg[2]) << 8 | msg[3];
    if (body + 4 > kMaxHelloBytes) return invalid();
    if (msg.size() < 4 + body) continue;
    const auto span = std::span<const uint8_t>(msg).subspan(4, body);
    auto hello = msg[0] == kClientHello ? parse_client_hello(span) : parse_server_hello(span);
    if (!hello) return invalid();
    out.status = HelloStatus::Done;
    out.hello = std::move(*hello);
    return out;
  }
}

std::string version_name(uint16_t v) {
  switch (v) {
    case 0: return "";
    case 0x0300: return "SSL 3.0";
    case 0x0301: return "TLS 1.0";
    case 0x0302: return "TLS 1.1";
    case 0x0303: return "TLS 1.2";
    case 0x0304: return "TLS 1.3";
    default: break;
  }
  if ((v >> 8) == 0x7f) return "TLS 1.3 (draft " + std::to_string(v & 0xff) + ")";
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%04x", v);
  return buf;
}

}  // namespace sc::capture::tls
