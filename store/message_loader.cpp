#include "store/message_loader.hpp"

#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

#include "dissect/framing/frame.hpp"
#include "store/chunk_codec.hpp"

namespace sc::store {

namespace {

struct StmtDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

struct ChannelInfo {
  uint8_t type = 0;
  size_t header = 0;  // 0: unknown header kind
  decode::NegotiatedCaps caps;
  schema::SecretMask redacted = schema::kSecretNone;  // classes imported with --redact: read as NULL, not as zeros
};

struct Message {
  int64_t channel = 0;
  int dir = 0;
  int64_t stream_offset = 0;
  int64_t wire_size = 0;
  const schema::MessageDef* def = nullptr;
};

decode::CapSet caps_from_blob(const void* data, int size) {
  decode::CapSet out;
  const auto* p = static_cast<const uint8_t*>(data);
  for (int i = 0; i + 4 <= size; i += 4) {
    out.words.push_back(uint32_t{p[i]} | uint32_t{p[i + 1]} << 8 | uint32_t{p[i + 2]} << 16 | uint32_t{p[i + 3]} << 24);
  }
  return out;
}

const schema::MessageDef* def_by_name(std::string_view name) {
  static const auto by_name = [] {
    std::unordered_map<std::string_view, const schema::MessageDef*> m;
    for (const auto& d : schema::Registry::spice().messages()) m.emplace(d.full_name, &d);
    return m;
  }();
  auto it = by_name.find(name);
  return it == by_name.end() ? nullptr : it->second;
}

// Per connection: cached statements, the channels seen, the last chunk read.
// Sequential scans touch one chunk many times in a row, so one cached chunk per
// stream direction makes a full-table scan decompress each chunk about once.
}  // namespace

class MessageLoader::Impl {
 public:
  explicit Impl(sqlite3* db) : db_(db) {}

  void release() {
    message_.reset();
    chunk_.reset();
    channel_.reset();
  }

  // The message's wire bytes and what decoding it needs; an error text, or "" for "no such message".
  bool load(int64_t id, Message& m, std::span<const uint8_t>& wire, std::string& error) {
    if (!prepare(message_,
                 "SELECT m.channel, m.dir, m.stream_offset, m.wire_size, n.name FROM message_rows m "
                 "JOIN names n ON n.id = m.name_id WHERE m.id = ?1",
                 error)) {
      return false;
    }
    sqlite3_stmt* s = message_.get();
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, id);
    // Reset on every way out: a statement left stepping holds a read transaction
    // open, which would keep a writer's checkpoint from finishing.
    if (sqlite3_step(s) != SQLITE_ROW) {
      sqlite3_reset(s);
      return false;
    }
    m.channel = sqlite3_column_int64(s, 0);
    m.dir = sqlite3_column_int(s, 1);
    m.stream_offset = sqlite3_column_int64(s, 2);
    m.wire_size = sqlite3_column_int64(s, 3);
    m.def = def_by_name(reinterpret_cast<const char*>(sqlite3_column_text(s, 4)));
    sqlite3_reset(s);
    return bytes(m, wire, error);
  }

