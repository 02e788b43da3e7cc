#include "capture/packet_source.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstdio>
#include <filesystem>

namespace sc::capture {

Result<std::unique_ptr<PacketSource>> PacketSource::open_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return make_error(path + ": no such file");
  if (std::filesystem::is_directory(path, ec)) return make_error(path + ": is a directory, not a capture file");
  char err[PCAP_ERRBUF_SIZE] = {};
  // Nanosecond precision where the file has it; libpcap scales microsecond files.
  Handle p(pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, err));
  if (!p) {
    std::string why = err;
    if (why.find("unknown file format") != std::string::npos || why.find("bad dump file format") != std::string::npos) {
      return make_error(path + ": not a pcap or pcapng capture file");
    }
    if (why.find("truncated") != std::string::npos) return make_error(path + ": truncated capture file (" + why + ")");
    return make_error(path + ": " + why);
  }
  return std::make_unique<PacketSource>(Token{}, std::move(p), false, std::string());
}

namespace {

constexpr const char* kPermissionAdvice =
    "capturing needs root, or the CAP_NET_RAW and CAP_NET_ADMIN capabilities "
    "(`sudo setcap cap_net_raw,cap_net_admin=eip $(command -v spice-capture)`)";

}  // namespace

Result<std::unique_ptr<PacketSource>> PacketSource::open_live(const std::string& interface, const LiveOptions& options,
                                                              LiveFailure* why) {
  LiveFailure unused;
  LiveFailure& kind = why ? *why : unused;
  kind = LiveFailure::other;
  const std::string where = "interface " + interface;
  if (interface.empty()) return make_error("no interface given");
  char err[PCAP_ERRBUF_SIZE] = {};
  Handle p(pcap_create(interface.c_str(), err));
  if (!p) return make_error(where + ": " + err);
  // Each setter only fails on an already active handle; activation reports bad values.
  pcap_set_snaplen(p.get(), options.snaplen);
  pcap_set_promisc(p.get(), options.promiscuous ? 1 : 0);
  // Immediate mode hands each packet over as it arrives instead of when a kernel
  // block fills, which on a quiet SPICE session could hold messages back for seconds.
  pcap_set_immediate_mode(p.get(), 1);
  pcap_set_timeout(p.get(), options.timeout_ms);
  if (options.buffer_bytes > 0) pcap_set_buffer_size(p.get(), options.buffer_bytes);
  // Not every platform has nanosecond time stamps; microseconds are scaled on read.
  (void)pcap_set_tstamp_precision(p.get(), PCAP_TSTAMP_PRECISION_NANO);

  const int rc = pcap_activate(p.get());
  if (rc < 0) {
    const std::string detail = pcap_geterr(p.get());
    switch (rc) {
      case PCAP_ERROR_NO_SUCH_DEVICE:
        kind = LiveFailure::no_such_interface;
        return make_error(where + ": no such network interface (`spice-capture capture --list-interfaces` lists them)");
      case PCAP_ERROR_PERM_DENIED:
      case PCAP_ERROR_PROMISC_PERM_DENIED:
        kind = LiveFailure::permission;
        return make_error(where + ": permission denied (" + detail + "): " + kPermissionAdvice);
      case PCAP_ERROR_IFACE_NOT_UP:
        kind = LiveFailure::interface_down;
        return make_error(where + ": the interface is not up (" + detail + ")");
      default:
        // Some systems say EPERM only in the text.
        if (detail.find("ermission") != std::string::npos || detail.find("not permitted") != std::string::npos) {
          kind = LiveFailure::permission;
          return make_error(where + ": " + detail + ": " + kPermissionAdvice);
        }
        if (detail.find("No such device") != std::string::npos) {
          kind = LiveFailure::no_such_interface;
          return make_error(where + ": no such network interface (`spice-capture capture --list-interfaces` lists them)");
        }
        return make_error(where + ": cannot capture: " + (detail.empty() ? pcap_statustostr(rc) : detail));
    }
  }
  // Warnings (promiscuous mode unsupported, time stamp type) leave a working handle.
  if (!options.filter.empty()) {
    bpf_program prog{};
    if (pcap_compile(p.get(), &prog, options.filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
      kind = LiveFailure::bad_filter;
      return make_error("capture filter '" + options.filter + "' is not valid: " + pcap_geterr(p.get()));
    }
    const int set = pcap_setfilter(p.get(), &prog);
    pcap_freecode(&prog);
    if (set != 0) {
      kind = LiveFailure::bad_filter;
      return make_error("capture filter '" + options.filter + "' cannot be applied on " + where + ": " +
                        pcap_geterr(p.get()));
    }
  }
  // libpcap's read timeout does not make a blocking read return on Linux when
  // nothing arrives, so reads are non-blocking and read() waits in poll() itself.
  if (pcap_setnonblock(p.get(), 1, err) != 0) return make_error(where + ": " + err);
  const int fd = pcap_get_selectable_fd(p.get());
  if (fd < 0) return make_error(where + ": libpcap gives no descriptor to wait on");
  kind = LiveFailure::none;
  auto source = std::make_unique<PacketSource>(Token{}, std::move(p), true, interface);
  source->fd_ = fd;
  source->timeout_ms_ = options.timeout_ms;
  return source;
}

PacketSource::PacketSource(Token, Handle p, bool live, std::string interface)
    : pcap_(std::move(p)), linktype_(pcap_datalink(pcap_.get())),
      nanosecond_(pcap_get_tstamp_precision(pcap_.get()) == PCAP_TSTAMP_PRECISION_NANO), live_(live),
      interface_(std::move(interface)) {}

PacketSource::~PacketSource() = default;

int PacketSource::snaplen() const { return pcap_snapshot(pcap_.get()); }

PacketSource::ReadStatus PacketSource::read(Packet& out) {
  pcap_pkthdr* hdr = nullptr;
  const u_char* data = nullptr;
  int rc = pcap_next_ex(pcap_.get(), &hdr, &data);
  if (rc == 0 && live_) {
    // Nothing buffered: wait for the descriptor (a signal cuts the wait short too).
    pollfd ready{fd_, POLLIN, 0};
    if (poll(&ready, 1, timeout_ms_) > 0) rc = pcap_next_ex(pcap_.get(), &hdr, &data);
  }
  if (rc == 1) {
    const uint64_t frac = nanosecond_ ? hdr->ts.tv_usec : static_cast<uint64_t>(hdr->ts.tv_usec) * 1000;
    out.ts_ns = static_cast<uint64_t>(hdr->ts.tv_sec) * 1'000'000'000ull + frac;
    out.data = {data, hdr->caplen};
    out.original_length = hdr->len;
    bytes_read_ += hdr->caplen + 16;
    return ReadStatus::packet;
  }
  if (rc == 0) return ReadStatus::timeout;  // live only: the read timeout expired
  if (rc == PCAP_ERROR) {
    read_error_ = pcap_geterr(pcap_.get());
    // libpcap reports a file cut inside a record as a read error; a live read error
    // is the interface going away.
    if (!live_) truncated_ = true;
    return ReadStatus::error;
  }
  return ReadStatus::end;  // PCAP_ERROR_BREAK: end of file, or pcap_breakloop
}

bool PacketSource::next(Packet& out) {
  for (;;) {
    const ReadStatus s = read(out);
    if (s == ReadStatus::packet) return true;
    if (s != ReadStatus::timeout) return false;
  }
}

Result<CaptureStats> PacketSource::stats() {
  if (!live_) return make_error("capture statistics exist only for a live capture");
  pcap_stat st{};
  if (pcap_stats(pcap_.get(), &st) != 0) return make_error("interface " + interface_ + ": " + pcap_geterr(pcap_.get()));
  return CaptureStats{st.ps_recv, st.ps_drop, st.ps_ifdrop};
}

namespace {

std::string address_text(const sockaddr* a) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (!a) return {};
  if (a->sa_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(a)->sin_addr, buf, sizeof buf);
  } else if (a->sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(a)->sin6_addr, buf, sizeof buf);
  }
  return buf;
}

}  // namespace

Result<std::vector<InterfaceInfo>> list_interfaces() {
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_if_t* all = nullptr;
  if (pcap_findalldevs(&all, err) != 0) return make_error(std::string("cannot list interfaces: ") + err);
  std::unique_ptr<pcap_if_t, decltype(&pcap_freealldevs)> owner(all, &pcap_freealldevs);
  std::vector<InterfaceInfo> out;
  for (const pcap_if_t* d = all; d; d = d->next) {
    InterfaceInfo i;
    i.name = d->name;
    if (d->description) i.description = d->description;
    i.loopback = d->flags & PCAP_IF_LOOPBACK;
    i.up = d->flags & PCAP_IF_UP;
    i.running = d->flags & PCAP_IF_RUNNING;
    for (const pcap_addr_t* a = d->addresses; a; a = a->next) {
      if (auto text = address_text(a->addr); !text.empty()) i.addresses.push_back(std::move(text));
    }
    out.push_back(std::move(i));
  }
  return out;
}

}  // namespace sc::capture
