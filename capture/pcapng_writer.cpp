#include "capture/pcapng_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sc::capture {

namespace {

constexpr uint32_t kSectionHeader = 0x0A0D0D0A;
constexpr uint32_t kInterfaceDescription = 0x00000001;
constexpr uint32_t kEnhancedPacket = 0x00000006;
constexpr uint32_t kByteOrderMagic = 0x1A2B3C4D;

constexpr uint16_t kOptEnd = 0;
constexpr uint16_t kOptShbUserAppl = 4;
constexpr uint16_t kOptIfName = 2;
constexpr uint16_t kOptIfTsresol = 9;

// Buffered so a capture of many small packets costs few system calls.
constexpr size_t kFlushAt = 256 * 1024;
// Keeps a block's length (a u32 that also counts its framing) from wrapping.
constexpr size_t kMaxPacket = 64u * 1024 * 1024;

void put_u16(std::vector<uint8_t>& out, uint16_t v) {
  uint8_t b[2];
  std::memcpy(b, &v, 2);
  out.insert(out.end(), b, b + 2);
}

void put_u32(std::vector<uint8_t>& out, uint32_t v) {
  uint8_t b[4];
  std::memcpy(b, &v, 4);
  out.insert(out.end(), b, b + 4);
}

void pad4(std::vector<uint8_t>& out) {
  while (out.size() % 4 != 0) out.push_back(0);
}

void put_option(std::vector<uint8_t>& out, uint16_t code, std::span<const uint8_t> value) {
  put_u16(out, code);
  put_u16(out, static_cast<uint16_t>(value.size()));
  out.insert(out.end(), value.begin(), value.end());
  pad4(out);
}

void put_text_option(std::vector<uint8_t>& out, uint16_t code, std::string_view text) {
  // Option lengths are 16-bit; a longer name is cut rather than corrupting the block.
  text = text.substr(0, 0xfff0);
  put_option(out, code, {reinterpret_cast<const uint8_t*>(text.data()), text.size()});
}

std::string errno_text() { return std::strerror(errno); }

}  // namespace

PcapngWriter::PcapngWriter(Token, int fd, std::string path) : fd_(fd), path_(std::move(path)) {
  buffer_.reserve(kFlushAt + 64 * 1024);
}

Result<std::unique_ptr<PcapngWriter>> PcapngWriter::create(const std::string& path, bool overwrite) {
  // O_EXCL makes "refuse an existing file" atomic (and refuses a symlink planted there).
  const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (overwrite ? O_TRUNC : O_EXCL);
  const int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0) {
    if (errno == EEXIST) return make_error(path + ": already exists (use --force to overwrite)");
    return make_error(path + ": cannot create: " + errno_text());
  }
  auto w = std::make_unique<PcapngWriter>(Token{}, fd, path);

  auto& b = w->body_;
  b.clear();
  put_u32(b, kByteOrderMagic);
  put_u16(b, 1);  // major version
  put_u16(b, 0);  // minor version
  put_u32(b, 0xffffffff);  // section length: not given (-1 as 64 bits)
  put_u32(b, 0xffffffff);
  put_text_option(b, kOptShbUserAppl, "spice-capture");
  put_u16(b, kOptEnd);
  put_u16(b, 0);
  w->put_block(kSectionHeader, b);
  if (auto r = w->flush(); !r) return r.error();
  return w;
}

PcapngWriter::~PcapngWriter() {
  // Errors here have nowhere to go: callers who care call flush() first.
  (void)drain();
  ::close(fd_);
}

uint32_t PcapngWriter::add_interface(int linktype, uint32_t snaplen, std::string_view name) {
  auto& b = body_;
  b.clear();
  put_u16(b, static_cast<uint16_t>(linktype));
  put_u16(b, 0);  // reserved
  put_u32(b, snaplen);
  if (!name.empty()) put_text_option(b, kOptIfName, name);
  const uint8_t nanoseconds = 9;  // if_tsresol: 10^-9 s
  put_option(b, kOptIfTsresol, {&nanoseconds, 1});
  put_u16(b, kOptEnd);
  put_u16(b, 0);
  put_block(kInterfaceDescription, b);
  interfaces_.push_back({snaplen});
  if (buffer_.size() >= kFlushAt) (void)drain();
  return static_cast<uint32_t>(interfaces_.size() - 1);
}

Result<void> PcapngWriter::write_packet(uint32_t interface, uint64_t ts_ns, std::span<const uint8_t> data,
                                        uint32_t original_length) {
  if (!error_.empty()) return make_error(error_);
  if (interface >= interfaces_.size()) {
    return make_error(path_ + ": packet for interface " + std::to_string(interface) + ", which was never added");
  }
  const uint32_t snaplen = interfaces_[interface].snaplen;
  if (data.size() > kMaxPacket || (snaplen != 0 && data.size() > snaplen)) {
    return make_error(path_ + ": packet of " + std::to_string(data.size()) + " bytes exceeds the snapshot length " +
                      std::to_string(snaplen != 0 ? snaplen : kMaxPacket));
  }
  if (original_length < data.size()) {
    return make_error(path_ + ": packet of " + std::to_string(data.size()) + " bytes has a shorter original length (" +
                      std::to_string(original_length) + ")");
  }
  auto& b = body_;
  b.clear();
  put_u32(b, interface);
  put_u32(b, static_cast<uint32_t>(ts_ns >> 32));
  put_u32(b, static_cast<uint32_t>(ts_ns));
  put_u32(b, static_cast<uint32_t>(data.size()));
  put_u32(b, original_length);
  b.insert(b.end(), data.begin(), data.end());
  pad4(b);
  put_block(kEnhancedPacket, b);
  ++packets_;
  if (buffer_.size() >= kFlushAt) return drain();
  return {};
}

Result<void> PcapngWriter::flush() { return drain(); }

uint64_t PcapngWriter::packets() const { return packets_; }

void PcapngWriter::put_block(uint32_t type, std::span<const uint8_t> body) {
  // Every body builder pads to 4, so the total is a multiple of 4 as the format needs.
  const auto total = static_cast<uint32_t>(body.size() + 12);
  put_u32(buffer_, type);
  put_u32(buffer_, total);
  buffer_.insert(buffer_.end(), body.begin(), body.end());
  put_u32(buffer_, total);
}

Result<void> PcapngWriter::drain() {
  if (!error_.empty()) return make_error(error_);
  size_t done = 0;
  while (done < buffer_.size()) {
    const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      error_ = path_ + ": write failed: " + errno_text();
      buffer_.clear();
      return make_error(error_);
    }
    done += static_cast<size_t>(n);
  }
  buffer_.clear();
  return {};
}

}  // namespace sc::capture
