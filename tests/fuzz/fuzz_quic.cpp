// Fuzzes the QUIC image decoder: header checks, the bit reader's bounds, the Golomb
// code family, the adaptive model (buckets, wait counts), run lengths, every image
// type (GRAY, RGB16, RGB24, RGB32, RGBA's alpha plane).
//
// Why: the whole payload comes from the server (a guest's drawing, any bytes); its
// header names the size we allocate, and run lengths say how far to copy.
//
// Input: one quic.data payload as the wire carries it; the seeds are the real
// payloads in tests/data/images/quic (QEMU, libspice-server, spice-common's encoder).
// Limits are smaller than the default (4 Mpx) to keep each run fast.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string_view>

#include "dissect/image/quic.hpp"

namespace {

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "fuzz_quic: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> in(data, size);
  sc::image::Limits limits;
  limits.max_pixels = uint64_t{1} << 22;
  const auto header = sc::image::read_quic_header(in, limits);
  const auto px = sc::image::decode_quic(in, limits);
  if (px.ok()) {
    if (!header.ok()) die("an image from a header read_quic_header refuses");
    if (px->width != header->width || px->height != header->height) die("size differs from the header's");
    if (px->data.size() != uint64_t{px->width} * px->height) die("pixel count");
    const bool rgba = header->type == sc::image::QuicType::Rgba;
    if (px->has_alpha != rgba) die("has_alpha");
    if (!rgba)
      for (uint32_t v : px->data)
        if (v >> 24 != 0xff) die("alpha in an opaque image");
    return 0;
  }
  const auto& f = px.error();
  if (f.offset > size) die("fault offset past the payload");
  if (f.text.empty()) die("fault without text");
  const std::string_view code = f.code;
  if (header.ok()) {
    if (code != "truncated" && code != "corrupt") die("a stream fault other than truncated/corrupt");
  } else if (code != header.error().code) {
    die("header fault differs from read_quic_header's");
  }
  return 0;
}
