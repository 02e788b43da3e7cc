#pragma once
// The first TLS handshake message of one direction of a TCP stream: the
// ClientHello (server name, versions offered) or the ServerHello (version chosen).
//
// A passive capture cannot decrypt a SPICE TLS channel, but its hellos are in the
// clear and say what was negotiated and which name the client asked for. The
// parser reads a stream prefix only, never allocates more than kMaxHelloBytes,
// and treats anything that is not well-formed as "no hello" rather than guessing.
#include <cstdint>
#include <span>
#include <string>

namespace sc::capture::tls {

// Stream bytes looked at per direction; a hello that is not complete by then is
// given up (real hellos are a few hundred bytes, post-quantum key shares ~2 KiB).
inline constexpr size_t kMaxHelloBytes = 64u << 10;

enum class HelloKind : uint8_t { Client = 1, Server = 2 };

struct Hello {
  HelloKind kind = HelloKind::Client;
  uint16_t legacy_version = 0;  // the hello's own version field (0x0303 for TLS 1.3 too)
  // Client: the highest version offered (from supported_versions when present,
  // GREASE values ignored). Server: the version selected.
  uint16_t version = 0;
  bool has_supported_versions = false;
  std::string sni;  // client: the host_name asked for; bytes outside printable ASCII as \xNN; <= 255 chars
};

enum class HelloStatus : uint8_t {
  NeedMore,  // a plausible start: more bytes could complete it
  Done,      // `hello` is filled
  Invalid,   // not a TLS handshake, or a malformed / oversized one
};

struct HelloParse {
  HelloStatus status = HelloStatus::NeedMore;
  Hello hello;
};

// Parses the handshake records at the start of `stream` (the handshake message
// may span several records).
HelloParse parse_hello(std::span<const uint8_t> stream);

// Whether `first` starts with a TLS record header (content type 20..23, version
// 3.0 to 1.3, a length TLS allows). `handshake_only` accepts type 22 alone.
bool looks_like_tls_record(std::span<const uint8_t> first, bool handshake_only = false);

// "TLS 1.2", "TLS 1.3", "SSL 3.0", "TLS 1.3 (draft 28)", else "0x%04x"; "" for 0.
std::string version_name(uint16_t version);

}  // namespace sc::capture::tls
