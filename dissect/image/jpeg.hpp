#pragma once
// JPEG images (SPICE_IMAGE_TYPE_JPEG, MJPEG video-stream frames) and JPEG_ALPHA,
// decoded by libjpeg-turbo's TurboJPEG API with its defaults (accurate DCT, fancy
// upsampling: what spice-gtk's image decoder gets from libjpeg).
//
// Faults: "truncated" (the data ends before the image does), "bad_magic" (no JPEG
// start-of-image marker), "bad_header" (libjpeg rejects the headers; for
// JPEG_ALPHA also an alpha plane whose row order or size disagrees with the JPEG),
// "too_large" (over Limits), "unsupported" (a colour space with no RGB conversion,
// such as CMYK), "corrupt" (libjpeg stops on bad entropy-coded data or warns). The
// JPEG's faults carry offset 0 or the payload's end (libjpeg does not say where
// it stopped); the alpha plane's are offsets into `data`.
#include <cstdint>
#include <span>

#include "dissect/image/pixels.hpp"

namespace sc::image {

// jpeg_alpha.flags: SPICE_JPEG_ALPHA_FLAGS_TOP_DOWN (spice/enums.h).
inline constexpr uint8_t kJpegAlphaTopDown = 1;

// Any baseline or progressive JPEG (gray, YCbCr, RGB) to Pixels with A = 0xff.
Decoded<Pixels> decode_jpeg(std::span<const uint8_t> payload, const Limits& limits = {});

// `data` is jpeg_alpha.data: `jpeg_size` bytes of JPEG, then an LZ stream of type
// XXXA with the alpha plane. As in spice-gtk (canvas_base.c), the JPEG is always
// top-down (libspice-server encodes bottom-up bitmaps upside down into it), while
// the alpha plane's rows follow its LZ header's top_down flag, which must agree with
// kJpegAlphaTopDown in `flags`. The result has has_alpha set.
Decoded<Pixels> decode_jpeg_alpha(std::span<const uint8_t> data, uint32_t jpeg_size, uint8_t flags,
                                  const Limits& limits = {});

}  // namespace sc::image
