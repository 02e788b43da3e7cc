#include "store/import.hpp"

#include "capture/decode_fanout.hpp"
#include "store/schema.hpp"
#include "store/store_writer.hpp"

namespace sc::store {

namespace {

// Counts frames on the decoding thread, for progress lines.
struct FrameCounter : capture::FrameConsumer {
  void on_frame(const capture::ConnectionInfo&, const framing::Frame&, const framing::ChannelState&,
                const decode::DecodedFrame&) override {
    frames.fetch_add(1, std::memory_order_relaxed);
  }
  std::atomic<uint64_t> frames{0};
};

std::string options_json(const capture::ImportOptions& options) {
  std::string opts = "{\"ports\":[";
  for (size_t i = 0; i < options.ports.size(); ++i) opts += (i ? "," : "") + std::to_string(options.ports[i]);
  // "redact" says whether anything was blanked; "redact_classes" which classes (schema::SecretClass).
  return opts + std::string("],\"redact\":") + (options.redact ? "true" : "false") +
         ",\"redact_classes\":" + std::to_string(options.redact) + "}";
}

}  // namespace

Result<ImportSummary> import_capture(Database& db, const std::string& path, const capture::ImportOptions& options,
                                     const ImportControl& control) {
  const auto located = [&](const Error& e) { return make_error(db.path() + ": " + e.message); };
  ImportSummary summary;
  {
    Statement ins(db.handle(), "INSERT INTO captures (source, path, options) VALUES ('file', ?1, ?2)");
    ins.bind(1, path).bind(2, options_json(options));
    if (auto r = ins.step(); !r) return located(r.error());
    summary.capture_id = sqlite3_last_insert_rowid(db.handle());
  }
  // A capture that turns out to be unreadable or without SPICE leaves nothing behind.
  auto forget = [&] {
    Statement del(db.handle(), "DELETE FROM captures WHERE id = ?1");
    del.bind(1, summary.capture_id);
    (void)del.step();
  };

  // Into an empty store, the message indexes are built once at the end, whatever
  // way the import ends (readers during the import get correct but unindexed answers).
  const bool bulk = [&] {
    auto t = db.query("SELECT NOT EXISTS (SELECT 1 FROM message_rows)");
    return t && std::get<int64_t>(t->rows[0][0]) == 1;
  }();
  if (bulk) (void)db.exec(drop_message_indexes_sql());
  struct Reindex {
    Database& db;
    bool on;
    ~Reindex() {
      if (on) (void)db.exec(message_indexes_sql());
    }
  } reindex{db, bulk};

  capture::ImportOptions opts = options;
  opts.cancel = control.cancel;
  FrameCounter counter;
  StoreWriter writer(db, summary.capture_id, WriterOptions{.redact = options.redact});
  capture::DecodeFanout fanout({&writer, &counter});
  auto progress = [&](uint64_t done, uint64_t total) {
    if (control.progress) control.progress({done, total, counter.frames.load(std::memory_order_relaxed)});
  };
  auto stats = capture::import_file(path, fanout, opts, progress);
  fanout.finish();
  writer.finish();
  if (!writer.status()) return located(writer.status().error());
  if (!stats) {
    forget();
    return stats.error();
  }
  summary.stats = *stats;
  summary.messages = writer.messages();
  summary.problems = writer.problems();
  summary.interrupted = control.cancel && control.cancel->load();
  if (stats->spice_connections == 0) {
    forget();
    summary.no_spice = true;
    return summary;
  }

  if (auto r = db.exec("BEGIN"); !r) return located(r.error());
  Statement upd(db.handle(),
                "UPDATE captures SET linktype=?2, file_bytes=?3, packets=?4, first_ts_ns=?5, last_ts_ns=?6, "
                "truncated=?7, status=?8 WHERE id=?1");
  upd.bind(1, summary.capture_id)
      .bind(2, int64_t{stats->linktype})
      .bind(3, static_cast<int64_t>(stats->file_bytes))
      .bind(4, static_cast<int64_t>(stats->packets))
      .bind(5, static_cast<int64_t>(stats->first_ts_ns))
      .bind(6, static_cast<int64_t>(stats->last_ts_ns))
      .bind(7, int64_t{stats->truncated})
      .bind(8, summary.interrupted ? "interrupted" : "complete");
  if (auto r = upd.step(); !r) return located(r.error());
  if (stats->truncated) {
    Statement p(db.handle(),
                "INSERT INTO problems (capture_id, severity, code, text) VALUES (?1, 'error', 'truncated_file', ?2)");
    p.bind(1, summary.capture_id).bind(2, path + ": capture file ends inside a packet (" + stats->read_error + ")");
    if (auto r = p.step(); !r) return located(r.error());
    ++summary.problems;
  }
  if (auto r = db.exec("COMMIT"); !r) return located(r.error());
  return summary;
}

}  // namespace sc::store
