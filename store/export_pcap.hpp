#pragma once
// `spice-capture export-pcap`: stored channels written back out as a pcapng
// capture, each channel one synthetic TCP connection (capture/synthetic_tcp.hpp)
// between its recorded endpoints, so that Wireshark, tshark with our plugin and
// our own import read the same messages from it, whatever the store's source was
// (a capture, the proxy).
//
// The store is read in one transaction (a store still being imported into is
// exported as one consistent snapshot). Packets of all channels go out in time
// order (ties: the store's message order); bytes the store never had stay lost
// (the sequence numbers skip them). A channel without a usable address pair is
// exported between 10.x stand-ins; channels overlapping in time on one 4-tuple
// get the next free client port.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/database.hpp"

namespace sc::store {

// The channels to export: those matching every filter given (none: all of them).
struct ExportSelection {
  std::optional<int64_t> capture;  // captures.id
  std::optional<int64_t> session;  // SPICE session id (sessions.session_id)
  std::optional<int64_t> channel;  // channels.id
  std::string type;                // channel type name; empty: any
};

// A matching channel that was left out: it has no stored bytes.
struct SkippedChannel {
  int64_t channel = 0;
  std::string type;  // channel type name, empty if unknown
  bool tls = false;  // a TLS channel of a passive capture (the reason it has none)
};

struct ExportSummary {
  int linktype = 0;                    // of the file's one interface (LINKTYPE_RAW)
  uint64_t channels = 0;               // written, one TCP connection each
  uint64_t packets = 0;                // every packet, handshakes and ACKs included
  uint64_t bytes = 0;                  // stream bytes carried, both directions
  uint64_t gaps = 0, gap_bytes = 0;    // bytes the store lacks, kept as lost segments
  uint64_t made_up_addresses = 0;      // channels exported between 10.x stand-ins
  uint64_t renumbered_ports = 0;       // channels whose client port was moved off a busy 4-tuple
  std::vector<SkippedChannel> skipped;  // in channel order
};

// Why an export failed, for exit codes; the error's message says it in words.
enum class ExportFailure {
  none,
  output_is_database,  // out_path is the database file itself
  unknown_id,          // a capture, session or channel id the store does not have
  no_match,            // no channel matches the selection
  nothing_stored,      // channels match, but none has stored bytes
  output_exists,       // out_path exists and overwrite is false
  output,              // out_path cannot be created or written
  database,            // reading the store failed
};

// Writes the selected channels to out_path as pcapng. Errors are one located line
// (which id, which file, which channel and message). A failure while packets are
// being written removes out_path (a half-written capture would mislead whoever
// opens it); an existing file refused without overwrite is left untouched. `why`,
// when given, says which kind of failure it was.
Result<ExportSummary> export_pcapng(Database& db, const ExportSelection& which, const std::string& out_path,
                                    bool overwrite, ExportFailure* why = nullptr);

}  // namespace sc::store
