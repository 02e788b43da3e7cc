#include "store/sql_functions.hpp"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "dissect/decode/frame_decode.hpp"
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
class Context {
 public:
  explicit Context(sqlite3* db) : db_(db) {}

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

 public:
  // Scratch for the functions (never nested), so a scan does not allocate per row.
  decode::DecodedFrame decoded;

 private:
  Cached cached_[2];
  std::map<int64_t, ChannelInfo> channels_;
  ChannelInfo scratch_channel_;
};

Context& context_of(sqlite3_context* ctx) { return *static_cast<Context*>(sqlite3_user_data(ctx)); }

// One decoded message, as the functions below need it.
struct Loaded {
  std::span<const uint8_t> wire, body;
  decode::DecodedFrame& frame;  // the context's, reused row after row
  schema::SecretMask redacted = schema::kSecretNone;
};

// Loads and decodes message argv[0]; on false the SQL result is already set (NULL or an error).
bool load_decoded(sqlite3_context* ctx, sqlite3_value* id_value, Loaded& out, bool decode = true) {
  if (sqlite3_value_type(id_value) == SQLITE_NULL) {
    sqlite3_result_null(ctx);
    return false;
  }
  Context& c = context_of(ctx);
  Message m;
  std::string error;
  if (!c.load(sqlite3_value_int64(id_value), m, out.wire, error)) {
    if (error.empty()) sqlite3_result_null(ctx); else sqlite3_result_error(ctx, error.c_str(), -1);
    return false;
  }
  if (!decode) return true;
  if (!m.def) {
    sqlite3_result_null(ctx);
    return false;
  }
  const ChannelInfo* ch = c.channel(m.channel, error);
  if (!ch) {
    if (error.empty()) sqlite3_result_null(ctx); else sqlite3_result_error(ctx, error.c_str(), -1);
    return false;
  }
  const size_t header = m.def->is_link() ? 0 : ch->header;
  if ((!m.def->is_link() && header == 0) || out.wire.size() < header) {
    sqlite3_result_null(ctx);
    return false;
  }
  uint32_t sub_list = 0;
  if (header == framing::kFullHeaderSize) {
    for (int i = 0; i < 4; ++i) sub_list |= uint32_t{out.wire[14 + i]} << (8 * i);
  }
  out.body = out.wire.subspan(header);
  const decode::FrameRef ref{.def = m.def,
                             .channel_type = ch->type,
                             .dir = static_cast<schema::Direction>(m.dir & 1),
                             .body = out.body,
                             .sub_list = sub_list};
  decode::decode_frame(ref, ch->caps, out.frame);
  out.redacted = ch->redacted;
  return true;
}

void fn_json(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  Loaded l{.frame = context_of(ctx).decoded};
  if (!load_decoded(ctx, argv[0], l)) return;
  decode::JsonOptions options{.bytes_inline_limit = 16, .redact = l.redacted};
  if (argc > 1) options.bytes_inline_limit = static_cast<uint32_t>(std::max<int64_t>(0, sqlite3_value_int64(argv[1])));
  std::string json;
  decode::append_frame_json(l.frame, json, options);
  sqlite3_result_text(ctx, json.data(), static_cast<int>(json.size()), SQLITE_TRANSIENT);
  sqlite3_result_subtype(ctx, 'J');  // lets json_extract() take it as JSON, not as a string
}

