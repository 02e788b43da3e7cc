#include "store/store_writer.hpp"

#include <spice/enums.h>

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "store/agent_rows.hpp"
#include "store/chunk_codec.hpp"

namespace sc::store {

using schema::Direction;

namespace {

enum Kind : uint8_t { kOpen, kFrame, kChunk, kProblem, kKnown, kTls, kClose, kJoined, kSessionEnd, kAgent };

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

std::vector<uint8_t> caps_words(const decode::CapSet& caps) {
  std::vector<uint8_t> out;
  for (uint32_t w : caps.words) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(w >> (8 * i)));
  }
  return out;
}

std::string link_error_name(uint32_t err) {
  static const auto* names = [] {
    const auto& r = schema::Registry::spice();
    const auto* m = r.link(schema::LinkStep::Result);
    return r.node(r.node(m->root).children[0]).type->names;
  }();
  return names->describe(err);
}

}  // namespace

struct ProblemRow {
  std::optional<uint32_t> offset;  // within the message (header included)
  decode::Severity severity;
  std::string code, path, text;
};

// What the rare operations carry besides a frame's few numbers.
struct Extra {
  capture::ConnectionInfo conn;
  framing::ChannelState state;
  capture::TlsInfo tls;
  uint32_t session_id = 0;
  std::string server;
  uint64_t first_ts = 0, last_ts = 0;
};

struct StoreWriter::Op {
  uint8_t kind = kFrame;
  uint8_t dir = 0;
  uint32_t conn = 0;
  uint64_t ts_ns = 0, stream_offset = 0;
  std::optional<uint64_t> serial;
  std::optional<uint16_t> type;
  const std::string* name = nullptr;  // lives as long as the writer
  uint32_t body_size = 0;             // Frame; Chunk: bytes once decompressed
  uint32_t wire_size = 0;             // Frame
  std::string_view codec;             // Chunk
  size_t data_at = 0, data_len = 0;   // Chunk: its packed bytes, in the batch's bytes
  std::vector<ProblemRow> problems;
  std::unique_ptr<Extra> extra;
  std::unique_ptr<AgentRow> agent;  // kAgent
  std::vector<display::ImageInfo> images;  // Frame: the images it carried
};

struct StoreWriter::Batch {
  std::vector<Op> ops;
  std::vector<uint8_t> bytes;
  void clear() {
    ops.clear();
    bytes.clear();
  }
};

// ---- the SQLite side (worker thread) ----

struct StoreWriter::Rows {
  Rows(Database& db, int64_t capture_id, const WriterOptions& o)
      : db_(db), capture_id_(capture_id), options_(o),
        insert_channel_(db.handle(),
                        "INSERT INTO channels (capture_id, client, server, tls, midstream, first_ts_ns, last_ts_ns) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)"),
        update_state_(db.handle(),
                      "UPDATE channels SET connection_id=?2, type=?3, type_name=?4, channel_id=?5, header=?6, "
                      "auth=?7, link_error=?8, client_common_caps=?9, client_channel_caps=?10, "
                      "server_common_caps=?11, server_channel_caps=?12, negotiated_common=?13, "
                      "negotiated_channel=?14, midstream=?15 WHERE id=?1"),
        update_counts_(db.handle(),
                       "UPDATE channels SET c2s_bytes=?2, s2c_bytes=?3, c2s_messages=?4, s2c_messages=?5, "
                       "first_ts_ns=?6, last_ts_ns=?7 WHERE id=?1"),
        update_tls_(db.handle(), "UPDATE channels SET tls_version=?2, tls_sni=?3 WHERE id=?1"),
        insert_message_(db.handle(), insert_messages_sql(1)),
        insert_messages_(db.handle(), insert_messages_sql(kRowsPerInsert)),
        insert_chunk_(db.handle(),
                      "INSERT INTO chunks (channel, dir, start, size, codec, data) VALUES (?1,?2,?3,?4,?5,?6)"),
        insert_problem_(db.handle(),
                        "INSERT INTO problems (capture_id, channel, message, direction, stream_offset, offset, "
                        "severity, code, path, text, ts_ns) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)"),
        insert_name_(db.handle(), "INSERT INTO names (name) VALUES (?1)"),
        insert_session_(db.handle(),
                        "INSERT INTO sessions (capture_id, session_id, server, first_ts_ns, last_ts_ns) "
                        "VALUES (?1,?2,?3,?4,?5)"),
        find_session_(db.handle(), "SELECT id FROM sessions WHERE capture_id=?1 AND session_id=?2"),
        touch_session_(db.handle(),
                       "UPDATE sessions SET first_ts_ns=min(first_ts_ns, ?2), last_ts_ns=max(last_ts_ns, ?3) "
                       "WHERE id=?1"),
        set_channel_session_(db.handle(), "UPDATE channels SET session=?2 WHERE id=?1"),
        agent_tables_(db),
        image_table_(db) {
    if (auto t = db.query("SELECT id, name FROM names")) {
      for (const auto& r : t->rows) names_[std::get<std::string>(r[1])] = std::get<int64_t>(r[0]);
    }
    // The writer makes every reference it writes itself; checking each against its
    // parent row costs two lookups per message (about a tenth of an import).
    check(db_.exec("PRAGMA foreign_keys=OFF"));
    last_commit_ = std::chrono::steady_clock::now();
    begin();
  }
  // After the last commit (the pragma is a no-op inside a transaction): the
  // connection is the caller's again, with its cascades.
  void checks_on() { (void)db_.exec("PRAGMA foreign_keys=ON"); }

