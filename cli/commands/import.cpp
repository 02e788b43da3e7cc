// spice-capture import: capture files into the store.
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/output.hpp"
#include "store/import_writer.hpp"

namespace sc::cli {

namespace {

struct ImportArgs {
  std::vector<std::string> files;
  std::string db = "spice-capture.db";
  std::vector<uint16_t> ports;
  bool json = false;
  bool quiet = false;
  bool redact = false;
};

int run_import(const ImportArgs& a) {
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
  const bool show_progress = !a.quiet && !a.json && isatty(STDERR_FILENO);
  capture::ImportOptions options;
  options.ports = a.ports;
  options.redact = a.redact;
  nlohmann::json report = nlohmann::json::array();
  int exit_code = kExitOk;
  for (const auto& f : a.files) {
    auto progress = [&](uint64_t done, uint64_t total) {
      if (!show_progress || total == 0) return;
      std::cerr << "\rimporting " << f << ": " << (done * 100 / total) << "% (" << human_bytes(done) << " of "
                << human_bytes(total) << ")" << std::flush;
    };
    auto r = store::import_capture(*db, f, options, progress);
    if (show_progress) std::cerr << "\r\033[K" << std::flush;
    if (!r) {
      const bool db_error = r.error().message.rfind(a.db + ":", 0) == 0;
      std::cerr << "spice-capture import: " << r.error().message << '\n';
      return db_error ? kExitDatabase : kExitNotCapture;
    }
    const auto& s = *r;
    if (s.no_spice) {
      std::cerr << "spice-capture import: " << f << ": no SPICE connection found (" << s.stats.tcp_connections
                << " TCP connections, " << s.stats.packets
                << " packets); if the capture starts mid-session, name the server port with --port\n";
      exit_code = kExitNoSpice;
      continue;
    }
    if (s.stats.truncated) {
      std::cerr << "spice-capture import: " << f << ": truncated capture file; imported the " << s.stats.packets
                << " packets before the cut\n";
      exit_code = kExitTruncated;
    }
    if (a.json) {
      report.push_back({{"file", f},
                        {"capture_id", s.capture_id},
                        {"packets", s.stats.packets},
                        {"spice_connections", s.stats.spice_connections},
                        {"messages", s.messages},
                        {"problems", s.problems},
                        {"truncated", s.stats.truncated}});
    } else if (!a.quiet) {
      std::cout << f << ": capture " << s.capture_id << ", " << s.stats.packets << " packets, "
                << s.stats.spice_connections << " SPICE channels, " << s.messages << " messages, " << s.problems
                << " problems -> " << a.db << '\n';
    }
  }
  if (a.json) std::cout << report.dump(2) << '\n';
  return exit_code;
}

}  // namespace

void register_import(CLI::App& app) {
  auto args = std::make_shared<ImportArgs>();
  auto* cmd = app.add_subcommand("import", "Decode capture files (pcap/pcapng) into the SQLite store");
  cmd->footer(
      "Every TCP connection whose client starts with the SPICE magic REDQ is decoded,\n"
      "on any port. Captures that start mid-session need the server port (--port) so\n"
      "framing can infer the channel and resynchronise.\n\n"
      "Examples:\n"
      "  spice-capture import session.pcap --db session.db\n"
      "  spice-capture import late-start.pcapng --port 5930 --db s.db\n"
      "  spice-capture import a.pcap b.pcap --json\n"
      "  spice-capture import customer.pcap --redact --db shareable.db\n\n"
      "Exit codes: 0 ok, 3 file missing/unreadable, 4 not a capture, 5 no SPICE,\n"
      "6 truncated capture (readable part imported), 7 database error.");
  cmd->add_option("files", args->files, "Capture files to import")->required();
  cmd->add_option("--db", args->db, "Database file (created if missing)")->envname("SPICE_CAPTURE_DB");
  cmd->add_option("-p,--port", args->ports, "Server port(s) to decode even without a link stage");
  cmd->add_flag("--redact", args->redact,
                "Store keystrokes, clipboard and agent data, device streams (files, USB), microphone audio, "
                "smartcard APDUs and password blobs blanked: zero bytes in raw, null in fields");
  cmd->add_flag("--json", args->json, "Print a JSON summary per file");
  cmd->add_flag("-q,--quiet", args->quiet, "Print nothing but errors");
  cmd->callback([args] { throw CLI::RuntimeError(run_import(*args)); });
}

}  // namespace sc::cli
