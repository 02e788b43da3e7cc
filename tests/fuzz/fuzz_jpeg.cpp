// Fuzzes the JPEG decoders: decode_jpeg (TurboJPEG behind our size and colour-space
// checks, truncation and warning handling) and decode_jpeg_alpha (the JPEG, the
// alpha plane's header checks, the LZ alpha plane, how faults are placed).
//
// Why: image and stream payloads come from the server; headers name the size we
// allocate, jpeg_size splits the data, and libjpeg meets any bytes.
//
// Input: a JPEG (first byte 0xff): the whole input to decode_jpeg; anything else is
// a JPEG_ALPHA image: [flags u8][jpeg_size u32 LE][jpeg_alpha.data]. The seeds are
// the real payloads in tests/data/images/jpeg (*.jpeg, and *.jpeg_alpha, which are
// in this form).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "dissect/image/jpeg.hpp"

namespace {

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "fuzz_jpeg: %s\n", what);
  std::abort();
}

void check(const sc::image::Decoded<sc::image::Pixels>& px, const sc::image::Limits& limits, size_t size,
           bool alpha) {
  if (px.ok()) {
    if (!limits.allows(px->width, px->height)) die("image beyond the limits");
    if (px->data.size() != uint64_t{px->width} * px->height) die("pixel count");
    if (px->has_alpha != alpha) die("has_alpha");
    if (!alpha)
      for (uint32_t v : px->data)
        if (v >> 24 != 0xff) die("alpha in a JPEG");
    return;
  }
  if (px.error().offset > size) die("fault offset past the payload");
  if (px.error().code.empty() || px.error().text.empty()) die("fault without code or text");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sc::image::Limits limits;
  limits.max_pixels = uint64_t{1} << 22;
  if (size > 0 && data[0] == 0xff) {
    check(sc::image::decode_jpeg({data, size}, limits), limits, size, false);
    return 0;
  }
  if (size < 5) return 0;
  const uint8_t flags = data[0];
  const uint32_t jpeg_size = uint32_t{data[1]} | uint32_t{data[2]} << 8 | uint32_t{data[3]} << 16 |
                             uint32_t{data[4]} << 24;
  const std::span<const uint8_t> body(data + 5, size - 5);
  check(sc::image::decode_jpeg_alpha(body, jpeg_size, flags, limits), limits, body.size(), true);
  return 0;
}
