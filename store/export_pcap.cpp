#include "store/export_pcap.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <queue>
#include <utility>

#include "capture/pcapng_writer.hpp"
#include "capture/synthetic_tcp.hpp"
#include "capture/tcp_segment.hpp"
#include "store/stream_reader.hpp"

namespace sc::store {
namespace {

// Consecutive messages of one direction with one timestamp go out as one run
// (they came in one packet, or a burst); a run is cut here to bound memory.
constexpr size_t kMaxRun = 256 * 1024;

struct ChannelRow {
  int64_t id = 0;
  std::string client, server, type;
  int64_t first_ts = 0, last_ts = 0;
  bool tls = false;
  bool has_bytes = false;
};

uint64_t as_ts(int64_t v) { return v < 0 ? 0 : static_cast<uint64_t>(v); }

Error fail(ExportFailure* why, ExportFailure kind, std::string message) {
  if (why) *why = kind;
  return make_error(std::move(message));
}

// One channel's packets, produced lazily in its own order (the store's message
// order), so that the merge over channels holds one run per channel in memory.
class ChannelExport {
 public:
  struct Key {
    uint64_t ts = 0;
    int64_t order = 0;  // message id: ties keep the store's order, across channels too
    auto operator<=>(const Key&) const = default;
  };

  ChannelExport(const Database& db, const ChannelRow& c, const capture::Endpoint& client,
                const capture::Endpoint& server, capture::PcapngWriter& out, uint32_t iface, ExportSummary& totals)
      : row_(c),
        rows_(db.handle(),
              "SELECT m.id, m.dir, m.ts_ns, m.stream_offset, m.wire_size, n.name LIKE '%.undecodable' "
              "FROM message_rows m JOIN names n ON n.id = m.name_id WHERE m.channel = ?1 ORDER BY m.id"),
        readers_{StreamReader(db, c.id, 0), StreamReader(db, c.id, 1)},
        totals_(totals),
        tcp_(client, server, static_cast<uint64_t>(c.id),
             [&out, iface, &totals](uint64_t ts, std::span<const uint8_t> frame) -> Result<void> {
               ++totals.packets;
               return out.write_packet(iface, ts, frame, static_cast<uint32_t>(frame.size()));
             }) {
    rows_.bind(1, c.id);
  }

  // Reads the first message; must be called once before key().
  Result<void> start() {
    if (auto r = fetch(); !r) return r;
    open_ts_ = as_ts(row_.first_ts);
    if (ahead_ && ahead_->ts < open_ts_) open_ts_ = ahead_->ts;
    return {};
  }

  bool done() const { return stage_ == Stage::Done; }

  Key key() const {
    switch (stage_) {
      case Stage::Open: return {open_ts_, ahead_ ? ahead_->id : std::numeric_limits<int64_t>::min()};
      case Stage::Data: return {ahead_->ts, ahead_->id};
      default: return {close_ts(), std::numeric_limits<int64_t>::max()};
    }
  }

  // Emits what key() describes and moves on.
  Result<void> step() {
    switch (stage_) {
      case Stage::Open:
        stage_ = ahead_ ? Stage::Data : Stage::Close;
        return tcp_.open(open_ts_);
      case Stage::Data: {
        auto r = run();
        if (r && !ahead_) stage_ = Stage::Close;
        return r;
      }
      case Stage::Close:
        stage_ = Stage::Done;
        return tcp_.close(close_ts());
      case Stage::Done: break;
    }
    return {};
  }

 private:
  enum class Stage { Open, Data, Close, Done };
  struct Row {
    int64_t id = 0;
    int dir = 0;
    uint64_t ts = 0;
    uint64_t offset = 0;
    uint64_t size = 0;
    bool undecodable = false;
  };

  uint64_t close_ts() const { return std::max(as_ts(row_.last_ts), last_ts_); }

  Result<void> fetch() {
    auto more = rows_.step();
    if (!more) return more.error();
    if (!*more) {
      ahead_.reset();
      rows_.reset();
      return {};
    }
    sqlite3_stmt* s = rows_.get();
    ahead_ = Row{sqlite3_column_int64(s, 0), sqlite3_column_int(s, 1) & 1, as_ts(sqlite3_column_int64(s, 2)),
                 static_cast<uint64_t>(sqlite3_column_int64(s, 3)), static_cast<uint64_t>(sqlite3_column_int64(s, 4)),
                 sqlite3_column_int(s, 5) != 0};
    return {};
  }