void fn_text(sqlite3_context* ctx, int, sqlite3_value** argv) {
  Loaded l{.frame = context_of(ctx).decoded};
  if (!load_decoded(ctx, argv[0], l)) return;
  const std::string text = decode::to_text(l.frame.own, l.frame.own_body, 1000);
  sqlite3_result_text(ctx, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

void fn_raw(sqlite3_context* ctx, int, sqlite3_value** argv) {
  Loaded l{.frame = context_of(ctx).decoded};
  if (!load_decoded(ctx, argv[0], l, false)) return;
  sqlite3_result_blob(ctx, l.wire.data(), static_cast<int>(l.wire.size()), SQLITE_TRANSIENT);
}

void result_value(sqlite3_context* ctx, const decode::FieldValue& v, std::span<const uint8_t> body,
                  schema::SecretMask redacted) {
  const auto& n = schema::Registry::spice().node(v.node);
  if (n.is_secret(redacted)) {
    sqlite3_result_null(ctx);
    return;
  }
  const auto& t = *n.type;
  switch (t.kind) {
    case schema::Kind::Int: sqlite3_result_int64(ctx, static_cast<int64_t>(v.number)); return;
    case schema::Kind::Bytes: {
      const auto bytes = body.subspan(v.offset, v.size);
      if (t.text) {
        size_t len = bytes.size();
        while (len && bytes[len - 1] == 0) --len;  // C strings carry their NUL
        sqlite3_result_text(ctx, reinterpret_cast<const char*>(bytes.data()), static_cast<int>(len), SQLITE_TRANSIENT);
      } else {
        sqlite3_result_blob(ctx, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
      }
      return;
    }
    case schema::Kind::Array:
    case schema::Kind::Pointer: sqlite3_result_int64(ctx, static_cast<int64_t>(v.number)); return;
    case schema::Kind::Struct:
    case schema::Kind::Switch: sqlite3_result_null(ctx); return;
  }
}

void fn_field(sqlite3_context* ctx, int, sqlite3_value** argv) {
  Loaded l{.frame = context_of(ctx).decoded};
  if (!load_decoded(ctx, argv[0], l)) return;
  const auto* p = reinterpret_cast<const char*>(sqlite3_value_text(argv[1]));
  if (!p) {
    sqlite3_result_null(ctx);
    return;
  }
  const std::string_view path = p;
  const auto search = [&](const decode::DecodedMessage& m, std::span<const uint8_t> body) {
    if (!m.def) return false;
    const std::string& prefix = m.def->full_name;
    const bool absolute = path.size() > prefix.size() && path.substr(0, prefix.size()) == prefix &&
                          path[prefix.size()] == '.';
    const auto* v = m.find(absolute ? std::string(path) : prefix + "." + std::string(path));
    if (v) result_value(ctx, *v, body, l.redacted);
    return v != nullptr;
  };
  if (search(l.frame.own, l.frame.own_body)) return;
  for (const auto& s : l.frame.subs.items) {
    if (search(s.decoded, s.body)) return;
  }
  sqlite3_result_null(ctx);
}

void destroy_context(void* p) { std::unique_ptr<Context> owned(static_cast<Context*>(p)); }

// SQLite calls this as a connection closes and before it checks for statements
// left open, so the cached ones are gone by then, whoever closes it (the sqlite3
// shell closes with sqlite3_close, which refuses while statements remain).
int on_trace(unsigned type, void* context, void*, void*) {
  if (type == SQLITE_TRACE_CLOSE) static_cast<Context*>(context)->release();
  return 0;
}

}  // namespace

int register_sql_functions(sqlite3* db) {
  auto owned = std::make_unique<Context>(db);
  Context* c = owned.get();
  const int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC;
  // The context is shared by every function; spice_json's registration owns it (its destructor frees it).
  int rc = sqlite3_create_function_v2(db, "spice_json", 1, flags, c, fn_json, nullptr, nullptr, destroy_context);
  if (rc != SQLITE_OK) return rc;
  owned.release();
  struct Fn {
    const char* name;
    int args;
    void (*fn)(sqlite3_context*, int, sqlite3_value**);
  };
  static constexpr Fn kFunctions[] = {
      {"spice_json", 2, fn_json}, {"spice_field", 2, fn_field}, {"spice_raw", 1, fn_raw}, {"spice_text", 1, fn_text}};
  for (const auto& f : kFunctions) {
    rc = sqlite3_create_function_v2(db, f.name, f.args, flags, c, f.fn, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return rc;
  }
  return sqlite3_trace_v2(db, SQLITE_TRACE_CLOSE, on_trace, c);
}

}  // namespace sc::store
