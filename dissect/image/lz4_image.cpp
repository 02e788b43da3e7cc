// SPICE LZ4 images: liblz4 streaming block decode, then rows to 0xAARRGGBB.
#include "dissect/image/lz4_image.hpp"

#include <lz4.h>

#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "dissect/image/lz.hpp"

namespace sc::image {

namespace {

std::string num(uint64_t v) { return std::to_string(v); }

enum class Conv : uint8_t { none, rgb16, rgb24, xrgb32, rgba32 };
struct Format {
  Conv conv;
  uint8_t bytes;
};
// Indexed by SPICE_BITMAP_FMT; the server sends LZ4 only for RGB bitmaps.
constexpr std::array<Format, 11> kFormats = {{{Conv::none, 0}, {Conv::none, 0}, {Conv::none, 0}, {Conv::none, 0},
                                              {Conv::none, 0}, {Conv::none, 0}, {Conv::rgb16, 2}, {Conv::rgb24, 3},
                                              {Conv::xrgb32, 4}, {Conv::rgba32, 4}, {Conv::none, 0}}};

// LZ4 cannot expand a block more than ~255:1.
constexpr uint64_t kMaxRatio = 256;

}  // namespace

Decoded<Pixels> decode_lz4(std::span<const uint8_t> payload, uint32_t width, uint32_t height, const Limits& limits) {
  if (payload.size() < 2) return fault("truncated", payload.size(), "LZ4 image needs its 2 header bytes");
  const bool top_down = payload[0] != 0;
  const uint8_t fmt = payload[1];
  if (fmt >= kFormats.size() || kFormats[fmt].conv == Conv::none)
    return fault("unsupported", 1, "LZ4 image of bitmap format " + num(fmt));
  const Format f = kFormats[fmt];
  if (width == 0 || height == 0) return fault("bad_header", 0, "LZ4 image of " + num(width) + "x" + num(height));
  if (!limits.allows(width, height))
    return fault("too_large", 0, "LZ4 image of " + num(width) + "x" + num(height) + " exceeds the limits");
  const size_t row = size_t{width} * f.bytes;
  const uint64_t total = uint64_t{row} * height;
  if (total > kMaxRatio * payload.size())
    return fault("truncated", payload.size(), num(total) + " bytes of pixels cannot come from " + num(payload.size()) + " bytes of LZ4");

  Pixels px;
  px.width = width;
  px.height = height;
  px.has_alpha = f.conv == Conv::rgba32;
  px.data.resize(uint64_t{width} * height);
  // 32-bit rows are already 0xAARRGGBB in memory: decode straight into the pixels.
  std::vector<uint8_t> staging;
  uint8_t* out = reinterpret_cast<uint8_t*>(px.data.data());
  if (f.bytes != 4) {
    staging.resize(total);
    out = staging.data();
  }

  LZ4_streamDecode_t stream;
  LZ4_setStreamDecode(&stream, nullptr, 0);
  size_t pos = 2, produced = 0;
  while (pos < payload.size()) {
    if (payload.size() - pos < 4) return fault("truncated", pos, "LZ4 block size cut short");
    const uint8_t* p = payload.data() + pos;
    const uint32_t n = uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
    pos += 4;
    if (n > payload.size() - pos)
      return fault("truncated", pos - 4, "LZ4 block of " + num(n) + " bytes, " + num(payload.size() - pos) + " left");
    if (n > static_cast<uint32_t>(LZ4_MAX_INPUT_SIZE)) return fault("corrupt", pos - 4, "LZ4 block of " + num(n) + " bytes");
    if (produced == total) return fault("corrupt", pos - 4, "LZ4 block past the " + num(total) + " bytes of the image");
    const int got = LZ4_decompress_safe_continue(&stream, reinterpret_cast<const char*>(payload.data() + pos),
                                                 reinterpret_cast<char*>(out + produced), static_cast<int>(n),
                                                 static_cast<int>(total - produced));
    if (got <= 0) return fault("corrupt", pos, "bad LZ4 block of " + num(n) + " bytes (or it decodes past the image)");
    produced += static_cast<size_t>(got);
    pos += n;
  }
  if (produced != total)
    return fault("truncated", payload.size(), "LZ4 blocks give " + num(produced) + " of " + num(total) + " bytes of pixels");

  if (f.bytes == 4) {
    if (f.conv == Conv::xrgb32)
      for (auto& v : px.data) v |= 0xff000000u;
    if (!top_down)
      for (uint32_t a = 0, b = height - 1; a < b; ++a, --b) std::swap_ranges(px.row(a), px.row(a) + width, px.row(b));
    return px;
  }
  for (uint32_t y = 0; y < height; ++y) {
    const uint8_t* s = staging.data() + size_t{y} * row;
    uint32_t* d = px.row(top_down ? y : height - 1 - y);
    if (f.conv == Conv::rgb16) {
      for (uint32_t x = 0; x < width; ++x, s += 2) d[x] = 0xff000000u | lz_core::rgb555_to_rgb32(uint32_t{s[1]} << 8 | s[0]);
    } else {
      for (uint32_t x = 0; x < width; ++x, s += 3) d[x] = 0xff000000u | uint32_t{s[2]} << 16 | uint32_t{s[1]} << 8 | s[0];
    }
  }
  return px;
}

}  // namespace sc::image
