#pragma once
// QUIC, SPICE's lossless photographic codec (spice-common common/quic.c, after
// SFALIC): the `quic.data` field of a SPICE_IMAGE_TYPE_QUIC image.
//
// The stream is a sequence of 32-bit little-endian words read most significant bit
// first. Five header words (magic "QUIC", version 0.0, image type, width, height)
// are followed by the rows, top to bottom: each channel's value is predicted from
// its left and upper neighbours, the residual is Golomb-Rice coded with a code
// chosen per context bucket by an adaptive model, and runs of equal pixels are
// coded as run lengths (rows after the first). RGB types code R, G and B with one
// shared model state; RGBA codes its alpha plane row by row after the colours,
// with a state of its own.
//
// Fault codes: "truncated" (the stream ends before the image does: a decoder needs
// the 32 bits after its position to be there, as spice-gtk's does), "bad_magic",
// "unsupported" (a QUIC version other than 0.0), "bad_header" (an image type no
// encoder writes, a zero side), "too_large" (over Limits), "corrupt" (a code or a
// run that no encoder writes). A fault's offset is the byte where decoding stopped.
#include <cstdint>
#include <span>

#include "dissect/image/pixels.hpp"

namespace sc::image {

// QuicImageType (spice-common quic.h).
enum class QuicType : uint32_t { Gray = 1, Rgb16 = 2, Rgb24 = 3, Rgb32 = 4, Rgba = 5 };
const char* quic_type_name(QuicType type);

struct QuicHeader {
  QuicType type = QuicType::Rgb32;
  uint32_t width = 0, height = 0;
};

// The header alone, checked as decode_quic checks it (magic, version, type, sizes
// against Limits); reads 20 bytes.
Decoded<QuicHeader> read_quic_header(std::span<const uint8_t> payload, const Limits& limits = {});

// The whole image. GRAY becomes R = G = B, RGB16's 5-bit channels are widened as
// spice-gtk widens them ((v << 3) | (v >> 2)); A = 0xff except for RGBA, whose alpha
// plane is A (has_alpha set). Bytes after the image are ignored, as clients do.
Decoded<Pixels> decode_quic(std::span<const uint8_t> payload, const Limits& limits = {});

}  // namespace sc::image
