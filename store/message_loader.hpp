#pragma once
// Reading stored messages back: a message's wire bytes out of its stream chunk,
// and its decoding under the channel's negotiated capabilities. The SQL functions
// (spice_json, spice_field, ...) and the commands that run stored messages
// through consumers again (render, images, streams) share this one way.
//
// A loader caches its statements, the channels it has seen and the last chunk of
// each direction, so a scan in stream order decompresses each chunk about once.
#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "dissect/decode/frame_decode.hpp"
#include "dissect/schema/registry.hpp"

namespace sc::store {

struct LoadedMessage {
  int64_t channel = 0;
  int dir = 0;                               // 0 client to server, 1 server to client
  uint8_t channel_type = 0;
  const schema::MessageDef* def = nullptr;   // null: a name with no layout
  std::span<const uint8_t> wire, body;       // valid until the next load
  decode::DecodedFrame frame;                // filled when decoding was asked for
  schema::SecretMask redacted = schema::kSecretNone;  // classes imported with --redact
};

class MessageLoader {
 public:
  explicit MessageLoader(sqlite3* db);
  ~MessageLoader();
  MessageLoader(MessageLoader&&) noexcept;
  MessageLoader& operator=(MessageLoader&&) noexcept;

  // Loads message `id` (and decodes it unless decode = false). False with an
  // empty error when there is no such message, its bytes are not stored (yet), or
  // (decoding) it has no layout or its channel's header kind is unknown; false
  // with an error text when the database cannot be read.
  bool load(int64_t id, LoadedMessage& out, std::string& error, bool decode = true);
  // Finalizes the cached statements (before the connection closes).
  void release();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sc::store
