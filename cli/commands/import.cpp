// spice-capture import: capture files into the store.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <optional>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/output.hpp"
#include "cli/stop_signal.hpp"
#include "dissect/schema/secrets.hpp"
#include "store/import.hpp"

namespace sc::cli {

namespace {

struct ImportArgs {
  std::vector<std::string> files;
  std::string db = "spice-capture.db";
  std::vector<uint16_t> ports;
  bool json = false;
  bool quiet = false;
  std::optional<std::string> redact;  // secret classes, "all" when --redact has no value
  bool progress = false;
  bool images = false;
};

// One line on a terminal, rewritten in place: done, rate, ETA.
class ProgressLine {
 public:
  ProgressLine(std::string file, bool enabled) : file_(std::move(file)), status_(enabled) {}

  void update(const store::ImportProgress& p) {
    if (!status_.enabled()) return;
    const auto now = std::chrono::steady_clock::now();
    if (status_.shown() && now - last_ < std::chrono::milliseconds(200) && p.bytes_done < p.bytes_total) return;
    last_ = now;
    const double s = std::chrono::duration<double>(now - start_).count();
    // A pipe or FIFO has no size: bytes and rate, without percentage or ETA.
    std::string line = "importing " + file_ + ": " +
                       (p.bytes_total ? std::to_string(p.bytes_done * 100 / p.bytes_total) + "% (" +
                                            human_bytes(p.bytes_done) + " of " + human_bytes(p.bytes_total) + ")"
                                      : human_bytes(p.bytes_done));
    if (s > 0.5) {
      const double rate = p.bytes_done / s;
      line += ", " + human_bytes(static_cast<uint64_t>(rate)) + "/s, " +
              std::to_string(static_cast<uint64_t>(p.messages / s)) + " messages/s";
      if (rate > 0 && p.bytes_done < p.bytes_total) {
        line += ", ETA " + human_duration_ns(static_cast<uint64_t>((p.bytes_total - p.bytes_done) / rate * 1e9));
      }
    }
    status_.show(line);
  }
  void clear() { status_.clear(); }

