// export-pcap: the options of store::export_pcapng (store/export_pcap.hpp), which
// writes stored channels back out as a pcapng capture, and its summary as text or JSON.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/filters.hpp"
#include "cli/output.hpp"
#include "store/export_pcap.hpp"

namespace sc::cli {
namespace {

struct ExportArgs {
  Filters f;
  std::string out;
  bool force = false;
};

int exit_code_for(store::ExportFailure why) {
  switch (why) {
    case store::ExportFailure::output_is_database:
    case store::ExportFailure::unknown_id:
    case store::ExportFailure::no_match:
    case store::ExportFailure::output_exists: return kExitUsage;
    case store::ExportFailure::nothing_stored: return kExitIncomplete;
    case store::ExportFailure::output: return kExitInputMissing;
    case store::ExportFailure::none:
    case store::ExportFailure::database: break;
  }
  return kExitDatabase;
}

void print_summary(const std::string& out, const store::ExportSummary& s, bool json) {
  if (json) {
    nlohmann::ordered_json j = {{"output", out},
                                {"linktype", s.linktype},
                                {"channels", s.channels},
                                {"packets", s.packets},
                                {"bytes", s.bytes},
                                {"gaps", s.gaps},
                                {"gap_bytes", s.gap_bytes},
                                {"skipped", s.skipped.size()},
                                {"skipped_channels", nlohmann::ordered_json::array()}};
    for (const auto& c : s.skipped) {
      j["skipped_channels"].push_back(
          {{"channel", c.channel}, {"type", c.type}, {"reason", c.tls ? "tls" : "no stored bytes"}});
    }
    if (s.made_up_addresses) j["made_up_addresses"] = s.made_up_addresses;
    if (s.renumbered_ports) j["renumbered_ports"] = s.renumbered_ports;
    std::cout << j.dump(2) << '\n';
    return;
  }
  std::cout << out << ": " << s.channels << " channel" << (s.channels == 1 ? "" : "s") << ", " << s.packets
            << " packets, " << s.bytes << " stream bytes (" << human_bytes(s.bytes) << "), " << s.skipped.size()
            << " skipped";
  if (!s.skipped.empty()) {
    size_t tls = 0;
    for (const auto& c : s.skipped) tls += c.tls;
    std::cout << " (" << tls << " TLS, without stored bytes)";
  }
  std::cout << '\n';
  if (s.gaps) {
    std::cout << s.gaps << " capture gap" << (s.gaps == 1 ? "" : "s") << " (" << s.gap_bytes
              << " bytes) kept as lost segments at their stream offsets\n";
  }
  if (s.made_up_addresses) {
    std::cout << s.made_up_addresses << " channel(s) had no usable address pair: exported between 10.x stand-ins\n";
  }
  if (s.renumbered_ports) {
    std::cout << s.renumbered_ports
              << " channel(s) shared a 4-tuple with an overlapping one: client port renumbered\n";
  }
}

int run_export(const ExportArgs& a) {
  const Filters& f = a.f;
  auto db = open_for_query(f.db);
  const store::ExportSelection which{f.capture, f.session, f.channel, f.type};
  store::ExportFailure why = store::ExportFailure::none;
  auto summary = store::export_pcapng(db, which, a.out, a.force, &why);
  if (!summary) {
    std::cerr << "spice-capture export-pcap: " << summary.error().message << '\n';
    return exit_code_for(why);
  }
  print_summary(a.out, *summary, f.json);
  return kExitOk;
}

}  // namespace

void register_export_pcap(CLI::App& app) {
  auto a = std::make_shared<ExportArgs>();
  auto* cmd = app.add_subcommand("export-pcap", "Write stored channels as a pcapng capture (synthetic TCP/IP)");
  cmd->footer(
      "Each stored channel becomes one TCP connection between its recorded client and\n"
      "server addresses (raw IPv4/IPv6 packets, LINKTYPE_RAW): handshake at its first\n"
      "timestamp, its stream bytes in segments of at most 16 KiB stamped with the time\n"
      "of the message they carry, FIN both ways at its end. Wireshark, tshark (built-in\n"
      "dissector or our spicecap plugin) and `spice-capture import` read it back to the\n"
      "same messages; a store recorded by the proxy (decrypted TLS) exports the same way.\n"
      "Bytes the original capture lost stay lost: the sequence numbers skip them, so a\n"
      "re-import reports the gap at the same offset. Channels without stored bytes (TLS\n"
      "channels of a passive capture) are skipped and counted. A store imported with\n"
      "--redact exports the redacted bytes as the zeros it holds.\n\n"
      "Examples:\n"
      "  spice-capture export-pcap --db s.db -o s.pcapng\n"
      "  spice-capture export-pcap --db s.db --session 869102706 -o one.pcapng --force\n"
      "  spice-capture export-pcap --db rec.db -o rec.pcapng && tshark -r rec.pcapng -Y spicecap -O spicecap");
  a->f.add_common(cmd);
  a->f.add_channel(cmd);
  cmd->add_option("-o,--output", a->out, "The pcapng file to write")->required();
  cmd->add_flag("--force", a->force, "Overwrite the output file if it exists");
  cmd->callback([a] { throw CLI::RuntimeError(run_export(*a)); });
}

}  // namespace sc::cli
