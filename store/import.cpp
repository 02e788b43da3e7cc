#include "store/import.hpp"

#include "store/schema.hpp"
#include "store/source_pipeline.hpp"

namespace sc::store {

Result<ImportSummary> import_capture(Database& db, const std::string& path, const capture::ImportOptions& options,
                                     const ImportControl& control) {
  const auto located = [&](const Error& e) { return make_error(db.path() + ": " + e.message); };
  ImportSummary summary;
  {
    auto id = insert_capture(db, {.source = "file", .path = path, .options = options_json(options)});
    if (!id) return located(id.error());
    summary.capture_id = *id;
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
  DecodePipeline pipeline(db, summary.capture_id, options);
  auto progress = [&](uint64_t done, uint64_t total) {
    if (control.progress) control.progress({done, total, pipeline.frames()});
  };
  auto stats = capture::import_file(path, pipeline.sink(), opts, progress);
  if (auto r = pipeline.finish(); !r) return located(r.error());
  if (!stats) {
    forget();
    return stats.error();
  }
  summary.stats = *stats;
  summary.messages = pipeline.messages();
  summary.problems = pipeline.problems();
  summary.interrupted = control.cancel && control.cancel->load();
  if (stats->spice_connections == 0) {
    forget();
    summary.no_spice = true;
    return summary;
  }

  if (auto r = db.exec("BEGIN"); !r) return located(r.error());
  const CaptureEnd end{.status = summary.interrupted ? "interrupted" : "complete",
                       .linktype = stats->linktype,
                       .file_bytes = stats->file_bytes,
                       .packets = stats->packets,
                       .first_ts_ns = stats->first_ts_ns,
                       .last_ts_ns = stats->last_ts_ns,
                       .truncated = stats->truncated,
                       .skipped_tcp = stats->skipped_tcp_connections};
  if (auto r = update_capture(db, summary.capture_id, end); !r) return located(r.error());
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