  void apply(Op& op, std::span<const uint8_t> bytes) {
    switch (op.kind) {
      case kOpen: open(op); break;
      case kFrame: frame(op); break;
      case kChunk: chunk(op, bytes.subspan(op.data_at, op.data_len)); break;
      case kProblem:
        for (const auto& p : op.problems) problem(channels_[op.conn], std::nullopt, op.dir, op.stream_offset, op.ts_ns, p);
        break;
      case kKnown: state(channels_[op.conn], op.extra->state); break;
      case kTls: tls(op); break;
      case kClose: close(op); break;
      case kJoined: joined(op); break;
      case kSessionEnd: session_end(op); break;
      case kAgent: agent_row(op); break;
    }
  }

  // When the next commit is due: what was applied is never older than an interval.
  std::chrono::steady_clock::time_point commit_due() const { return last_commit_ + options_.commit_interval; }

  // Commits when the interval has passed since the last commit (or `force`).
  void maybe_commit(bool force) {
    const auto now = std::chrono::steady_clock::now();
    if (!force && now - last_commit_ < options_.commit_interval) return;
    // Batches carry their messages' chunks, and commits fall between batches, so
    // every committed message has its bytes committed with it.
    flush_rows();
    check(image_table_.flush());
    for (uint32_t id : dirty_) counts(channels_[id]);
    dirty_.clear();
    check(db_.exec("COMMIT"));
    last_commit_ = now;
    if (!force) begin();
  }

  Result<void> status;
  uint64_t messages = 0, problems = 0;

 private:
  static constexpr size_t kRowsPerInsert = 64;
  struct Row {
    int64_t id, channel, ts_ns;
    uint8_t dir;
    int64_t offset;
    std::optional<int64_t> serial;
    std::optional<uint16_t> type;
    int64_t name_id, size, wire_size;
  };
  struct Channel {
    int64_t row = 0;
    int64_t session = 0;
    uint64_t bytes[2] = {0, 0};
    uint64_t count[2] = {0, 0};
    uint64_t first_ts = 0, last_ts = 0;
  };

  // IMMEDIATE takes the write lock now, so the ids handed out below stay ours
  // even when another process writes to the same file between our transactions.
  void begin() {
    check(db_.exec("BEGIN IMMEDIATE"));
    if (auto t = db_.query("SELECT coalesce(max(id), 0) + 1 FROM message_rows")) {
      next_id_ = std::get<int64_t>(t->rows[0][0]);
    }
  }