  // The messages from ahead_ on that share its direction and time and follow each
  // other in the stream, as one send; a hole in front of it is skipped over.
  //
  // Undecodable bytes are the exception: the framer cuts them where TCP delivered
  // them (one row per segment, as the original capture had them), so each such
  // row goes out alone, as one segment however large, and a re-import cuts the
  // same rows.
  Result<void> run() {
    const Row first = *ahead_;
    const int dir = first.dir;
    if (first.offset < expected_[dir]) {
      return make_error("channel " + std::to_string(row_.id) + ": message " + std::to_string(first.id) +
                        " overlaps the one before it in the stream");
    }
    if (first.offset > expected_[dir]) {
      ++totals_.gaps;
      totals_.gap_bytes += first.offset - expected_[dir];
      tcp_.skip(dir, first.offset - expected_[dir]);
      expected_[dir] = first.offset;
    }
    buffer_.clear();
    while (ahead_ && ahead_->dir == dir && ahead_->ts == first.ts && ahead_->offset == expected_[dir] &&
           (buffer_.empty() || (buffer_.size() + ahead_->size <= kMaxRun && !ahead_->undecodable &&
                                !first.undecodable))) {
      auto bytes = readers_[dir].read(ahead_->offset, static_cast<size_t>(ahead_->size));
      if (!bytes) return bytes.error();
      buffer_.insert(buffer_.end(), bytes->begin(), bytes->end());
      expected_[dir] += ahead_->size;
      if (auto r = fetch(); !r) return r;
    }
    last_ts_ = std::max(last_ts_, first.ts);
    totals_.bytes += buffer_.size();
    return tcp_.send(dir, first.ts, buffer_,
                     first.undecodable ? capture::kSyntheticMaxPayload : capture::kSyntheticMaxSegment);
  }

