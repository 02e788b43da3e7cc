// Fuzzes the LZ4 image decoder: the two header bytes, the block framing, liblz4's
// streaming decode against the output bound, and the row conversions.
//
// Why: block sizes and the pixels come from the server; the image size comes from
// the descriptor, which need not agree with what the blocks hold.
//
// Input: [width u16 LE][height u16 LE] then one lz4.data payload as the wire
// carries it. Seeds: tests/data/images/lz4/*.fuzz (real payloads in this form).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "dissect/image/lz4_image.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const uint32_t w = data[0] | uint32_t{data[1]} << 8, h = data[2] | uint32_t{data[3]} << 8;
  sc::image::Limits limits;
  limits.max_pixels = uint64_t{1} << 20;
  auto px = sc::image::decode_lz4(std::span(data + 4, size - 4), w, h, limits);
  if (px && (px->width != w || px->height != h || px->data.size() != uint64_t{w} * h)) {
    std::fprintf(stderr, "fuzz_lz4: size mismatch\n");
    std::abort();
  }
  return 0;
}
