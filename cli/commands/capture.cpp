// spice-capture capture: live capture from a network interface into the store.
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <optional>
#include <nlohmann/json.hpp>

#include "capture/pcapng_writer.hpp"
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/output.hpp"
#include "cli/stop_signal.hpp"
#include "dissect/schema/secrets.hpp"
#include "store/live_capture.hpp"

namespace sc::cli {

namespace {

struct CaptureArgs {
  std::string interface;
  std::string filter;
  std::string db = "spice-capture.db";
  std::string write;
  bool force = false;
  double duration = 0;
  uint64_t count = 0;
  std::vector<uint16_t> ports;
  std::optional<std::string> redact;  // secret classes, "" when --redact has no value
  int snaplen = 262144;
  // libpcap's 2 MiB default holds only about 32 packets on lo, whose 64 KiB MTU
  // sizes every ring slot: a client opening its channels at once overflows it.
  int buffer_mib = 32;
  bool promiscuous = false;
  bool json = false;
  bool quiet = false;
  bool progress = false;
  bool list = false;
};

constexpr const char* kMe = "spice-capture capture: ";

// One line on a terminal, rewritten in place four times a second.
class ProgressLine {
 public:
  ProgressLine(std::string interface, bool enabled) : interface_(std::move(interface)), status_(enabled) {}

  void update(const store::LiveProgress& p) {
    if (!status_.enabled()) return;
    const double s = std::chrono::duration<double>(p.elapsed).count();
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.1f s", s);
    std::string line = "capturing on " + interface_ + ": " + secs + ", " + std::to_string(p.packets) +
                       " packets, " + human_bytes(p.bytes) + ", " + std::to_string(p.spice_connections) +
                       " SPICE channels, " + std::to_string(p.messages) + " messages";
    const uint64_t dropped = p.counters.kernel_drops + p.counters.interface_drops;
    line += ", " + std::to_string(dropped) + " dropped";
    status_.show(line);
  }
  void clear() { status_.clear(); }

 private:
  std::string interface_;
  StatusLine status_;
};

int list_interfaces(bool json) {
  auto all = capture::list_interfaces();
  if (!all) {
    std::cerr << kMe << all.error().message << '\n';
    return kExitInputMissing;
  }
  if (json) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& i : *all) {
      out.push_back({{"name", i.name},
                     {"description", i.description},
                     {"addresses", i.addresses},
                     {"loopback", i.loopback},
                     {"up", i.up},
                     {"running", i.running}});
    }
    std::cout << out.dump(2) << '\n';
    return kExitOk;
  }
  store::Table t;
  t.columns = {"interface", "state", "addresses", "description"};
  for (const auto& i : *all) {
    std::string addresses;
    for (const auto& a : i.addresses) addresses += (addresses.empty() ? "" : " ") + a;
    std::string state = i.up ? (i.running ? "up" : "up, no link") : "down";
    if (i.loopback) state += ", loopback";
    t.rows.push_back({i.name, state, addresses, i.description});
  }
  print_table(std::cout, t, 80);
  if (all->empty()) {
    std::cerr << kMe << "no interface to capture on (without root or CAP_NET_RAW, libpcap may list none)\n";
  }
  return kExitOk;
}