  // Captures imported before redaction had classes say only "redact": true, meaning all of them.
  static_assert(schema::kSecretAll == 63);
  const ChannelInfo* channel(int64_t id, std::string& error) {
    if (auto it = channels_.find(id); it != channels_.end()) return &it->second;
    if (!prepare(channel_, "SELECT c.type, c.header, c.negotiated_common, c.negotiated_channel, "
                 "coalesce(json_extract(cap.options, '$.redact_classes'), "
                 "iif(json_extract(cap.options, '$.redact'), 63, 0)) FROM channels c "
                 "JOIN captures cap ON cap.id = c.capture_id WHERE c.id = ?1",
                 error)) {
      return nullptr;
    }
    sqlite3_stmt* s = channel_.get();
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, id);
    if (sqlite3_step(s) != SQLITE_ROW) {
      sqlite3_reset(s);
      return nullptr;
    }
    ChannelInfo c;
    c.type = static_cast<uint8_t>(sqlite3_column_int(s, 0));
    const auto* header = reinterpret_cast<const char*>(sqlite3_column_text(s, 1));
    const std::string_view h = header ? header : "";
    c.header = h == "mini" ? framing::kMiniHeaderSize : h == "full" ? framing::kFullHeaderSize : 0;
    c.caps.common = caps_from_blob(sqlite3_column_blob(s, 2), sqlite3_column_bytes(s, 2));
    c.caps.channel = caps_from_blob(sqlite3_column_blob(s, 3), sqlite3_column_bytes(s, 3));
    c.redacted = static_cast<schema::SecretMask>(sqlite3_column_int(s, 4));
    const bool known = sqlite3_column_type(s, 0) != SQLITE_NULL && c.header != 0;
    sqlite3_reset(s);
    // A channel still being imported may not be known yet: cache only what is final.
    if (!known) {
      scratch_channel_ = c;
      return &scratch_channel_;
    }
    return &channels_.emplace(id, std::move(c)).first->second;
  }

 private:
  bool prepare(Stmt& stmt, const char* sql, std::string& error) {
    if (stmt) return true;
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr) != SQLITE_OK) {
      error = std::string("not a spice-capture database: ") + sqlite3_errmsg(db_);
      return false;
    }
    stmt.reset(raw);
    return true;
  }

  bool bytes(const Message& m, std::span<const uint8_t>& wire, std::string& error) {
    Cached& c = cached_[m.dir & 1];
    const auto inside = [&] {
      return c.channel == m.channel && m.stream_offset >= c.start &&
             m.stream_offset + m.wire_size <= c.start + static_cast<int64_t>(c.bytes.size());
    };
    if (!inside()) {
      if (!prepare(chunk_,
                   "SELECT start, size, codec, data FROM chunks WHERE channel = ?1 AND dir = ?2 AND start <= ?3 "
                   "ORDER BY start DESC LIMIT 1",
                   error)) {
        return false;
      }
      sqlite3_stmt* s = chunk_.get();
      sqlite3_reset(s);
      sqlite3_bind_int64(s, 1, m.channel);
      sqlite3_bind_int(s, 2, m.dir);
      sqlite3_bind_int64(s, 3, m.stream_offset);
      if (sqlite3_step(s) != SQLITE_ROW) {
        sqlite3_reset(s);
        return false;  // not written yet (an import still running) or not kept
      }
      const auto* codec = reinterpret_cast<const char*>(sqlite3_column_text(s, 2));
      const auto* data = static_cast<const uint8_t*>(sqlite3_column_blob(s, 3));
      const std::span<const uint8_t> packed{data, static_cast<size_t>(sqlite3_column_bytes(s, 3))};
      c.channel = m.channel;
      c.start = sqlite3_column_int64(s, 0);
      auto r = unpack_chunk(codec ? codec : "", packed, static_cast<size_t>(sqlite3_column_int64(s, 1)), c.bytes);
      sqlite3_reset(s);
      if (!r) {
        c.channel = -1;
        error = "message bytes unreadable: " + r.error().message;
        return false;
      }
      if (!inside()) return false;
    }
    wire = std::span<const uint8_t>(c.bytes).subspan(static_cast<size_t>(m.stream_offset - c.start),
                                                     static_cast<size_t>(m.wire_size));
    return true;
  }

  struct Cached {
    int64_t channel = -1;
    int64_t start = 0;
    std::vector<uint8_t> bytes;
  };

  sqlite3* db_;
  Stmt message_, chunk_, channel_;

  Cached cached_[2];
  std::map<int64_t, ChannelInfo> channels_;
  ChannelInfo scratch_channel_;
};


MessageLoader::MessageLoader(sqlite3* db) : impl_(std::make_unique<Impl>(db)) {}
MessageLoader::~MessageLoader() = default;
MessageLoader::MessageLoader(MessageLoader&&) noexcept = default;
MessageLoader& MessageLoader::operator=(MessageLoader&&) noexcept = default;
void MessageLoader::release() { impl_->release(); }

bool MessageLoader::load(int64_t id, LoadedMessage& out, std::string& error, bool decode) {
  Message m;
  error.clear();
  out.def = nullptr;
  if (!impl_->load(id, m, out.wire, error)) return false;
  out.channel = m.channel;
  out.dir = m.dir;
  out.def = m.def;
  out.body = out.wire;
  if (!decode) return true;
  if (!m.def) return false;
  const ChannelInfo* ch = impl_->channel(m.channel, error);
  if (!ch) return false;
  const size_t header = m.def->is_link() ? 0 : ch->header;
  if ((!m.def->is_link() && header == 0) || out.wire.size() < header) return false;
  uint32_t sub_list = 0;
  if (header == framing::kFullHeaderSize) {
    for (int i = 0; i < 4; ++i) sub_list |= uint32_t{out.wire[14 + i]} << (8 * i);
  }
  out.body = out.wire.subspan(header);
  out.channel_type = ch->type;
  out.redacted = ch->redacted;
  const decode::FrameRef ref{.def = m.def,
                             .channel_type = ch->type,
                             .dir = static_cast<schema::Direction>(m.dir & 1),
                             .body = out.body,
                             .sub_list = sub_list};
  decode::decode_frame(ref, ch->caps, out.frame);
  return true;
}

}  // namespace sc::store
