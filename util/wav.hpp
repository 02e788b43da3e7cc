#pragma once
// WAV files of 16-bit PCM: the one writer of the project (`audio export`),
// streaming (samples and silence appended as they come, sizes patched at
// close), and a reader for tests and tools. Plain RIFF/WAVE, format tag 1;
// data stays under the 4 GiB the 32-bit RIFF sizes allow.
#include <cstdint>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace sc::util {

class WavWriter {
 public:
  static Result<WavWriter> create(const std::string& path, uint16_t channels, uint32_t rate);
  WavWriter(WavWriter&&) noexcept = default;
  WavWriter& operator=(WavWriter&&) noexcept = default;
  ~WavWriter();  // closes (an error then goes unreported: call close() to see it)

  // Interleaved samples, `channels` per frame; a partial last frame is an error.
  Result<void> write(std::span<const int16_t> samples);
  Result<void> silence(uint64_t frames);
  // Patches the RIFF and data sizes and closes the file.
  Result<void> close();

  uint64_t frames() const { return data_bytes_ / (2 * channels_); }
  const std::string& path() const { return path_; }

 private:
  WavWriter() = default;
  Result<void> append(const char* bytes, uint64_t n);
  std::ofstream out_;
  std::string path_;
  uint16_t channels_ = 1;
  uint64_t data_bytes_ = 0;
  bool open_ = false;
};

struct Wav {
  uint16_t channels = 0;
  uint32_t rate = 0;
  uint16_t bits = 0;
  std::vector<int16_t> samples;  // interleaved
  uint64_t frames() const { return channels ? samples.size() / channels : 0; }
};
// A 16-bit PCM WAV file (other sample formats are an error).
Result<Wav> read_wav(const std::string& path);

}  // namespace sc::util
