#include "store/import_writer.hpp"

#include <spice/enums.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "dissect/decode/decoder.hpp"
#include "dissect/decode/json.hpp"
#include "dissect/decode/sub_messages.hpp"
#include "store/schema.hpp"

namespace sc::store {

using schema::Direction;

namespace {

std::string caps_json(const decode::CapSet& caps, std::span<const schema::CapName> names) {
  std::string out = "[";
  for (size_t w = 0; w < caps.words.size(); ++w) {
    for (uint32_t bit = 0; bit < 32; ++bit) {
      if (!((caps.words[w] >> bit) & 1u)) continue;
      const uint32_t index = static_cast<uint32_t>(w * 32 + bit);
      std::string name = "bit" + std::to_string(index);
      for (const auto& n : names) {
        if (n.index == index) name = n.name;
      }
      if (out.size() > 1) out += ',';
      decode::append_json_string(out, name);
    }
  }
  return out + "]";
}

size_t dir_index(Direction d) { return static_cast<size_t>(d); }

std::string link_error_name(uint32_t err) {
  static const auto* names = [] {
    const auto& r = schema::Registry::spice();
    const auto* m = r.link(schema::LinkStep::Result);
    return r.node(r.node(m->root).children[0]).type->names;
  }();
  return names->describe(err);
}

}  // namespace

// ---- the operations that cross from the decoding thread to the SQLite thread ----

struct ProblemRow {
  std::optional<uint32_t> offset;  // within the message (header included)
  decode::Severity severity;
  std::string code, path, text;
};

struct ImportWriter::Op {
  enum class Kind : uint8_t { Open, Frame, Problem, Known, Close } kind;
  capture::ConnectionInfo conn;
  framing::ChannelState state;  // Known, Close
  // Frame
  Direction dir = Direction::C2S;
  uint64_t ts_ns = 0, stream_offset = 0;
  std::optional<uint64_t> serial;
  std::optional<uint16_t> type;
  std::string name;
  uint32_t body_size = 0;
  std::vector<uint8_t> wire;
  std::optional<std::string> json;
  std::vector<ProblemRow> problems;    // Frame: its diagnostics; Problem: exactly one
  std::optional<uint32_t> session_id;  // main.init announced the session
};

// ---- the SQLite side ----

struct ImportWriter::Rows {
  Rows(Database& db, int64_t capture_id)
      : db_(db), capture_id_(capture_id),
        insert_channel_(db.handle(),
                        "INSERT INTO channels (capture_id, client, server, tls, midstream, first_ts_ns) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
        update_channel_(db.handle(),
                        "UPDATE channels SET connection_id=?2, type=?3, type_name=?4, channel_id=?5, header=?6, "
                        "auth=?7, link_error=?8, client_common_caps=?9, client_channel_caps=?10, "
                        "server_common_caps=?11, server_channel_caps=?12, c2s_bytes=?13, s2c_bytes=?14, "
                        "c2s_messages=?15, s2c_messages=?16, first_ts_ns=?17, last_ts_ns=?18 WHERE id=?1"),
        insert_message_(db.handle(),
                        "INSERT INTO messages (channel, ts_ns, direction, stream_offset, serial, type, name, size, "
                        "wire_size, raw, fields) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)"),
        insert_problem_(db.handle(),
                        "INSERT INTO problems (capture_id, channel, message, direction, stream_offset, offset, "
                        "severity, code, path, text) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)"),
        insert_session_(db.handle(),
                        "INSERT INTO sessions (capture_id, session_id, server, first_ts_ns, last_ts_ns) "
                        "VALUES (?1,?2,?3,?4,?4)"),
        find_session_(db.handle(), "SELECT id FROM sessions WHERE capture_id=?1 AND session_id=?2"),
        touch_session_(db.handle(),
                       "UPDATE sessions SET first_ts_ns=min(first_ts_ns, ?2), last_ts_ns=max(last_ts_ns, ?3) "
                       "WHERE id=?1"),
        set_channel_session_(db.handle(), "UPDATE channels SET session=?2 WHERE id=?1") {}

  void apply(Op& op) {
    switch (op.kind) {
      case Op::Kind::Open: open(op.conn); break;
      case Op::Kind::Frame: frame(op); break;
      case Op::Kind::Problem:
        for (const auto& p : op.problems) problem(channels_[op.conn.id], std::nullopt, op.dir, op.stream_offset, p);
        break;
      case Op::Kind::Known: known(op.conn, op.state); break;
      case Op::Kind::Close: close(op.conn, op.state); break;
    }
  }

  Result<void> status;
  uint64_t messages = 0, problems = 0;

 private:
  struct Channel {
    int64_t row = 0;
    int64_t session = 0;
    uint64_t bytes[2] = {0, 0};
    uint64_t count[2] = {0, 0};
    uint64_t first_ts = 0, last_ts = 0;
  };

  void check(const Result<bool>& r) {
    if (!r && status.ok()) status = r.error();
  }

  void open(const capture::ConnectionInfo& c) {
    Channel& ch = channels_[c.id];
    ch.first_ts = ch.last_ts = c.first_ts_ns;
    insert_channel_.reset();
    insert_channel_.bind(1, capture_id_)
        .bind(2, c.client.to_string())
        .bind(3, c.server.to_string())
        .bind(4, int64_t{c.tls})
        .bind(5, int64_t{c.midstream})
        .bind(6, static_cast<int64_t>(c.first_ts_ns));
    check(insert_channel_.step());
    ch.row = sqlite3_last_insert_rowid(db_.handle());
  }

  int64_t session_for(uint32_t session_id, const capture::ConnectionInfo& c, uint64_t ts) {
    if (auto it = sessions_.find(session_id); it != sessions_.end()) return it->second;
    find_session_.reset();
    find_session_.bind(1, capture_id_).bind(2, int64_t{session_id});
    int64_t row = 0;
    auto found = find_session_.step();
    check(found);
    if (found && *found) {
      row = find_session_.column_int(0);
    } else {
      insert_session_.reset();
      insert_session_.bind(1, capture_id_)
          .bind(2, int64_t{session_id})
          .bind(3, c.server.to_string())
          .bind(4, static_cast<int64_t>(ts));
      check(insert_session_.step());
      row = sqlite3_last_insert_rowid(db_.handle());
    }
    sessions_[session_id] = row;
    return row;
  }

  void attach(Channel& ch, int64_t session) {
    if (ch.session == session) return;
    ch.session = session;
    set_channel_session_.reset();
    set_channel_session_.bind(1, ch.row).bind(2, session);
    check(set_channel_session_.step());
  }

  void problem(const Channel& ch, std::optional<int64_t> message, Direction dir, uint64_t stream_offset,
               const ProblemRow& p) {
    insert_problem_.reset();
    insert_problem_.bind(1, capture_id_).bind(2, ch.row);
    if (message) insert_problem_.bind(3, *message); else insert_problem_.bind_null(3);
    insert_problem_.bind(4, schema::direction_name(dir)).bind(5, static_cast<int64_t>(stream_offset));
    if (p.offset) insert_problem_.bind(6, int64_t{*p.offset}); else insert_problem_.bind_null(6);
    insert_problem_.bind(7, decode::severity_name(p.severity)).bind(8, p.code);
    if (p.path.empty()) insert_problem_.bind_null(9); else insert_problem_.bind(9, p.path);
    insert_problem_.bind(10, p.text);
    check(insert_problem_.step());
    ++problems;
  }

  void frame(const Op& op) {
    Channel& ch = channels_[op.conn.id];
    const size_t d = dir_index(op.dir);
    ch.bytes[d] += op.wire.size();
    ch.count[d] += 1;
    ch.last_ts = std::max(ch.last_ts, op.ts_ns);

    auto& m = insert_message_;
    m.reset();
    m.bind(1, ch.row)
        .bind(2, static_cast<int64_t>(op.ts_ns))
        .bind(3, schema::direction_name(op.dir))
        .bind(4, static_cast<int64_t>(op.stream_offset));
    if (op.serial) m.bind(5, static_cast<int64_t>(*op.serial)); else m.bind_null(5);
    if (op.type) m.bind(6, int64_t{*op.type}); else m.bind_null(6);
    m.bind_static(7, op.name)
        .bind(8, int64_t{op.body_size})
        .bind(9, static_cast<int64_t>(op.wire.size()))
        .bind_blob(10, op.wire);
    if (op.json) m.bind_static(11, *op.json); else m.bind_null(11);
    check(m.step());
    const int64_t id = sqlite3_last_insert_rowid(db_.handle());
    ++messages;
    for (const auto& p : op.problems) problem(ch, id, op.dir, op.stream_offset, p);
    if (op.session_id) attach(ch, session_for(*op.session_id, op.conn, op.ts_ns));
  }

  void known(const capture::ConnectionInfo& c, const framing::ChannelState& s) {
    // Non-main channels name their session in the link message.
    if (s.connection_id != 0 && s.channel_type != SPICE_CHANNEL_MAIN) {
      attach(channels_[c.id], session_for(s.connection_id, c, channels_[c.id].first_ts));
    }
  }

  void close(const capture::ConnectionInfo& c, const framing::ChannelState& s) {
    Channel& ch = channels_[c.id];
    const auto& reg = schema::Registry::spice();
    const auto* def = reg.channel(s.channel_type);
    std::span<const schema::CapName> channel_caps;
    if (def) channel_caps = def->caps;
    auto& u = update_channel_;
    u.reset();
    u.bind(1, ch.row).bind(2, int64_t{s.connection_id});
    if (s.channel_type) {
      u.bind(3, int64_t{s.channel_type}).bind(4, reg.channel_name(s.channel_type)).bind(5, int64_t{s.channel_id});
    } else {
      u.bind_null(3).bind_null(4).bind_null(5);
    }
    if (s.header != framing::HeaderKind::Unknown) u.bind(6, framing::header_kind_name(s.header)); else u.bind_null(6);
    if (s.auth.empty()) u.bind_null(7); else u.bind(7, s.auth);
    if (s.link_error) u.bind(8, link_error_name(*s.link_error)); else u.bind_null(8);
    u.bind(9, caps_json(s.client_common, reg.common_caps()))
        .bind(10, caps_json(s.client_channel, channel_caps))
        .bind(11, caps_json(s.server_common, reg.common_caps()))
        .bind(12, caps_json(s.server_channel, channel_caps))
        .bind(13, static_cast<int64_t>(ch.bytes[0]))
        .bind(14, static_cast<int64_t>(ch.bytes[1]))
        .bind(15, static_cast<int64_t>(ch.count[0]))
        .bind(16, static_cast<int64_t>(ch.count[1]))
        .bind(17, static_cast<int64_t>(ch.first_ts))
        .bind(18, static_cast<int64_t>(ch.last_ts));
    check(u.step());
    if (ch.session) {
      touch_session_.reset();
      touch_session_.bind(1, ch.session)
          .bind(2, static_cast<int64_t>(ch.first_ts))
          .bind(3, static_cast<int64_t>(ch.last_ts));
      check(touch_session_.step());
    }
  }

  Database& db_;
  int64_t capture_id_;
  Statement insert_channel_, update_channel_, insert_message_, insert_problem_, insert_session_, find_session_,
      touch_session_, set_channel_session_;
  std::unordered_map<uint32_t, Channel> channels_;
  std::unordered_map<uint32_t, int64_t> sessions_;
};

// ---- the queue between the threads ----

struct ImportWriter::Queue {
  static constexpr size_t kBatch = 512;      // operations handed over at once
  static constexpr size_t kMaxBatches = 32;  // bounds memory when SQLite is the slower side