 private:
  std::string file_;
  StatusLine status_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now(), last_;
};

// What import left out, and what the user can do about it.
void explain_skipped(const std::string& f, const capture::ImportStats& st) {
  if (st.tls_connections) {
    std::cerr << "spice-capture import: " << f << ": " << st.tls_connections
              << " SPICE channel(s) are TLS-encrypted and listed without their messages (see `channels`); "
                 "a passive capture cannot decode TLS: record through `spice-capture record` instead\n";
  }
  for (const auto& t : st.tls_ports) {
    std::cerr << "spice-capture import: " << f << ": " << t.connections << " TLS connection(s) to port " << t.port
              << ": if that is SPICE over TLS, --port " << t.port
              << " lists them; to decode them, record through `spice-capture record`\n";
  }
  if (st.skipped_tcp_connections) {
    std::cerr << "spice-capture import: " << f << ": skipped " << st.skipped_tcp_connections
              << " TCP connection(s) that are not SPICE";
    if (!st.skipped_ports.empty()) {
      std::cerr << " (server ports";
      for (const auto& p : st.skipped_ports) std::cerr << ' ' << p.port;
      std::cerr << "); if one of them is a SPICE session that started before the capture, name it with --port";
    }
    std::cerr << '\n';
  }
}

int run_import(ImportArgs a) {
  schema::SecretMask redact = schema::kSecretNone;
  if (a.redact) {
    std::string error;
    auto mask = schema::parse_secret_classes(a.redact->empty() ? "all" : *a.redact, error);
    // `--redact FILE`: the option took the capture as its value.
    if (!mask && std::filesystem::exists(*a.redact)) {
      a.files.insert(a.files.begin(), *a.redact);
      mask = schema::kSecretAll;
    }
    if (!mask) {
      std::cerr << "spice-capture import: --redact: " << error << '\n';
      return kExitUsage;
    }
    redact = *mask;
  }
  if (a.files.empty()) {
    std::cerr << "spice-capture import: no capture file given (see --help)\n";
    return kExitUsage;
  }
  for (const auto& f : a.files) {
    std::error_code ec;
    if (!std::filesystem::exists(f, ec)) {
      std::cerr << "spice-capture import: " << f << ": no such file\n";
      return kExitInputMissing;
    }
    if (access(f.c_str(), R_OK) != 0) {
      std::cerr << "spice-capture import: " << f << ": not readable\n";
      return kExitInputMissing;
    }
  }
  auto db = store::Database::open(a.db, store::Database::Mode::ReadWrite);
  if (!db) {
    std::cerr << "spice-capture import: " << db.error().message << '\n';
    return kExitDatabase;
  }
  // Ctrl-C (or a TERM from a script) stops reading; what was decoded is committed.
  const std::atomic<bool>& stop = stop_on_signals();
  const bool show_progress = !a.quiet && !a.json && (a.progress || isatty(STDERR_FILENO));
  capture::ImportOptions options;
  options.ports = a.ports;
  options.redact = redact;
  options.images = a.images;
  nlohmann::json report = nlohmann::json::array();
  int exit_code = kExitOk;
  for (const auto& f : a.files) {
    if (stop.load()) break;
    ProgressLine line(f, show_progress);
    store::ImportControl control{.progress = [&](const store::ImportProgress& p) { line.update(p); },
                                 .cancel = &stop};
    auto r = store::import_capture(*db, f, options, control);
    line.clear();
    if (!r) {
      const bool db_error = r.error().message.rfind(a.db + ":", 0) == 0;
      std::cerr << "spice-capture import: " << r.error().message << '\n';
      return db_error ? kExitDatabase : kExitNotCapture;
    }
    const auto& s = *r;
    if (s.no_spice) {
      std::cerr << "spice-capture import: " << f << ": no SPICE connection found (" << s.stats.tcp_connections
                << " TCP connections, " << s.stats.packets << " packets)\n";
      explain_skipped(f, s.stats);
      if (s.stats.skipped_tcp_connections == 0 && s.stats.tls_connections == 0) {
        std::cerr << "  if the capture starts mid-session, name the server port with --port\n";
      }
      exit_code = kExitNoSpice;
      continue;
    }
    if (!a.quiet) explain_skipped(f, s.stats);
    if (s.stats.truncated) {
      std::cerr << "spice-capture import: " << f << ": truncated capture file; imported the " << s.stats.packets
                << " packets before the cut\n";
      exit_code = kExitTruncated;
    }
    if (s.interrupted) {
      std::cerr << "spice-capture import: interrupted; kept what was read of " << f << " (" << s.messages
                << " messages, capture " << s.capture_id << " marked 'interrupted')\n";
      exit_code = kExitInterrupted;
    }
    if (a.json) {
      report.push_back({{"file", f},
                        {"capture_id", s.capture_id},
                        {"packets", s.stats.packets},
                        {"spice_connections", s.stats.spice_connections},
                        {"tls_connections", s.stats.tls_connections},
                        {"inferred_midstream", s.stats.inferred_midstream},
                        {"skipped_tcp_connections", s.stats.skipped_tcp_connections},
                        {"messages", s.messages},
                        {"problems", s.problems},
                        {"truncated", s.stats.truncated},
                        {"interrupted", s.interrupted}});
    } else if (!a.quiet) {
      std::cout << f << ": capture " << s.capture_id << ", " << s.stats.packets << " packets, "
                << s.stats.spice_connections << " SPICE channels, " << s.messages << " messages, " << s.problems
                << " problems -> " << a.db << '\n';
    }
  }
  if (stop.load() && exit_code == kExitOk) exit_code = kExitInterrupted;
  if (a.json) std::cout << report.dump(2) << '\n';
  return exit_code;
}

}  // namespace

void register_import(CLI::App& app) {
  auto args = std::make_shared<ImportArgs>();
  auto* cmd = app.add_subcommand("import", "Decode capture files (pcap/pcapng) into the SQLite store");
  cmd->footer(
      "Every TCP connection whose client starts with the SPICE magic REDQ is decoded,\n"
      "on any port. Connections to the same server port that started before the capture\n"
      "are decoded mid-session automatically; a capture with no complete connection at\n"
      "all needs the server port (--port). TLS channels are listed, not decoded: record\n"
      "them through `spice-capture record` to see inside.\n\n"
      "With --images every image the display channels carry is decoded, with the\n"
      "client's caches and GLZ dictionary, into the images table (codec, sizes, cache\n"
      "operation, status), and a bad image is a problem row naming its message and\n"
      "offset. It is off by default because it can double the import time (a text\n"
      "console sends an image per glyph); `render` and `images` decode on demand.\n\n"
      "The database can be queried while an import runs (it commits every second).\n"
      "Ctrl-C stops the import and keeps what was read (the capture is marked\n"
      "'interrupted').\n\n"
      "Examples:\n"
      "  spice-capture import session.pcap --db session.db\n"
      "  spice-capture import late-start.pcapng --port 5930 --db s.db\n"
      "  spice-capture import a.pcap b.pcap --json\n"
      "  spice-capture import display.pcap --images --db s.db   # then: SELECT type, count(*) FROM images GROUP BY 1\n"
      "  spice-capture import customer.pcap --redact --db shareable.db\n"
      "  spice-capture import support.pcap --redact=clipboard,files --db s.db\n\n"
      "Exit codes: 0 ok, 3 file missing/unreadable, 4 not a capture, 5 no SPICE,\n"
      "6 truncated capture (readable part imported), 7 database error,\n"
      "130 interrupted (what was read is kept).");
  // Checked in run_import: `--redact FILE` may have taken the only file as its value.
  cmd->add_option("files", args->files, "Capture files to import");
  cmd->add_option("--db", args->db, "Database file (created if missing)")->envname("SPICE_CAPTURE_DB");
  cmd->add_option("-p,--port", args->ports, "Server port(s) to decode even without a link stage");
  cmd->add_option("--redact", args->redact,
                  "Store secrets blanked (zero bytes). Alone: all of them. With =CLASSES (comma list): only "
                  "those of " + schema::secret_class_list() +
                  ". Clipboard and file redaction keeps sizes and SHA-256 hashes, and blanks main.agent_data "
                  "whole in the stored stream")
      ->expected(0, 1);
  cmd->add_flag("--json", args->json, "Print a JSON summary per file");
  cmd->add_flag("--images", args->images, "Decode display images into the images table (and bad ones into problems)");
  cmd->add_flag("--progress", args->progress, "Show progress even when stderr is not a terminal");
  cmd->add_flag("-q,--quiet", args->quiet, "Print nothing but errors (no progress)");
  cmd->callback([args] { throw CLI::RuntimeError(run_import(*args)); });
}

}  // namespace sc::cli