int run_capture(const CaptureArgs& a) {
  if (a.list) return list_interfaces(a.json);
  if (a.interface.empty()) {
    std::cerr << kMe << "no interface given: -i IFACE (`spice-capture capture --list-interfaces` lists them)\n";
    return kExitUsage;
  }
  capture::ImportOptions options;
  options.ports = a.ports;
  if (a.redact) {
    std::string error;
    auto mask = schema::parse_secret_classes(a.redact->empty() ? "all" : *a.redact, error);
    if (!mask) {
      std::cerr << kMe << "--redact: " << error << '\n';
      return kExitUsage;
    }
    options.redact = *mask;
  }

  // The interface first: a capture that cannot start leaves no database behind.
  capture::LiveOptions live;
  live.filter = a.filter;
  live.snaplen = a.snaplen;
  live.buffer_bytes = a.buffer_mib * (1 << 20);
  live.promiscuous = a.promiscuous;
  capture::LiveFailure why = capture::LiveFailure::none;
  auto source = capture::PacketSource::open_live(a.interface, live, &why);
  if (!source) {
    std::cerr << kMe << source.error().message << '\n';
    return why == capture::LiveFailure::bad_filter ? kExitUsage : kExitInputMissing;
  }
  auto db = store::Database::open(a.db, store::Database::Mode::ReadWrite);
  if (!db) {
    std::cerr << kMe << db.error().message << '\n';
    return kExitDatabase;
  }
  std::unique_ptr<capture::PcapngWriter> save;
  if (!a.write.empty()) {
    auto w = capture::PcapngWriter::create(a.write, a.force);
    if (!w) {
      std::cerr << kMe << "-w: " << w.error().message << '\n';
      return kExitUsage;
    }
    save = std::move(*w);
  }

  // Ctrl-C (or a TERM from a script) is how a capture normally ends.
  const std::atomic<bool>& stop = stop_on_signals();
  const bool show_progress = !a.quiet && !a.json && (a.progress || isatty(STDERR_FILENO));
  if (!a.quiet) {
    std::cerr << "capturing on " << a.interface << (a.filter.empty() ? "" : " (filter '" + a.filter + "')")
              << " into " << a.db << (save ? " and " + a.write : "") << "; Ctrl-C stops\n";
  }
  ProgressLine line(a.interface, show_progress);
  store::LiveControl control;
  control.cancel = &stop;
  control.duration = std::chrono::milliseconds(static_cast<int64_t>(a.duration * 1000));
  control.max_packets = a.count;
  control.save = save.get();
  control.progress = [&](const store::LiveProgress& p) { line.update(p); };
  auto r = store::capture_live(*db, **source, a.filter, options, control);
  line.clear();
  if (!r) {
    std::cerr << kMe << r.error().message << '\n';
    return kExitDatabase;
  }
  const auto& s = *r;
  const uint64_t saved = save ? save->packets() : 0;
  save.reset();  // closes the file before the summary says it is there

  int exit_code = kExitOk;
  if (!s.read_error.empty()) {
    std::cerr << kMe << s.read_error << "; kept what was captured (capture " << s.capture_id
              << " marked 'interrupted')\n";
    exit_code = kExitInputMissing;
  }
  if (!s.save_error.empty()) {
    std::cerr << kMe << a.write << ": " << s.save_error << "; stopped (the database holds what was captured, "
              << "capture " << s.capture_id << " marked 'interrupted')\n";
    exit_code = kExitIncomplete;
  }
  const capture::CaptureStats c = s.counters.value_or(capture::CaptureStats{});
  if (!a.quiet && c.kernel_drops > 0) {
    std::cerr << kMe << c.kernel_drops << " packet(s) dropped by the kernel (the capture buffer was full): "
                 "raise --buffer-size or narrow the filter; SPICE streams have gaps where they were\n";
  }
  if (!a.quiet && s.stats.spice_connections == 0) {
    std::cerr << kMe << "no SPICE connection seen (" << s.stats.packets << " packets, " << s.stats.tcp_connections
              << " TCP connections)";
    if (s.stats.skipped_tcp_connections && !s.stats.skipped_ports.empty()) {
      std::cerr << "; TCP server ports seen:";
      for (const auto& p : s.stats.skipped_ports) std::cerr << ' ' << p.port;
      std::cerr << ": a session that started before the capture needs its server port named with --port";
    }
    std::cerr << '\n';
  }
  const double seconds = std::chrono::duration<double>(s.elapsed).count();
  if (a.json) {
    nlohmann::ordered_json j = {{"capture_id", s.capture_id},
                                {"interface", a.interface},
                                {"filter", a.filter},
                                {"status", s.interrupted() ? "interrupted" : "complete"},
                                {"seconds", seconds},
                                {"packets", s.stats.packets},
                                {"bytes", s.bytes},
                                {"spice_connections", s.stats.spice_connections},
                                {"tls_connections", s.stats.tls_connections},
                                {"skipped_tcp_connections", s.stats.skipped_tcp_connections},
                                {"messages", s.messages},
                                {"problems", s.problems},
                                {"received", c.received},
                                {"kernel_drops", c.kernel_drops},
                                {"interface_drops", c.interface_drops}};
    if (!a.write.empty()) {
      j["pcapng"] = a.write;
      j["pcapng_packets"] = saved;
    }
    std::cout << j.dump(2) << '\n';
  } else if (!a.quiet) {
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.1f s", seconds);
    std::cout << a.interface << ": capture " << s.capture_id << ", " << secs << ", " << s.stats.packets
              << " packets (" << human_bytes(s.bytes) << "), " << s.stats.spice_connections << " SPICE channels, "
              << s.messages << " messages, " << s.problems << " problems -> " << a.db << '\n'
              << "  received " << c.received << ", dropped by kernel " << c.kernel_drops
              << ", dropped by interface " << c.interface_drops << '\n';
    if (!a.write.empty()) std::cout << "  wrote " << saved << " packets to " << a.write << '\n';
  }
  return exit_code;
}

}  // namespace

