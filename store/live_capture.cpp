#include "store/live_capture.hpp"

#include "store/source_pipeline.hpp"

namespace sc::store {

namespace {

uint64_t wall_ns() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

}  // namespace

Result<LiveSummary> capture_live(Database& db, capture::PacketSource& source, const std::string& filter,
                                 const capture::ImportOptions& options, const LiveControl& control) {
  const auto located = [&](const Error& e) { return make_error(db.path() + ": " + e.message); };
  using Clock = std::chrono::steady_clock;
  LiveSummary summary;
  // The row exists from the first moment, with what is known already, so readers
  // can place the capture's sessions (and its relative times) while it runs.
  const uint64_t started_ns = wall_ns();
  {
    auto id = insert_capture(db, {.source = "live",
                                  .path = source.interface(),
                                  .options = options_json(options, filter, source.snaplen()),
                                  .linktype = source.linktype(),
                                  .first_ts_ns = started_ns});
    if (!id) return located(id.error());
    summary.capture_id = *id;
  }

  // No bulk-load index dropping here: the database is queried while it grows.
  DecodePipeline pipeline(db, summary.capture_id, options);
  capture::ImportOptions opts = options;
  opts.cancel = control.cancel;
  capture::Importer importer(pipeline.sink(), opts);
  const uint32_t saved_interface =
      control.save ? control.save->add_interface(source.linktype(), static_cast<uint32_t>(source.snaplen()),
                                                 source.interface())
                   : 0;

  const auto start = Clock::now();
  auto next_flush = start + control.flush_interval;
  const auto report = [&](Clock::time_point now) {
    if (!control.progress) return;
    LiveProgress p;
    p.packets = importer.stats().packets;
    p.bytes = summary.bytes;
    p.messages = pipeline.frames();
    p.spice_connections = importer.stats().spice_connections;
    p.elapsed = now - start;
    if (auto c = source.stats()) p.counters = *c;
    control.progress(p);
  };
  const auto stop_requested = [&](Clock::time_point now) {
    if (control.cancel && control.cancel->load(std::memory_order_relaxed)) return true;
    if (control.duration.count() > 0 && now - start >= control.duration) return true;
    return control.max_packets > 0 && importer.stats().packets >= control.max_packets;
  };

  capture::Packet p;
  for (;;) {
    auto now = Clock::now();
    if (stop_requested(now)) break;
    const auto status = source.read(p);
    if (status == capture::PacketSource::ReadStatus::packet) {
      importer.add_packet(source.linktype(), p);
      summary.bytes += p.data.size();
      if (control.save) {
        if (auto w = control.save->write_packet(saved_interface, p.ts_ns, p.data, p.original_length); !w) {
          summary.save_error = w.error().message;
          break;
        }
      }
    } else if (status != capture::PacketSource::ReadStatus::timeout) {
      // A live source only ends when the interface goes away (or is broken out of).
      summary.read_error = source.read_error().empty() ? "interface " + source.interface() + ": capture ended"
                                                       : "interface " + source.interface() + ": " + source.read_error();
      break;
    }
    now = Clock::now();
    if (now >= next_flush) {
      // Quiet traffic never fills a batch: hand it over so it is committed within a second.
      pipeline.flush();
      if (control.save) {
        if (auto f = control.save->flush(); !f) {
          summary.save_error = f.error().message;
          break;
        }
      }
      report(now);
      next_flush = now + control.flush_interval;
    }
  }
  const uint64_t stopped_ns = wall_ns();
  summary.elapsed = Clock::now() - start;
  // Counters before anything else closes: they are libpcap's, of this handle.
  if (auto c = source.stats()) summary.counters = *c;
  if (control.save && summary.save_error.empty()) {
    if (auto f = control.save->flush(); !f) summary.save_error = f.error().message;
  }

  importer.finish();
  if (auto r = pipeline.finish(); !r) return located(r.error());
  summary.stats = importer.stats();
  summary.stats.linktype = source.linktype();
  summary.messages = pipeline.messages();
  summary.problems = pipeline.problems();
  report(Clock::now());

  const CaptureEnd end{.status = summary.interrupted() ? "interrupted" : "complete",
                       .linktype = source.linktype(),
                       .packets = summary.stats.packets,
                       .first_ts_ns = started_ns,
                       .last_ts_ns = stopped_ns,
                       .skipped_tcp = summary.stats.skipped_tcp_connections,
                       .counters = summary.counters};
  if (auto r = db.exec("BEGIN"); !r) return located(r.error());
  if (auto r = update_capture(db, summary.capture_id, end); !r) {
    (void)db.exec("ROLLBACK");
    return located(r.error());
  }
  if (auto r = db.exec("COMMIT"); !r) return located(r.error());
  return summary;
}

}  // namespace sc::store