  static std::string insert_messages_sql(size_t rows) {
    std::string sql =
        "INSERT INTO message_rows (id, channel, ts_ns, dir, stream_offset, serial, type, name_id, size, wire_size) "
        "VALUES ";
    for (size_t i = 0; i < rows; ++i) sql += i ? ",(?,?,?,?,?,?,?,?,?,?)" : "(?,?,?,?,?,?,?,?,?,?)";
    return sql;
  }

  // Message rows go in kRowsPerInsert at a time: one statement run per row was
  // most of the SQLite side's time.
  void flush_rows() {
    size_t at = 0;
    while (pending_.size() - at >= kRowsPerInsert) {
      insert_rows(insert_messages_, std::span(pending_).subspan(at, kRowsPerInsert));
      at += kRowsPerInsert;
    }
    for (; at < pending_.size(); ++at) insert_rows(insert_message_, std::span(pending_).subspan(at, 1));
    pending_.clear();
  }

  void insert_rows(Statement& st, std::span<const Row> rows) {
    st.reset();
    int i = 1;
    for (const Row& r : rows) {
      st.bind(i, r.id).bind(i + 1, r.channel).bind(i + 2, r.ts_ns).bind(i + 3, int64_t{r.dir}).bind(i + 4, r.offset);
      if (r.serial) st.bind(i + 5, *r.serial); else st.bind_null(i + 5);
      if (r.type) st.bind(i + 6, int64_t{*r.type}); else st.bind_null(i + 6);
      st.bind(i + 7, r.name_id).bind(i + 8, r.size).bind(i + 9, r.wire_size);
      i += 10;
    }
    check(st.step());
    messages += rows.size();
  }
  void check(const Result<bool>& r) {
    if (!r && status.ok()) status = r.error();
  }
  void check(const Result<void>& r) {
    if (!r && status.ok()) status = r.error();
  }

  int64_t name_id(const std::string& name) {
    if (auto it = names_.find(name); it != names_.end()) return it->second;
    insert_name_.reset();
    insert_name_.bind(1, name);
    check(insert_name_.step());
    const int64_t id = sqlite3_last_insert_rowid(db_.handle());
    names_[name] = id;
    return id;
  }

