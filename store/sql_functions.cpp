#include "store/sql_functions.hpp"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "dissect/decode/frame_decode.hpp"
#include "dissect/framing/frame.hpp"
#include "store/message_loader.hpp"

namespace sc::store {

namespace {

// Per connection: the message loader (statements, channels, the last chunk) and
// scratch for the functions (never nested), so a scan does not allocate per row.
struct Context {
  explicit Context(sqlite3* db) : loader(db) {}
  void release() { loader.release(); }
  MessageLoader loader;
  LoadedMessage scratch;
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
  std::string error;
  if (!c.loader.load(sqlite3_value_int64(id_value), c.scratch, error, decode)) {
    if (error.empty()) sqlite3_result_null(ctx); else sqlite3_result_error(ctx, error.c_str(), -1);
    return false;
  }
  out.wire = c.scratch.wire;
  out.body = c.scratch.body;
  out.redacted = c.scratch.redacted;
  return true;
}

void fn_json(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  Loaded l{.frame = context_of(ctx).scratch.frame};
  if (!load_decoded(ctx, argv[0], l)) return;
  decode::JsonOptions options{.bytes_inline_limit = 16, .redact = l.redacted};
  if (argc > 1) options.bytes_inline_limit = static_cast<uint32_t>(std::max<int64_t>(0, sqlite3_value_int64(argv[1])));
  std::string json;
  decode::append_frame_json(l.frame, json, options);
  sqlite3_result_text(ctx, json.data(), static_cast<int>(json.size()), SQLITE_TRANSIENT);
  sqlite3_result_subtype(ctx, 'J');  // lets json_extract() take it as JSON, not as a string
}

void fn_text(sqlite3_context* ctx, int, sqlite3_value** argv) {
  Loaded l{.frame = context_of(ctx).scratch.frame};
  if (!load_decoded(ctx, argv[0], l)) return;
  const std::string text = decode::to_text(l.frame.own, l.frame.own_body, 1000);
  sqlite3_result_text(ctx, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

void fn_raw(sqlite3_context* ctx, int, sqlite3_value** argv) {
  Loaded l{.frame = context_of(ctx).scratch.frame};
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
  Loaded l{.frame = context_of(ctx).scratch.frame};
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
