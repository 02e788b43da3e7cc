#include "server/settings.hpp"

#include <array>
#include <charconv>
#include <cstdlib>

namespace sc::server {

std::span<const Named<SpiceImageCompression>> image_compressions() {
  static constexpr std::array<Named<SpiceImageCompression>, 7> table{{
      {"off", SPICE_IMAGE_COMPRESSION_OFF},
      {"auto_glz", SPICE_IMAGE_COMPRESSION_AUTO_GLZ},
      {"auto_lz", SPICE_IMAGE_COMPRESSION_AUTO_LZ},
      {"quic", SPICE_IMAGE_COMPRESSION_QUIC},
      {"glz", SPICE_IMAGE_COMPRESSION_GLZ},
      {"lz", SPICE_IMAGE_COMPRESSION_LZ},
      {"lz4", SPICE_IMAGE_COMPRESSION_LZ4},
  }};
  return table;
}

std::span<const Named<spice_wan_compression_t>> wan_compressions() {
  static constexpr std::array<Named<spice_wan_compression_t>, 3> table{{
      {"auto", SPICE_WAN_COMPRESSION_AUTO},
      {"always", SPICE_WAN_COMPRESSION_ALWAYS},
      {"never", SPICE_WAN_COMPRESSION_NEVER},
  }};
  return table;
}

std::span<const Named<int>> streaming_video_modes() {
  static constexpr std::array<Named<int>, 3> table{{
      {"off", SPICE_STREAM_VIDEO_OFF},
      {"all", SPICE_STREAM_VIDEO_ALL},
      {"filter", SPICE_STREAM_VIDEO_FILTER},
  }};
  return table;
}

bool parse_size(std::string_view text, uint32_t& width, uint32_t& height) {
  const size_t x = text.find('x');
  if (x == std::string_view::npos) return false;
  uint32_t w = 0, h = 0;
  auto r1 = std::from_chars(text.data(), text.data() + x, w);
  auto r2 = std::from_chars(text.data() + x + 1, text.data() + text.size(), h);
  if (r1.ec != std::errc{} || r1.ptr != text.data() + x || r2.ec != std::errc{} ||
      r2.ptr != text.data() + text.size())
    return false;
  if (w < 64 || h < 64 || w > 4096 || h > 4096) return false;
  width = w;
  height = h;
  return true;
}

bool parse_uuid(std::string_view text, uint8_t out[16]) {
  if (text.size() != 36) return false;
  int n = 0;
  for (size_t i = 0; i < text.size();) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return false;
      ++i;
      continue;
    }
    unsigned v = 0;
    auto r = std::from_chars(text.data() + i, text.data() + i + 2, v, 16);
    if (r.ec != std::errc{} || r.ptr != text.data() + i + 2) return false;
    out[n++] = uint8_t(v);
    i += 2;
  }
  return n == 16;
}

std::optional<double> parse_replay_speed(std::string_view text) {
  if (text == "as-recorded") return 1.0;
  if (text == "fast") return 0.0;
  if (!text.empty() && text.back() == 'x') text.remove_suffix(1);
  const std::string s(text);
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !(v > 0) || v > 1000) return std::nullopt;
  return v;
}

}  // namespace sc::server
