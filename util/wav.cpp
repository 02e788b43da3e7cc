#include "util/wav.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <iterator>

namespace sc::util {

namespace {

constexpr uint64_t kHeaderBytes = 44;
constexpr uint64_t kMaxDataBytes = 0xffffffffull - (kHeaderBytes - 8);

void put(std::string& s, uint32_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) s.push_back(static_cast<char>(v >> (8 * i)));
}

std::string header(uint16_t channels, uint32_t rate, uint32_t data_bytes) {
  std::string h = "RIFF";
  put(h, static_cast<uint32_t>(kHeaderBytes - 8 + data_bytes), 4);
  h += "WAVEfmt ";
  put(h, 16, 4);
  put(h, 1, 2);  // PCM
  put(h, channels, 2);
  put(h, rate, 4);
  put(h, rate * channels * 2u, 4);  // bytes per second
  put(h, channels * 2u, 2);         // block align
  put(h, 16, 2);
  h += "data";
  put(h, data_bytes, 4);
  return h;
}

uint32_t get(const std::vector<uint8_t>& b, size_t at, int bytes) {
  uint32_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= uint32_t{b[at + static_cast<size_t>(i)]} << (8 * i);
  return v;
}

}  // namespace

Result<WavWriter> WavWriter::create(const std::string& path, uint16_t channels, uint32_t rate) {
  if (channels == 0 || rate == 0) {
    return make_error(path + ": a WAV file needs at least one channel and a rate");
  }
  WavWriter w;
  w.path_ = path;
  w.channels_ = channels;
  w.out_.open(path, std::ios::binary | std::ios::trunc);
  const std::string h = header(channels, rate, 0);
  w.out_.write(h.data(), static_cast<std::streamsize>(h.size()));
  if (!w.out_) return make_error("cannot write " + path);
  w.open_ = true;
  return w;
}

WavWriter::~WavWriter() {
  if (open_) (void)close();
}

Result<void> WavWriter::append(const char* bytes, uint64_t n) {
  if (!open_) return make_error(path_ + ": already closed");
  if (data_bytes_ + n > kMaxDataBytes) return make_error(path_ + ": audio past the 4 GiB a WAV file can hold");
  out_.write(bytes, static_cast<std::streamsize>(n));
  if (!out_) return make_error("cannot write " + path_);
  data_bytes_ += n;
  return {};
}

Result<void> WavWriter::write(std::span<const int16_t> samples) {
  if (samples.size() % channels_) return make_error(path_ + ": a partial frame");
  std::string bytes;
  bytes.reserve(samples.size() * 2);
  for (int16_t s : samples) put(bytes, static_cast<uint16_t>(s), 2);  // little-endian on any host
  return append(bytes.data(), bytes.size());
}

Result<void> WavWriter::silence(uint64_t frames) {
  static const std::array<char, 8192> kZeros{};
  uint64_t left = frames * 2 * channels_;
  if (data_bytes_ + left > kMaxDataBytes) return make_error(path_ + ": audio past the 4 GiB a WAV file can hold");
  while (left) {
    const uint64_t n = std::min<uint64_t>(left, kZeros.size());
    if (auto ok = append(kZeros.data(), n); !ok) return ok;
    left -= n;
  }
  return {};
}

Result<void> WavWriter::close() {
  if (!open_) return {};
  open_ = false;
  const std::string h = header(channels_, 0, static_cast<uint32_t>(data_bytes_));
  // Only the two sizes change: the rate written at create stays.
  out_.seekp(4);
  out_.write(h.data() + 4, 4);
  out_.seekp(40);
  out_.write(h.data() + 40, 4);
  out_.close();
  if (!out_) return make_error("cannot write " + path_);
  return {};
}

Result<Wav> read_wav(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("cannot read " + path);
  const std::vector<uint8_t> b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (b.size() < 12 || std::memcmp(b.data(), "RIFF", 4) != 0 || std::memcmp(b.data() + 8, "WAVE", 4) != 0) {
    return make_error(path + ": not a RIFF/WAVE file");
  }
  Wav w;
  bool have_fmt = false;
  for (size_t at = 12; at + 8 <= b.size();) {
    const uint32_t size = get(b, at + 4, 4);
    const size_t body = at + 8;
    if (size > b.size() - body) return make_error(path + ": chunk at byte " + std::to_string(at) + " runs past the end");
    if (std::memcmp(b.data() + at, "fmt ", 4) == 0 && size >= 16) {
      if (get(b, body, 2) != 1) return make_error(path + ": not PCM (format tag " + std::to_string(get(b, body, 2)) + ")");
      w.channels = static_cast<uint16_t>(get(b, body + 2, 2));
      w.rate = get(b, body + 4, 4);
      w.bits = static_cast<uint16_t>(get(b, body + 14, 2));
      if (w.bits != 16 || w.channels == 0) return make_error(path + ": only 16-bit PCM is read");
      have_fmt = true;
    } else if (std::memcmp(b.data() + at, "data", 4) == 0) {
      if (!have_fmt) return make_error(path + ": data before fmt");
      w.samples.resize(size / 2);
      for (size_t i = 0; i < w.samples.size(); ++i) {
        w.samples[i] = static_cast<int16_t>(static_cast<uint16_t>(get(b, body + 2 * i, 2)));
      }
      return w;
    }
    at = body + size + (size & 1);
  }
  return make_error(path + ": no data chunk");
}

}  // namespace sc::util