  ChannelRow row_;
  Statement rows_;
  StreamReader readers_[2];
  ExportSummary& totals_;
  capture::SyntheticTcp tcp_;
  std::optional<Row> ahead_;
  Stage stage_ = Stage::Open;
  uint64_t open_ts_ = 0, last_ts_ = 0;
  uint64_t expected_[2] = {0, 0};
  std::vector<uint8_t> buffer_;
};

// An id asked for that the store does not have is said as such, rather than
// giving an empty file.
Result<void> check_id(Database& db, const char* sql, std::optional<int64_t> id, const std::string& what) {
  if (!id) return {};
  auto t = db.query(sql, {Cell{*id}});
  if (t && !t->rows.empty()) return {};
  return make_error("no " + what + ' ' + std::to_string(*id) + " in " + db.path() + " (see `spice-capture " +
                    (what == "capture" || what == "session" ? "sessions" : "channels") + "`)");
}

// SQL condition over channels (c) and sessions (s), with its values.
std::string where(const ExportSelection& which, std::vector<Cell>& params) {
  std::string w = " WHERE 1=1";
  if (which.capture) { w += " AND c.capture_id = ?"; params.emplace_back(*which.capture); }
  if (which.session) { w += " AND s.session_id = ?"; params.emplace_back(*which.session); }
  if (which.channel) { w += " AND c.id = ?"; params.emplace_back(*which.channel); }
  if (!which.type.empty()) { w += " AND c.type_name = ?"; params.emplace_back(which.type); }
  return w;
}

// The client and server a channel is exported between: its recorded ones, or
// stand-ins from a private range when those cannot go in a packet.
std::pair<capture::Endpoint, capture::Endpoint> endpoints(const ChannelRow& c, ExportSummary& totals) {
  auto client = capture::Endpoint::parse(c.client);
  auto server = capture::Endpoint::parse(c.server);
  if (client && server && client->v6 == server->v6) return {*client, *server};
  ++totals.made_up_addresses;
  capture::Endpoint made_client, made_server;
  made_client.addr[0] = 10, made_client.addr[1] = 1;
  made_client.addr[2] = static_cast<uint8_t>(c.id >> 8), made_client.addr[3] = static_cast<uint8_t>(c.id);
  made_client.port = static_cast<uint16_t>(49152 + c.id % 16384);
  made_server.addr[0] = 10, made_server.addr[3] = 1;
  made_server.port = server ? server->port : 5900;
  return {made_client, made_server};
}

// Every packet of every channel, merged in time order, into `out`; the first error.
Result<void> write_channels(const Database& db, const std::vector<ChannelRow>& channels, capture::PcapngWriter& out,
                            uint32_t iface, ExportSummary& totals) {
  // Channels that overlap in time on one 4-tuple (two captures exported together)
  // would merge into one connection: later ones get the next free client port.
  std::map<std::pair<std::string, std::string>, uint64_t> busy_until;
  std::vector<std::unique_ptr<ChannelExport>> exports;
  for (const auto& c : channels) {
    auto [client, server] = endpoints(c, totals);
    const uint64_t open_ts = as_ts(c.first_ts), close_ts = as_ts(c.last_ts);
    for (int tries = 0; tries < 65536; ++tries) {
      auto it = busy_until.find({client.to_string(), server.to_string()});
      if (it == busy_until.end() || it->second < open_ts) break;
      if (tries == 0) ++totals.renumbered_ports;
      client.port = static_cast<uint16_t>(client.port == 65535 ? 1024 : client.port + 1);
    }
    busy_until[{client.to_string(), server.to_string()}] = close_ts;
    exports.push_back(std::make_unique<ChannelExport>(db, c, client, server, out, iface, totals));
  }
  // The merge: whichever channel's next packet is earliest (ties: store order).
  using Entry = std::pair<ChannelExport::Key, size_t>;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap;
  for (size_t i = 0; i < exports.size(); ++i) {
    if (auto r = exports[i]->start(); !r) return r;
    heap.push({exports[i]->key(), i});
  }
  while (!heap.empty()) {
    const size_t i = heap.top().second;
    heap.pop();
    if (auto r = exports[i]->step(); !r) return r;
    if (!exports[i]->done()) heap.push({exports[i]->key(), i});
    else ++totals.channels;
  }
  return {};
}

}  // namespace

Result<ExportSummary> export_pcapng(Database& db, const ExportSelection& which, const std::string& out_path,
                                    bool overwrite, ExportFailure* why) {
  if (why) *why = ExportFailure::none;
  std::error_code ec;
  if (std::filesystem::equivalent(out_path, db.path(), ec)) {
    return fail(why, ExportFailure::output_is_database, out_path + " is the database itself");
  }
  auto known = check_id(db, "SELECT 1 FROM captures WHERE id = ?", which.capture, "capture");
  if (known) known = check_id(db, "SELECT 1 FROM sessions WHERE session_id = ?", which.session, "session");
  if (known) known = check_id(db, "SELECT 1 FROM channels WHERE id = ?", which.channel, "channel");
  if (!known) return fail(why, ExportFailure::unknown_id, known.error().message);
  // One read transaction: a store still being imported into is exported as one
  // consistent snapshot (its rows and chunks as of now).
  if (auto r = db.exec("BEGIN"); !r) return fail(why, ExportFailure::database, r.error().message);
  std::vector<Cell> params;
  auto rows = db.query(
      "SELECT c.id, c.client, c.server, coalesce(c.type_name, ''), coalesce(c.first_ts_ns, 0), "
      "coalesce(c.last_ts_ns, 0), c.tls, EXISTS (SELECT 1 FROM chunks k WHERE k.channel = c.id) "
      "FROM channels c LEFT JOIN sessions s ON s.id = c.session" +
          where(which, params) + " ORDER BY c.id",
      params);
  if (!rows) return fail(why, ExportFailure::database, rows.error().message);

  ExportSummary summary;
  summary.linktype = capture::kLinktypeRaw;
  std::vector<ChannelRow> channels;
  for (const auto& r : rows->rows) {
    ChannelRow c;
    c.id = std::get<int64_t>(r[0]);
    if (const auto* s = std::get_if<std::string>(&r[1])) c.client = *s;
    if (const auto* s = std::get_if<std::string>(&r[2])) c.server = *s;
    c.type = std::get<std::string>(r[3]);
    c.first_ts = std::get<int64_t>(r[4]);
    c.last_ts = std::get<int64_t>(r[5]);
    c.tls = std::get<int64_t>(r[6]) != 0;
    c.has_bytes = std::get<int64_t>(r[7]) != 0;
    if (c.has_bytes) channels.push_back(std::move(c));
    else summary.skipped.push_back({c.id, c.type, c.tls});
  }
  if (channels.empty()) {
    if (rows->rows.empty()) return fail(why, ExportFailure::no_match, "no channel matches; nothing written");
    return fail(why, ExportFailure::nothing_stored,
                "none of the " + std::to_string(rows->rows.size()) +
                    " matching channels has stored bytes (TLS channels of a passive capture keep none); "
                    "nothing written");
  }

  auto out = capture::PcapngWriter::create(out_path, overwrite);
  if (!out) {
    return fail(why,
                std::filesystem::exists(out_path, ec) && !overwrite ? ExportFailure::output_exists
                                                                    : ExportFailure::output,
                out.error().message);
  }
  const uint32_t iface = (*out)->add_interface(capture::kLinktypeRaw, capture::kSyntheticSnaplen, "spice-capture export");

  auto written = write_channels(db, channels, **out, iface, summary);
  (void)db.exec("COMMIT");
  if (written) written = (*out)->flush();
  if (!written) {
    const std::string& failure = written.error().message;
    out.value().reset();
    ::unlink(out_path.c_str());  // a half-written capture would mislead whoever opens it
    // The writer's errors name the file; anything else came from the store.
    return fail(why, failure.rfind(out_path, 0) == 0 ? ExportFailure::output : ExportFailure::database,
                failure + "; " + out_path + " removed");
  }
  return summary;
}

}  // namespace sc::store