void register_capture(CLI::App& app) {
  auto args = std::make_shared<CaptureArgs>();
  auto* cmd = app.add_subcommand("capture", "Capture SPICE live from a network interface into the SQLite store");
  cmd->footer(
      "Packets are decoded as they arrive, exactly as `import` decodes a file, into the\n"
      "same store: SPICE is found by the REDQ magic on any port, channels already open\n"
      "when the capture starts need their server port (--port). The database commits\n"
      "at least once a second, so you can query it from another terminal while the\n"
      "capture runs. Ctrl-C (or SIGTERM) ends the capture normally: the summary gives\n"
      "libpcap's counters (received, dropped by the kernel, dropped by the interface),\n"
      "which are also stored in the capture's row. A capture killed outright keeps\n"
      "everything up to its last commit.\n\n"
      "Capturing needs root, or the CAP_NET_RAW and CAP_NET_ADMIN capabilities:\n"
      "  sudo setcap cap_net_raw,cap_net_admin=eip $(command -v spice-capture)\n"
      "Client and server on this machine talk over the loopback interface: -i lo.\n\n"
      "Examples:\n"
      "  spice-capture capture -i lo -f 'tcp port 5900' --db live.db\n"
      "      then, in another terminal while it runs:\n"
      "  spice-capture sessions --db live.db\n"
      "  spice-capture messages --db live.db -n 'inputs.*'\n"
      "  spice-capture capture -i eth0 -f 'host 10.0.0.5 and tcp portrange 5900-5999' -w s.pcapng --db s.db\n"
      "  spice-capture capture -i any --port 5930 --duration 60 --redact --db shareable.db\n"
      "  spice-capture capture --list-interfaces\n\n"
      "Exit codes: 0 ok (also after Ctrl-C), 2 bad command line or filter, 3 no such\n"
      "interface, no permission, or the interface failed while capturing, 7 database\n"
      "error, 8 the -w file could not be written while capturing.");
  cmd->add_option("-i,--interface", args->interface, "Interface to capture on (lo, eth0, any, ...)");
  cmd->add_option("-f,--filter", args->filter,
                  "Capture filter in tcpdump's syntax (pcap-filter(7)), e.g. 'tcp port 5900'");
  cmd->add_option("--db", args->db, "Database file (created if missing)")->envname("SPICE_CAPTURE_DB");
  cmd->add_option("-w,--write", args->write, "Also write every captured packet to this pcapng file");
  cmd->add_flag("--force", args->force, "Overwrite the -w file if it exists");
  cmd->add_option("--duration", args->duration, "Stop after this many seconds")->check(CLI::NonNegativeNumber);
  cmd->add_option("-c,--count", args->count, "Stop after this many packets");
  cmd->add_option("-p,--port", args->ports, "Server port(s) to decode even without a link stage");
  cmd->add_option("--redact", args->redact,
                  "Store secrets blanked (zero bytes). Alone: all of them. With =CLASSES (comma list): only "
                  "those of " + schema::secret_class_list() + ". The -w file is not redacted")
      ->expected(0, 1);
  cmd->add_option("--snaplen", args->snaplen, "Bytes kept of each packet")
      ->check(CLI::Range(64, 262144))
      ->capture_default_str();
  cmd->add_option("--buffer-size", args->buffer_mib,
                  "Kernel capture buffer in MiB; raise it when the kernel drops packets")
      ->check(CLI::Range(1, 2047))
      ->capture_default_str();
  cmd->add_flag("--promiscuous", args->promiscuous, "Put the interface in promiscuous mode");
  cmd->add_flag("--list-interfaces", args->list, "List the interfaces that can be captured on, and exit");
  cmd->add_flag("--json", args->json, "Print a JSON summary at the end");
  cmd->add_flag("--progress", args->progress, "Show progress even when stderr is not a terminal");
  cmd->add_flag("-q,--quiet", args->quiet, "Print nothing but errors (no progress, no summary)");
  cmd->callback([args] { throw CLI::RuntimeError(run_capture(*args)); });
}

}  // namespace sc::cli
