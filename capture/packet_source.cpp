#include "capture/packet_source.hpp"

#include <cstdio>
#include <filesystem>

namespace sc::capture {

Result<std::unique_ptr<PacketSource>> PacketSource::open_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return make_error(path + ": no such file");
  if (std::filesystem::is_directory(path, ec)) return make_error(path + ": is a directory, not a capture file");
  char err[PCAP_ERRBUF_SIZE] = {};
  // Nanosecond precision where the file has it; libpcap scales microsecond files.
  pcap_t* p = pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, err);
  if (!p) {
    std::string why = err;
    if (why.find("unknown file format") != std::string::npos || why.find("bad dump file format") != std::string::npos) {
      return make_error(path + ": not a pcap or pcapng capture file");
    }
    if (why.find("truncated") != std::string::npos) return make_error(path + ": truncated capture file (" + why + ")");
    return make_error(path + ": " + why);
  }
  return std::unique_ptr<PacketSource>(new PacketSource(p));
}

PacketSource::PacketSource(pcap_t* p)
    : pcap_(p), linktype_(pcap_datalink(p)),
      nanosecond_(pcap_get_tstamp_precision(p) == PCAP_TSTAMP_PRECISION_NANO) {}

PacketSource::~PacketSource() { pcap_close(pcap_); }

bool PacketSource::next(Packet& out) {
  pcap_pkthdr* hdr = nullptr;
  const u_char* data = nullptr;
  const int rc = pcap_next_ex(pcap_, &hdr, &data);
  if (rc == 1) {
    const uint64_t frac = nanosecond_ ? hdr->ts.tv_usec : static_cast<uint64_t>(hdr->ts.tv_usec) * 1000;
    out.ts_ns = static_cast<uint64_t>(hdr->ts.tv_sec) * 1'000'000'000ull + frac;
    out.data = {data, hdr->caplen};
    out.original_length = hdr->len;
    bytes_read_ += hdr->caplen + 16;
    return true;
  }
  if (rc == PCAP_ERROR) {
    read_error_ = pcap_geterr(pcap_);
    truncated_ = true;  // libpcap reports a file cut inside a record as a read error
  }
  return false;
}

}  // namespace sc::capture