  void open(const Op& op) {
    const auto& c = op.extra->conn;
    Channel& ch = channels_[op.conn];
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

  void chunk(const Op& op, std::span<const uint8_t> data) {
    insert_chunk_.reset();
    insert_chunk_.bind(1, channels_[op.conn].row)
        .bind(2, int64_t{op.dir})
        .bind(3, static_cast<int64_t>(op.stream_offset))
        .bind(4, int64_t{op.body_size})
        .bind_static(5, op.codec)
        .bind_blob(6, data);
    check(insert_chunk_.step());
  }

  // Image fields are paths in the protocol description: one id per distinct pointer.
  int64_t field_id(std::string_view field) {
    if (auto it = field_ids_.find(field.data()); it != field_ids_.end()) return it->second;
    return field_ids_[field.data()] = name_id(std::string(field));
  }

  void frame(const Op& op) {
    Channel& ch = channels_[op.conn];
    const int d = op.dir;
    ch.bytes[d] += op.wire_size;
    ch.count[d] += 1;
    ch.last_ts = std::max(ch.last_ts, op.ts_ns);
    dirty_.insert(op.conn);

    const int64_t id = next_id_++;
    pending_.push_back({id, ch.row, static_cast<int64_t>(op.ts_ns), static_cast<uint8_t>(d),
                        static_cast<int64_t>(op.stream_offset),
                        op.serial ? std::optional<int64_t>(static_cast<int64_t>(*op.serial)) : std::nullopt, op.type,
                        name_id(*op.name), int64_t{op.body_size}, int64_t{op.wire_size}});
    if (pending_.size() >= kRowsPerInsert) flush_rows();
    for (const auto& p : op.problems) problem(ch, id, op.dir, op.stream_offset, op.ts_ns, p);
    for (const auto& image : op.images) check(image_table_.insert(id, field_id(image.field), image));
  }

  void agent_row(const Op& op) {
    const AgentRow& row = *op.agent;
    int64_t name = 0;
    if (const auto* m = std::get_if<AgentMessageRow>(&row)) name = name_id(m->name);
    check(agent_tables_.insert(channels_[op.conn].row, row, name));
  }

  void problem(const Channel& ch, std::optional<int64_t> message, uint8_t dir, uint64_t stream_offset, uint64_t ts_ns,
               const ProblemRow& p) {
    insert_problem_.reset();
    insert_problem_.bind(1, capture_id_).bind(2, ch.row);
    if (message) insert_problem_.bind(3, *message); else insert_problem_.bind_null(3);
    insert_problem_.bind(4, schema::direction_name(static_cast<Direction>(dir)))
        .bind(5, static_cast<int64_t>(stream_offset));
    if (p.offset) insert_problem_.bind(6, int64_t{*p.offset}); else insert_problem_.bind_null(6);
    insert_problem_.bind(7, decode::severity_name(p.severity)).bind(8, p.code);
    if (p.path.empty()) insert_problem_.bind_null(9); else insert_problem_.bind(9, p.path);
    insert_problem_.bind(10, p.text);
    if (ts_ns) insert_problem_.bind(11, static_cast<int64_t>(ts_ns)); else insert_problem_.bind_null(11);
    check(insert_problem_.step());
    ++problems;
  }

  // What the link stage (or mid-stream inference) established, written as soon as it
  // is known so that readers can decode the channel's messages during a long import.
  void state(const Channel& ch, const framing::ChannelState& s) {
    const auto& reg = schema::Registry::spice();
    const auto* def = reg.channel(s.channel_type);
    std::span<const schema::CapName> channel_caps;
    if (def) channel_caps = def->caps;
    // Blobs are bound without a copy: they must outlive step().
    const auto common = caps_words(s.negotiated.common), channel = caps_words(s.negotiated.channel);
    auto& u = update_state_;
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
        .bind_blob(13, common)
        .bind_blob(14, channel)
        .bind(15, int64_t{s.midstream});
    check(u.step());
  }

  void counts(const Channel& ch) {
    auto& u = update_counts_;
    u.reset();
    u.bind(1, ch.row)
        .bind(2, static_cast<int64_t>(ch.bytes[0]))
        .bind(3, static_cast<int64_t>(ch.bytes[1]))
        .bind(4, static_cast<int64_t>(ch.count[0]))
        .bind(5, static_cast<int64_t>(ch.count[1]))
        .bind(6, static_cast<int64_t>(ch.first_ts))
        .bind(7, static_cast<int64_t>(ch.last_ts));
    check(u.step());
  }

  void tls(const Op& op) {
    Channel& ch = channels_[op.conn];
    const auto& t = op.extra->tls;
    ch.bytes[0] = t.bytes[0];
    ch.bytes[1] = t.bytes[1];
    update_tls_.reset();
    update_tls_.bind(1, ch.row);
    if (t.version.empty()) update_tls_.bind_null(2); else update_tls_.bind(2, t.version);
    if (t.sni.empty()) update_tls_.bind_null(3); else update_tls_.bind(3, t.sni);
    check(update_tls_.step());
    dirty_.insert(op.conn);
  }

  void close(const Op& op) {
    Channel& ch = channels_[op.conn];
    ch.last_ts = std::max(ch.last_ts, op.ts_ns);
    state(ch, op.extra->state);
    counts(ch);
    dirty_.erase(op.conn);
    if (ch.session) touch(ch.session, ch.first_ts, ch.last_ts);
  }

  void touch(int64_t session, uint64_t first, uint64_t last) {
    touch_session_.reset();
    touch_session_.bind(1, session).bind(2, static_cast<int64_t>(first)).bind(3, static_cast<int64_t>(last));
    check(touch_session_.step());
  }

  int64_t session_row(const Extra& e) {
    if (auto it = sessions_.find(e.session_id); it != sessions_.end()) return it->second;
    find_session_.reset();
    find_session_.bind(1, capture_id_).bind(2, int64_t{e.session_id});
    int64_t row = 0;
    auto found = find_session_.step();
    check(found);
    if (found && *found) {
      row = find_session_.column_int(0);
    } else {
      insert_session_.reset();
      insert_session_.bind(1, capture_id_)
          .bind(2, int64_t{e.session_id})
          .bind(3, e.server)
          .bind(4, static_cast<int64_t>(e.first_ts))
          .bind(5, static_cast<int64_t>(e.last_ts));
      check(insert_session_.step());
      row = sqlite3_last_insert_rowid(db_.handle());
    }
    sessions_[e.session_id] = row;
    return row;
  }

  void joined(const Op& op) {
    Channel& ch = channels_[op.conn];
    const int64_t s = session_row(*op.extra);
    if (ch.session == s) return;
    ch.session = s;
    set_channel_session_.reset();
    set_channel_session_.bind(1, ch.row).bind(2, s);
    check(set_channel_session_.step());
    touch(s, std::min(ch.first_ts, op.extra->first_ts), op.extra->last_ts);
  }

  void session_end(const Op& op) { touch(session_row(*op.extra), op.extra->first_ts, op.extra->last_ts); }

  Database& db_;
  int64_t capture_id_;
  WriterOptions options_;
  Statement insert_channel_, update_state_, update_counts_, update_tls_, insert_message_, insert_messages_, insert_chunk_,
      insert_problem_, insert_name_, insert_session_, find_session_, touch_session_, set_channel_session_;
  AgentTables agent_tables_;
  ImageTable image_table_;
  std::unordered_map<const char*, int64_t> field_ids_;
  std::unordered_map<std::string, int64_t> names_;
  std::unordered_map<uint32_t, Channel> channels_;
  std::unordered_map<uint32_t, int64_t> sessions_;
  std::unordered_set<uint32_t> dirty_;  // channels whose counters changed since the last commit
  std::vector<Row> pending_;            // message rows not yet inserted
  int64_t next_id_ = 1;
  std::chrono::steady_clock::time_point last_commit_;
};

// ---- between the threads ----

struct StoreWriter::Building {
  uint32_t conn = 0;
  uint8_t dir = 0;
  uint64_t start = 0;
  std::vector<uint8_t> bytes;
};

struct StoreWriter::Queue {
  static constexpr size_t kBatchOps = 1024;
  static constexpr size_t kBatchBytes = 1u << 20;
  static constexpr size_t kMaxBatches = 16;  // bounds memory when SQLite is the slower side

