#pragma once
// SPICE LZ4 images: `payload` is the lz4.data field: a top-down byte (non-zero:
// rows top-down), a SPICE_BITMAP_FMT byte (16BIT x1r5g5b5, 24BIT, 32BIT (A =
// 0xff) or RGBA (has_alpha)), then LZ4 blocks, each a big-endian u32 size and
// that many bytes, decoded as one stream (a block may reference the output of the
// blocks before it) into rows of width * bytes-per-pixel.
// The payload carries no size: width and height are the image descriptor's.
// Faults: "truncated" (a block or the pixels cut short), "unsupported" (format),
// "bad_header" (zero side), "too_large" (Limits), "corrupt" (a bad LZ4 block, or
// more output than the image holds).
#include <cstdint>
#include <span>

#include "dissect/image/pixels.hpp"

namespace sc::image {

Decoded<Pixels> decode_lz4(std::span<const uint8_t> payload, uint32_t width, uint32_t height,
                           const Limits& limits = {});

}  // namespace sc::image
