// Fuzzes uncompressed BITMAP images: every format, row order, stride and data
// size check, and palette lookups.
//
// Why: format, sizes and stride come from the server and must be checked against
// the data before a row is read.
//
// Input: [format u8][flags u8][width u16 LE][height u16 LE][stride u32 LE] then the
// data. Flags bit 7 (not a SPICE flag) drops the palette; otherwise a fixed
// 3-entry one (short, so indices wrap). Seeds: tests/data/images/bitmap/*.fuzz.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "dissect/image/bitmap.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 10) return 0;
  sc::image::BitmapView view;
  view.format = data[0];
  view.flags = data[1] & 0x7f;
  view.width = data[2] | uint32_t{data[3]} << 8;
  view.height = data[4] | uint32_t{data[5]} << 8;
  view.stride = data[6] | uint32_t{data[7]} << 8 | uint32_t{data[8]} << 16 | uint32_t{data[9]} << 24;
  view.data = std::span(data + 10, size - 10);
  static const uint32_t palette[3] = {0x102030, 0x405060, 0x708090};
  sc::image::Limits limits;
  limits.max_pixels = uint64_t{1} << 20;
  auto px = sc::image::decode_bitmap(view, (data[1] & 0x80) ? sc::image::Palette{} : sc::image::Palette(palette), limits);
  if (px && px->data.size() != uint64_t{view.width} * view.height) {
    std::fprintf(stderr, "fuzz_bitmap: size mismatch\n");
    std::abort();
  }
  return 0;
}