  std::mutex mutex;
  std::condition_variable ready, room;
  std::deque<Batch> full;
  std::vector<Batch> spare;  // handed back by the worker, capacity kept
  Batch filling;
  bool done = false;
  std::thread worker;
  std::unordered_set<std::string> names;  // of unknown types; set nodes never move, so ops may point at them

  // Stream chunks are built and compressed on the caller's thread (the decoding
  // side has time to spare; the SQLite side has none) and sealed at every
  // hand-over, so a batch carries the bytes of all its messages.
  std::unordered_map<uint64_t, Building> building;  // by connection << 1 | direction
  // The agent conversation of each main channel (its rows join the same batches).
  struct AgentFeed {
    AgentRowMaker rows;
    agent::Conversation conversation;
    AgentFeed(schema::SecretMask redact, std::function<void(AgentRow)> emit)
        : rows(redact, std::move(emit)), conversation(rows) {}
  };
  std::unordered_map<uint32_t, std::unique_ptr<AgentFeed>> agents;
  // The image feed of each session (by session id) and of each display channel
  // no session claimed (by 1 << 32 | connection); display channels point at theirs.
  std::unordered_map<uint64_t, std::unique_ptr<ImageFeed>> image_feeds;
  std::unordered_map<uint32_t, uint64_t> image_feed_of;   // display connection -> key
  std::unordered_map<uint32_t, uint32_t> session_of;      // connection -> session id, as joined
  Op* image_op = nullptr;                                  // the frame whose images are being found
  uint32_t image_header = 0;
  size_t building_bytes = 0;                         // in all of them
  PackedChunk packed;                                // reused for every chunk
};

StoreWriter::StoreWriter(Database& db, int64_t capture_id, WriterOptions options)
    : rows_(std::make_unique<Rows>(db, capture_id, options)), queue_(std::make_unique<Queue>()), options_(options) {
  queue_->worker = std::thread([this] {
    Queue& q = *queue_;
    for (;;) {
      Batch batch;
      {
        std::unique_lock lock(q.mutex);
        q.ready.wait_until(lock, rows_->commit_due(), [&] { return !q.full.empty() || q.done; });
        if (q.full.empty()) {
          if (q.done) return;
          lock.unlock();
          rows_->maybe_commit(false);
          continue;
        }
        batch = std::move(q.full.front());
        q.full.pop_front();
      }
      q.room.notify_one();
      for (auto& op : batch.ops) rows_->apply(op, batch.bytes);
      rows_->maybe_commit(false);
      batch.clear();
      std::lock_guard lock(q.mutex);
      if (q.spare.size() < 4) q.spare.push_back(std::move(batch));
    }
  });
}

StoreWriter::~StoreWriter() { finish(); }

StoreWriter::Op& StoreWriter::push(uint8_t kind, const capture::ConnectionInfo& c) {
  Op& op = queue_->filling.ops.emplace_back();
  op.kind = kind;
  op.conn = c.id;
  return op;
}

void StoreWriter::seal(Building& b) {
  Queue& q = *queue_;
  if (b.bytes.empty()) return;
  pack_chunk(b.bytes, q.packed);
  capture::ConnectionInfo c;
  c.id = b.conn;
  Op& op = push(kChunk, c);
  op.dir = b.dir;
  op.stream_offset = b.start;
  op.body_size = static_cast<uint32_t>(b.bytes.size());
  op.codec = q.packed.codec;
  op.data_at = q.filling.bytes.size();
  op.data_len = q.packed.data.size();
  q.filling.bytes.insert(q.filling.bytes.end(), q.packed.data.begin(), q.packed.data.end());
  q.building_bytes -= b.bytes.size();
  b.bytes.clear();
}

void StoreWriter::hand_over() {
  Queue& q = *queue_;
  for (auto& [key, b] : q.building) seal(b);
  Batch next;
  {
    std::unique_lock lock(q.mutex);
    q.room.wait(lock, [&] { return q.full.size() < Queue::kMaxBatches; });
    q.full.push_back(std::move(q.filling));
    if (!q.spare.empty()) {
      next = std::move(q.spare.back());
      q.spare.pop_back();
    }
  }
  q.filling = std::move(next);
  q.ready.notify_one();
}

void StoreWriter::flush() {
  Queue& q = *queue_;
  if (!q.worker.joinable() || (q.filling.ops.empty() && q.building_bytes == 0)) return;
  hand_over();
}

void StoreWriter::finish() {
  Queue& q = *queue_;
  if (!q.worker.joinable()) return;
  for (auto& [conn, feed] : q.agents) feed->conversation.finish(0);
  q.agents.clear();
  q.image_feeds.clear();
  q.image_feed_of.clear();
  for (auto& [key, b] : q.building) seal(b);
  q.building.clear();
  {
    std::lock_guard lock(q.mutex);
    if (!q.filling.ops.empty()) q.full.push_back(std::move(q.filling));
    q.done = true;
  }
  q.ready.notify_one();
  q.worker.join();
  rows_->maybe_commit(true);
  rows_->checks_on();
}

const Result<void>& StoreWriter::status() const { return rows_->status; }
uint64_t StoreWriter::messages() const { return rows_->messages; }
uint64_t StoreWriter::problems() const { return rows_->problems; }

// ---- the caller's side ----

void StoreWriter::on_open(const capture::ConnectionInfo& c) {
  Op& op = push(kOpen, c);
  op.extra = std::make_unique<Extra>();
  op.extra->conn = c;
}

void StoreWriter::on_frame(const capture::ConnectionInfo& c, const framing::Frame& f, const framing::ChannelState& s,
                           const decode::DecodedFrame& d) {
  Queue& q = *queue_;
  const auto dir = static_cast<uint8_t>(f.dir);
  // A chunk holds one contiguous run of its stream: a gap starts a new one. Sealed
  // before the frame's op is pushed: sealing pushes an op of its own.
  Building& b = q.building[uint64_t{c.id} << 1 | dir];
  if (!b.bytes.empty() && b.start + b.bytes.size() != f.stream_offset) seal(b);
  if (b.bytes.empty()) {
    b.conn = c.id;
    b.dir = dir;
    b.start = f.stream_offset;
  }
  Op& op = push(kFrame, c);
  op.dir = dir;
  op.ts_ns = f.ts_ns;
  op.stream_offset = f.stream_offset;
  op.serial = f.serial;
  if ((f.def && !f.def->is_link()) || (!f.def && !f.undecodable)) op.type = f.type;
  op.body_size = static_cast<uint32_t>(f.body.size());
  op.wire_size = static_cast<uint32_t>(f.wire.size());
  const size_t wire_at = b.bytes.size();
  b.bytes.insert(b.bytes.end(), f.wire.begin(), f.wire.end());
  q.building_bytes += f.wire.size();
  const std::span<uint8_t> wire{b.bytes.data() + wire_at, f.wire.size()};
  const uint32_t header = static_cast<uint32_t>(f.wire.size() - f.body.size());
  if (f.def) {
    op.name = &f.def->full_name;
    d.for_each_diagnostic([&](const decode::Diagnostic& x, uint32_t at) {
      op.problems.push_back({header + at, x.severity, x.code, x.path, x.text});
    });
    if (options_.redact) decode::redact_frame(d, wire, header, options_.redact);
  } else {
    // Bytes nobody could decode may hold anything: redaction blanks them whole.
    if (options_.redact) std::fill(wire.begin(), wire.end(), uint8_t{0});
    const auto& reg = schema::Registry::spice();
    std::string name = reg.channel_name(s.channel_type) + (f.undecodable ? ".undecodable" : ".unknown");
    op.name = &*q.names.insert(std::move(name)).first;
    if (!f.undecodable) {
      op.problems.push_back({0, decode::Severity::Warning, "unknown_type", "",
                             "message type " + std::to_string(f.type) + " is not defined for the " +
                                 reg.channel_name(s.channel_type) + " channel in this direction; kept as bytes"});
    }
  }
  if (f.def && s.channel_type == SPICE_CHANNEL_DISPLAY) {
    if (ImageFeed* feed = image_feed(c.id)) {
      q.image_op = &op;
      q.image_header = header;
      feed->on_frame(c.id, f.ts_ns, d);
      q.image_op = nullptr;
    }
  }
  if (b.bytes.size() >= options_.chunk_bytes) seal(b);
  if (auto it = q.agents.find(c.id); it != q.agents.end()) it->second->conversation.on_frame(f, d);
  if (q.filling.ops.size() >= Queue::kBatchOps || q.filling.bytes.size() + q.building_bytes >= Queue::kBatchBytes) {
    hand_over();
  }
}

void StoreWriter::on_problem(const capture::ConnectionInfo& c, const framing::Problem& p,
                             const framing::ChannelState&) {
  Op& op = push(kProblem, c);
  op.dir = static_cast<uint8_t>(p.dir);
  op.stream_offset = p.stream_offset;
  op.ts_ns = p.ts_ns;
  op.problems.push_back({std::nullopt, p.severity, p.code, "", p.text});
  if (auto it = queue_->agents.find(c.id); it != queue_->agents.end()) it->second->conversation.on_framing_problem(p);
}

void StoreWriter::on_channel_known(const capture::ConnectionInfo& c, const framing::ChannelState& s) {
  Op& op = push(kKnown, c);
  op.extra = std::make_unique<Extra>();
  op.extra->state = s;
  if (s.channel_type == SPICE_CHANNEL_MAIN && !queue_->agents.count(c.id)) {
    const uint32_t conn = c.id;
    auto feed = std::make_unique<Queue::AgentFeed>(options_.redact, [this, conn](AgentRow row) { push_agent(conn, std::move(row)); });
    if (s.midstream) feed->conversation.start_midstream();
    queue_->agents[c.id] = std::move(feed);
  }
}

// The feed a display channel's frames go to: its session's, or its own when no
// session claimed it (a capture that starts mid-session may never show the link).
ImageFeed* StoreWriter::image_feed(uint32_t conn) {
  Queue& q = *queue_;
  if (!options_.images) return nullptr;
  auto of = q.image_feed_of.find(conn);
  if (of == q.image_feed_of.end()) {
    const auto session = q.session_of.find(conn);
    const uint64_t key = session != q.session_of.end() ? uint64_t{session->second} : (uint64_t{1} << 32 | conn);
    of = q.image_feed_of.emplace(conn, key).first;
  }
  auto& feed = q.image_feeds[of->second];
  if (!feed) {
    feed = std::make_unique<ImageFeed>(
        [&q](const display::ImageInfo& info) { q.image_op->images.push_back(info); },
        [&q](const decode::Diagnostic& x) {
          q.image_op->problems.push_back({q.image_header + x.offset, x.severity, x.code, x.path, x.text});
        });
  }
  return feed.get();
}

void StoreWriter::push_agent(uint32_t conn, AgentRow row) {
  capture::ConnectionInfo c;
  c.id = conn;
  if (auto* p = std::get_if<AgentProblemRow>(&row)) {
    Op& op = push(kProblem, c);
    op.dir = p->dir;
    op.stream_offset = p->stream_offset;
    op.ts_ns = p->ts_ns;
    op.problems.push_back({std::nullopt, p->severity, std::move(p->code), "", std::move(p->text)});
    return;
  }
  Op& op = push(kAgent, c);
  op.agent = std::make_unique<AgentRow>(std::move(row));
}

void StoreWriter::on_tls(const capture::ConnectionInfo& c, const capture::TlsInfo& t) {
  Op& op = push(kTls, c);
  op.extra = std::make_unique<Extra>();
  op.extra->tls = t;
}

void StoreWriter::on_close(const capture::ConnectionInfo& c, const framing::ChannelState& s, uint64_t ts) {
  Queue& q = *queue_;
  for (uint8_t d = 0; d < 2; ++d) {
    if (auto it = q.building.find(uint64_t{c.id} << 1 | d); it != q.building.end()) {
      seal(it->second);
      q.building.erase(it);
    }
  }
  if (auto it = q.agents.find(c.id); it != q.agents.end()) {
    it->second->conversation.finish(ts);
    q.agents.erase(it);
  }
  if (auto it = q.image_feed_of.find(c.id); it != q.image_feed_of.end() && it->second >> 32) {
    q.image_feeds.erase(it->second);
    q.image_feed_of.erase(it);
  }
  Op& op = push(kClose, c);
  op.ts_ns = ts;
  op.extra = std::make_unique<Extra>();
  op.extra->state = s;
}

// Both session events carry the session as the tracker knows it now.
void StoreWriter::push_session(uint8_t kind, uint32_t connection, const session::Session& s) {
  capture::ConnectionInfo c;
  c.id = connection;
  Op& op = push(kind, c);
  op.extra = std::make_unique<Extra>();
  op.extra->session_id = s.session_id;
  op.extra->server = s.server;
  op.extra->first_ts = s.first_ts_ns;
  op.extra->last_ts = s.last_ts_ns;
}

void StoreWriter::on_channel_joined(uint32_t connection, session::Session& s) {
  queue_->session_of[connection] = s.session_id;
  push_session(kJoined, connection, s);
}

void StoreWriter::on_session_end(session::Session& s) {
  Queue& q = *queue_;
  q.image_feeds.erase(s.session_id);
  for (uint32_t conn : s.channels) {
    q.session_of.erase(conn);
    q.image_feed_of.erase(conn);
  }
  push_session(kSessionEnd, 0, s);
}

}  // namespace sc::store
