// Fuzzes GLZ_RGB and ZLIB_GLZ_RGB decoding into one shared dictionary: the
// cross-image references, the dictionary's window and release rules, out-of-order
// and missing images, and inflating hostile zlib streams.
//
// Why: references name other images by id distance and pixel offset, ids and
// window heads come from the server, and the dictionary lives across images, so a
// bug may need a sequence of images to show.
//
// Input: [window u8] then records [kind u8][glz_size u32 LE, kind odd only]
// [length u16 LE][payload]. window 0 = unknown, else window * 64 pixels. Kind odd:
// a ZLIB_GLZ_RGB zlib_glz.data with its glz_data_size; even: a GLZ_RGB lz_rgb.data.
// Seeds (tests/data/images/{glz,zlib_glz}/*.fuzz) are real sessions in this form.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "dissect/image/glz.hpp"

namespace {

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "fuzz_glz: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  sc::image::Limits limits;
  limits.max_pixels = uint64_t{1} << 20;
  constexpr uint64_t kCap = uint64_t{32} << 20;
  sc::image::GlzDictionary dict(uint64_t{data[0]} * 64, kCap);
  size_t pos = 1;
  while (pos < size) {
    const uint8_t kind = data[pos++];
    uint32_t glz_size = 0;
    if (kind & 1) {
      if (size - pos < 4) break;
      glz_size = uint32_t{data[pos]} | uint32_t{data[pos + 1]} << 8 | uint32_t{data[pos + 2]} << 16 | uint32_t{data[pos + 3]} << 24;
      pos += 4;
    }
    if (size - pos < 2) break;
    size_t len = data[pos] | size_t{data[pos + 1]} << 8;
    pos += 2;
    if (len > size - pos) len = size - pos;
    const std::span<const uint8_t> payload(data + pos, len);
    pos += len;
    auto px = (kind & 1) ? sc::image::decode_zlib_glz(payload, glz_size, dict, limits)
                         : sc::image::decode_glz(payload, dict, limits);
    if (px) {
      if (!limits.allows(px->width, px->height)) die("image beyond the limits");
      if (px->data.size() != uint64_t{px->width} * px->height) die("pixel count");
      if (!px->has_alpha)
        for (uint32_t v : px->data)
          if (v >> 24 != 0xff) die("opaque image with alpha");
    } else if (px.error().code.empty()) {
      die("fault without a code");
    }
    if (dict.bytes() > kCap + (uint64_t{1} << 22)) die("dictionary past its cap");
    if (dict.bytes() > dict.window() * 4 && dict.images() > 1) die("dictionary past its window");
  }
  return 0;
}