  std::mutex mutex;
  std::condition_variable ready, room;
  std::deque<std::vector<Op>> batches;
  std::vector<Op> filling;
  bool done = false;
  std::thread worker;
};

ImportWriter::ImportWriter(Database& db, int64_t capture_id, bool redact)
    : rows_(std::make_unique<Rows>(db, capture_id)), queue_(std::make_unique<Queue>()), redact_(redact) {
  queue_->worker = std::thread([this] {
    Queue& q = *queue_;
    for (;;) {
      std::vector<Op> batch;
      {
        std::unique_lock lock(q.mutex);
        q.ready.wait(lock, [&] { return !q.batches.empty() || q.done; });
        if (q.batches.empty()) return;
        batch = std::move(q.batches.front());
        q.batches.pop_front();
      }
      q.room.notify_one();
      for (auto& op : batch) rows_->apply(op);
    }
  });
}

ImportWriter::~ImportWriter() { finish(); }

void ImportWriter::push(Op&& op) {
  Queue& q = *queue_;
  q.filling.push_back(std::move(op));
  if (q.filling.size() < Queue::kBatch) return;
  {
    std::unique_lock lock(q.mutex);
    q.room.wait(lock, [&] { return q.batches.size() < Queue::kMaxBatches; });
    q.batches.push_back(std::move(q.filling));
  }
  q.filling.clear();
  q.ready.notify_one();
}

void ImportWriter::finish() {
  Queue& q = *queue_;
  if (!q.worker.joinable()) return;
  {
    std::lock_guard lock(q.mutex);
    if (!q.filling.empty()) q.batches.push_back(std::move(q.filling));
    q.done = true;
  }
  q.filling.clear();
  q.ready.notify_one();
  q.worker.join();
}

const Result<void>& ImportWriter::status() const { return rows_->status; }
uint64_t ImportWriter::messages() const { return rows_->messages; }
uint64_t ImportWriter::problems() const { return rows_->problems; }

// ---- the decoding side ----

void ImportWriter::on_open(const capture::ConnectionInfo& c) { push(Op{.kind = Op::Kind::Open, .conn = c}); }

void ImportWriter::on_frame(const capture::ConnectionInfo& c, const framing::Frame& f,
                            const framing::ChannelState& s) {
  const auto& reg = schema::Registry::spice();
  Op op{.kind = Op::Kind::Frame, .conn = c};
  op.dir = f.dir;
  op.ts_ns = f.ts_ns;
  op.stream_offset = f.stream_offset;
  op.serial = f.serial;
  if (f.def && !f.def->is_link()) op.type = f.type;
  else if (!f.def && !f.undecodable) op.type = f.type;
  op.body_size = static_cast<uint32_t>(f.body.size());
  op.wire.assign(f.wire.begin(), f.wire.end());
  const uint32_t header = static_cast<uint32_t>(f.wire.size() - f.body.size());
  // Bytes longer than a few words stay only in the raw column: the JSON points at them.
  const decode::JsonOptions json_options{.bytes_inline_limit = 16, .redact = redact_};
  if (f.def) {
    op.name = f.def->full_name;
    // With a sub-message list, the message's own fields end where the list begins.
    const auto own = f.sub_list ? f.body.first(std::min<size_t>(f.sub_list, f.body.size())) : f.body;
    decode::decode_message(*f.def, own, f.def->is_link() ? decode::NegotiatedCaps{} : s.negotiated, decoded_);
    std::string& json = op.json.emplace();
    decode::append_json(decoded_, own, json, json_options);
    for (const auto& d : decoded_.diagnostics) {
      op.problems.push_back({header + d.offset, d.severity, d.code, d.path, d.text});
    }
    if (redact_) decode::redact_wire(decoded_, op.wire, header);
    if (f.sub_list != 0) {
      const auto subs = decode::decode_sub_messages(s.channel_type, f.dir, f.body, f.sub_list, s.negotiated);
      if (json.size() > 2) {
        json.pop_back();
        json += ",\"sub_messages\":";
      } else {
        json = "{\"sub_messages\":";
      }
      decode::append_sub_messages_json(subs, json, json_options);
      json += '}';
      for (const auto& d : subs.diagnostics) op.problems.push_back({header + d.offset, d.severity, d.code, "", d.text});
      for (const auto& m : subs.items) {
        if (redact_) decode::redact_wire(m.decoded, op.wire, header + m.offset);
        for (const auto& d : m.decoded.diagnostics) {
          op.problems.push_back({header + m.offset + d.offset, d.severity, d.code, d.path, d.text});
        }
      }
    }
    // The main channel's init names the session every other channel joins.
    if (f.def->channel_type == SPICE_CHANNEL_MAIN && f.def->type == SPICE_MSG_MAIN_INIT && f.dir == Direction::S2C) {
      if (const auto* v = decoded_.find("main.init.session_id")) op.session_id = static_cast<uint32_t>(v->number);
    }
  } else {
    // Bytes nobody could decode may hold anything: redaction blanks them whole.
    if (redact_) std::fill(op.wire.begin(), op.wire.end(), uint8_t{0});
    op.name = reg.channel_name(s.channel_type) + (f.undecodable ? ".undecodable" : ".unknown");
    if (!f.undecodable) {
      op.problems.push_back({0, decode::Severity::Warning, "unknown_type", "",
                             "message type " + std::to_string(f.type) + " is not defined for the " +
                                 reg.channel_name(s.channel_type) + " channel in this direction; kept as bytes"});
    }
  }
  push(std::move(op));
}

void ImportWriter::on_problem(const capture::ConnectionInfo& c, const framing::Problem& p,
                              const framing::ChannelState&) {
  Op op{.kind = Op::Kind::Problem, .conn = c};
  op.dir = p.dir;
  op.stream_offset = p.stream_offset;
  op.problems.push_back({std::nullopt, p.severity, p.code, "", p.text});
  push(std::move(op));
}

void ImportWriter::on_channel_known(const capture::ConnectionInfo& c, const framing::ChannelState& s) {
  push(Op{.kind = Op::Kind::Known, .conn = c, .state = s});
}

void ImportWriter::on_close(const capture::ConnectionInfo& c, const framing::ChannelState& s, uint64_t) {
  push(Op{.kind = Op::Kind::Close, .conn = c, .state = s});
}

Result<ImportSummary> import_capture(Database& db, const std::string& path, const capture::ImportOptions& options,
                                     const capture::ProgressFn& progress) {
  // One big transaction is more than twice as fast with a rollback journal as in
  // WAL mode, and just as atomic; readers get WAL back when the import is done.
  // (When another connection holds the file, the switch fails and WAL stays.)
  (void)db.exec("PRAGMA journal_mode=DELETE");
  struct BackToWal {
    Database& db;
    ~BackToWal() { (void)db.exec("PRAGMA journal_mode=WAL"); }
  } back_to_wal{db};
  if (auto r = db.exec("BEGIN IMMEDIATE"); !r) return make_error(db.path() + ": " + r.error().message);
  auto rollback = [&](Error e) -> Result<ImportSummary> {
    (void)db.exec("ROLLBACK");
    return e;
  };
  std::string opts = "{\"ports\":[";
  for (size_t i = 0; i < options.ports.size(); ++i) opts += (i ? "," : "") + std::to_string(options.ports[i]);
  opts += std::string("],\"redact\":") + (options.redact ? "true" : "false") + "}";
  Statement ins(db.handle(), "INSERT INTO captures (path, options) VALUES (?1, ?2)");
  ins.bind(1, path).bind(2, opts);
  if (auto r = ins.step(); !r) return rollback(make_error(db.path() + ": " + r.error().message));
  ImportSummary summary;
  summary.capture_id = sqlite3_last_insert_rowid(db.handle());

  // Into an empty table, building the message indexes once at the end is cheaper
  // than maintaining them row by row (about 15% of a large import).
  const bool bulk = [&] {
    auto t = db.query("SELECT NOT EXISTS (SELECT 1 FROM messages)");
    return t && std::get<int64_t>(t->rows[0][0]) == 1;
  }();
  if (bulk) (void)db.exec("DROP INDEX IF EXISTS messages_by_channel; DROP INDEX IF EXISTS messages_by_name;");

  ImportWriter writer(db, summary.capture_id, options.redact);
  auto stats = capture::import_file(path, writer, options, progress);
  writer.finish();
  if (!stats) return rollback(stats.error());
  if (!writer.status()) return rollback(make_error(db.path() + ": " + writer.status().error().message));
  summary.stats = *stats;
  summary.messages = writer.messages();
  summary.problems = writer.problems();
  if (stats->spice_connections == 0) {
    (void)db.exec("ROLLBACK");
    summary.no_spice = true;
    return summary;
  }

  Statement upd(db.handle(),
                "UPDATE captures SET linktype=?2, file_bytes=?3, packets=?4, first_ts_ns=?5, last_ts_ns=?6, "
                "truncated=?7 WHERE id=?1");
  upd.bind(1, summary.capture_id)
      .bind(2, int64_t{stats->linktype})
      .bind(3, static_cast<int64_t>(stats->file_bytes))
      .bind(4, static_cast<int64_t>(stats->packets))
      .bind(5, static_cast<int64_t>(stats->first_ts_ns))
      .bind(6, static_cast<int64_t>(stats->last_ts_ns))
      .bind(7, int64_t{stats->truncated});
  if (auto r = upd.step(); !r) return rollback(make_error(db.path() + ": " + r.error().message));
  if (stats->truncated) {
    Statement p(db.handle(),
                "INSERT INTO problems (capture_id, severity, code, text) VALUES (?1, 'error', 'truncated_file', ?2)");
    p.bind(1, summary.capture_id).bind(2, path + ": capture file ends inside a packet (" + stats->read_error + ")");
    if (auto r = p.step(); !r) return rollback(make_error(db.path() + ": " + r.error().message));
    ++summary.problems;
  }
  if (bulk) {
    if (auto r = db.exec(message_indexes_sql()); !r) return rollback(make_error(db.path() + ": " + r.error().message));
  }
  if (auto r = db.exec("COMMIT"); !r) return rollback(make_error(db.path() + ": " + r.error().message));
  return summary;
}

}  // namespace sc::store
