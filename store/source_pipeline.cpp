#include "store/source_pipeline.hpp"

#include "dissect/decode/json.hpp"

namespace sc::store {

namespace {

std::string options_head(const capture::ImportOptions& o) {
  std::string j = "{\"ports\":[";
  for (size_t i = 0; i < o.ports.size(); ++i) j += (i ? "," : "") + std::to_string(o.ports[i]);
  // "redact" says whether anything was blanked; "redact_classes" which classes (schema::SecretClass).
  return j + "],\"redact\":" + (o.redact ? "true" : "false") + ",\"redact_classes\":" + std::to_string(o.redact);
}

}  // namespace

std::string options_json(const capture::ImportOptions& options) { return options_head(options) + "}"; }

std::string options_json(const capture::ImportOptions& options, std::string_view filter, int snaplen) {
  std::string j = options_head(options) + ",\"filter\":";
  decode::append_json_string(j, filter);
  return j + ",\"snaplen\":" + std::to_string(snaplen) + "}";
}

Result<int64_t> insert_capture(Database& db, const CaptureStart& start) {
  Statement ins(db.handle(),
                "INSERT INTO captures (source, path, options, linktype, first_ts_ns) VALUES (?1, ?2, ?3, ?4, ?5)");
  ins.bind(1, start.source).bind(2, start.path).bind(3, start.options);
  if (start.linktype) ins.bind(4, int64_t{*start.linktype});
  else ins.bind_null(4);
  if (start.first_ts_ns) ins.bind(5, static_cast<int64_t>(*start.first_ts_ns));
  else ins.bind_null(5);
  if (auto r = ins.step(); !r) return r.error();
  return sqlite3_last_insert_rowid(db.handle());
}

Result<void> update_capture(Database& db, int64_t capture_id, const CaptureEnd& end) {
  Statement upd(db.handle(),
                "UPDATE captures SET linktype=?2, file_bytes=?3, packets=?4, first_ts_ns=?5, last_ts_ns=?6, "
                "truncated=?7, status=?8, skipped_tcp=?9, received=?10, kernel_drops=?11, interface_drops=?12 "
                "WHERE id=?1");
  upd.bind(1, capture_id)
      .bind(2, int64_t{end.linktype})
      .bind(4, static_cast<int64_t>(end.packets))
      .bind(5, static_cast<int64_t>(end.first_ts_ns))
      .bind(6, static_cast<int64_t>(end.last_ts_ns))
      .bind(7, int64_t{end.truncated})
      .bind(8, end.status)
      .bind(9, static_cast<int64_t>(end.skipped_tcp));
  if (end.file_bytes) upd.bind(3, static_cast<int64_t>(*end.file_bytes));
  else upd.bind_null(3);
  if (end.counters) {
    upd.bind(10, static_cast<int64_t>(end.counters->received))
        .bind(11, static_cast<int64_t>(end.counters->kernel_drops))
        .bind(12, static_cast<int64_t>(end.counters->interface_drops));
  } else {
    upd.bind_null(10).bind_null(11).bind_null(12);
  }
  if (auto r = upd.step(); !r) return r.error();
  return {};
}

DecodePipeline::DecodePipeline(Database& db, int64_t capture_id, const capture::ImportOptions& options)
    : writer_(db, capture_id, WriterOptions{.redact = options.redact, .images = options.images}), fanout_({&writer_, &counter_}) {}

namespace {
std::vector<capture::FrameConsumer*> with(capture::FrameConsumer* a, capture::FrameConsumer* b,
                                          const std::vector<capture::FrameConsumer*>& more) {
  std::vector<capture::FrameConsumer*> all = {a, b};
  all.insert(all.end(), more.begin(), more.end());
  return all;
}
}  // namespace

DecodePipeline::DecodePipeline(Database& db, int64_t capture_id, const WriterOptions& writer,
                               const std::vector<capture::FrameConsumer*>& more)
    : writer_(db, capture_id, writer), fanout_(with(&writer_, &counter_, more)) {}

Result<void> DecodePipeline::finish() {
  fanout_.finish();
  writer_.finish();
  return writer_.status();
}

}  // namespace sc::store
