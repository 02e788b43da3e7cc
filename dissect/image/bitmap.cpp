// Uncompressed BITMAP images: per-format row converters chosen once per image.
#include "dissect/image/bitmap.hpp"

#include <cstring>
#include <string>

#include "dissect/image/lz.hpp"

namespace sc::image {

namespace palette_detail {

Table make_table(Palette palette) {
  Table t{};
  for (size_t i = 0; i < t.size(); ++i) t[i] = 0xff000000u | (palette[i % palette.size()] & 0x00ffffffu);
  return t;
}

void expand_row(const uint8_t* src, uint32_t width, unsigned bits, bool lsb_first, const Table& table, uint32_t* dst) {
  if (bits == 8) {
    for (uint32_t x = 0; x < width; ++x) dst[x] = table[src[x]];
  } else if (bits == 4) {
    const unsigned even = lsb_first ? 0 : 4, odd = 4 - even;
    uint32_t x = 0;
    for (; x + 1 < width; x += 2) {
      const uint8_t b = src[x >> 1];
      dst[x] = table[(b >> even) & 15];
      dst[x + 1] = table[(b >> odd) & 15];
    }
    if (x < width) dst[x] = table[(src[x >> 1] >> even) & 15];
  } else {
    for (uint32_t x = 0; x < width; ++x) {
      const unsigned bit = lsb_first ? (x & 7) : 7 - (x & 7);
      dst[x] = table[(src[x >> 3] >> bit) & 1];
    }
  }
}

}  // namespace palette_detail

namespace {

constexpr uint8_t kTopDown = 1 << 2;  // SPICE_BITMAP_FLAGS_TOP_DOWN

enum class Conv : uint8_t { none, palette, rgb16, rgb24, xrgb32, rgba32, a8 };

struct Format {
  const char* name;
  Conv conv;
  uint8_t bits;
  bool lsb_first;
};

// Indexed by SPICE_BITMAP_FMT.
constexpr std::array<Format, 11> kFormats = {{
    {"INVALID", Conv::none, 0, false},
    {"1BIT_LE", Conv::palette, 1, true},
    {"1BIT_BE", Conv::palette, 1, false},
    {"4BIT_LE", Conv::palette, 4, true},
    {"4BIT_BE", Conv::palette, 4, false},
    {"8BIT", Conv::palette, 8, false},
    {"16BIT", Conv::rgb16, 16, false},
    {"24BIT", Conv::rgb24, 24, false},
    {"32BIT", Conv::xrgb32, 32, false},
    {"RGBA", Conv::rgba32, 32, false},
    {"8BIT_A", Conv::a8, 8, false},
}};

std::string num(uint64_t v) { return std::to_string(v); }

}  // namespace

Decoded<Pixels> decode_bitmap(const BitmapView& b, Palette palette, const Limits& limits) {
  if (b.format >= kFormats.size() || kFormats[b.format].conv == Conv::none)
    return fault("unsupported", 0, "bitmap format " + num(b.format));
  const Format& f = kFormats[b.format];
  if (b.width == 0 || b.height == 0) return fault("bad_header", 0, "bitmap of " + num(b.width) + "x" + num(b.height));
  if (!limits.allows(b.width, b.height))
    return fault("too_large", 0, "bitmap of " + num(b.width) + "x" + num(b.height) + " exceeds the limits");
  const uint64_t row_bytes = (uint64_t{b.width} * f.bits + 7) / 8;
  if (b.stride < row_bytes)
    return fault("bad_header", 0, std::string("bitmap stride ") + num(b.stride) + " below the " + num(row_bytes) + " bytes of a " + num(b.width) + "-pixel " + f.name + " row");
  const uint64_t need = uint64_t{b.stride} * (b.height - 1) + row_bytes;
  if (b.data.size() < need)
    return fault("truncated", b.data.size(), "bitmap data of " + num(b.data.size()) + " bytes, " + num(b.height) + " rows of stride " + num(b.stride) + " need " + num(need));
  if (f.conv == Conv::palette && palette.empty())
    return fault("missing_palette", 0, std::string("bitmap ") + f.name + " without a palette");

  const bool alpha = f.conv == Conv::rgba32 || f.conv == Conv::a8;
  Pixels px;
  px.width = b.width;
  px.height = b.height;
  px.has_alpha = alpha;
  px.data.resize(uint64_t{b.width} * b.height);
  palette_detail::Table table{};
  if (f.conv == Conv::palette) table = palette_detail::make_table(palette);

  const bool top_down = b.flags & kTopDown;
  const uint32_t w = b.width;
  for (uint32_t y = 0; y < b.height; ++y) {
    const uint8_t* s = b.data.data() + size_t{y} * b.stride;
    uint32_t* d = px.row(top_down ? y : b.height - 1 - y);
    switch (f.conv) {
      case Conv::palette:
        palette_detail::expand_row(s, w, f.bits, f.lsb_first, table, d);
        break;
      case Conv::rgb16:
        for (uint32_t x = 0; x < w; ++x, s += 2) d[x] = 0xff000000u | lz_core::rgb555_to_rgb32(uint32_t{s[1]} << 8 | s[0]);
        break;
      case Conv::rgb24:
        for (uint32_t x = 0; x < w; ++x, s += 3) d[x] = 0xff000000u | uint32_t{s[2]} << 16 | uint32_t{s[1]} << 8 | s[0];
        break;
      case Conv::xrgb32:
        std::memcpy(d, s, size_t{w} * 4);
        for (uint32_t x = 0; x < w; ++x) d[x] |= 0xff000000u;
        break;
      case Conv::rgba32:
        std::memcpy(d, s, size_t{w} * 4);  // B, G, R, A in memory is 0xAARRGGBB on our little-endian hosts
        break;
      case Conv::a8:
        for (uint32_t x = 0; x < w; ++x) d[x] = uint32_t{s[x]} << 24;
        break;
      case Conv::none:
        break;
    }
  }
  return px;
}

}  // namespace sc::image
