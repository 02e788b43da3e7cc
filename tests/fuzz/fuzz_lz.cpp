// Fuzzes the LZ image decoder (LZ_RGB / LZ_PLT) and the LZ alpha plane of
// JPEG_ALPHA: header checks, the shared LZ/GLZ byte-code core, palette expansion.
//
// Why: the whole payload comes from the server (a guest's drawing, any bytes), its
// header names the sizes we allocate, and references point back into our output.
//
// Input: one lz_rgb.data / lz_plt.data payload as the wire carries it (the seeds
// are the real payloads in tests/data/images/lz). The palette is a fixed 16-entry
// one, or none when the input's length is a multiple of 5 (the missing-palette path).
// The same bytes are also decoded as an XXXA alpha plane into an image of the size
// its header claims (when small).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "dissect/image/lz.hpp"

namespace {

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "fuzz_lz: %s\n", what);
  std::abort();
}

uint32_t be32(const uint8_t* p) { return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3]; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> in(data, size);
  static const uint32_t palette[16] = {0x000000, 0xff0000, 0x00ff00, 0x0000ff, 0xffff00, 0x00ffff, 0xff00ff, 0xffffff,
                                       0x800000, 0x008000, 0x000080, 0x808000, 0x008080, 0x800080, 0x808080, 0x404040};
  sc::image::Limits limits;
  limits.max_pixels = uint64_t{1} << 20;
  const sc::image::Palette pal = size % 5 == 0 ? sc::image::Palette{} : sc::image::Palette(palette);
  auto px = sc::image::decode_lz(in, pal, limits);
  if (px) {
    if (!limits.allows(px->width, px->height)) die("image beyond the limits");
    if (px->data.size() != uint64_t{px->width} * px->height) die("pixel count");
    if (!px->has_alpha)
      for (uint32_t v : px->data)
        if (v >> 24 != 0xff) die("opaque image with alpha");
  } else if (px.error().code.empty() || px.error().offset > size) {
    die("fault without a code or past the payload");
  }

  if (size >= 28) {
    const uint64_t w = be32(data + 12), h = be32(data + 16);
    if (w > 0 && h > 0 && w <= 4096 && h <= 4096 && w * h <= (1u << 18)) {
      sc::image::Pixels into(static_cast<uint32_t>(w), static_cast<uint32_t>(h));
      auto r = sc::image::decode_lz_alpha(in, into);
      if (!r && into.has_alpha) die("alpha set on failure");
      if (into.data.size() != w * h) die("alpha changed the size");
    }
  }
  return 0;
}
