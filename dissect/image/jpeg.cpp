// JPEG and JPEG_ALPHA through TurboJPEG (see jpeg.hpp).
#include "dissect/image/jpeg.hpp"

#include <turbojpeg.h>

#include <bit>
#include <cstdio>
#include <memory>
#include <string>

#include "dissect/image/lz.hpp"

#if __has_include(<spice/enums.h>)
#include <spice/enums.h>
static_assert(sc::image::kJpegAlphaTopDown == SPICE_JPEG_ALPHA_FLAGS_TOP_DOWN);
#endif

namespace sc::image {
namespace {

struct TjDestroy {
  void operator()(void* handle) const { tjDestroy(handle); }
};
using TjHandle = std::unique_ptr<void, TjDestroy>;

// 0xAARRGGBB in native order; TurboJPEG fills the alpha byte with 0xff.
constexpr int kPixelFormat = std::endian::native == std::endian::little ? TJPF_BGRA : TJPF_ARGB;
// Warnings (premature end, extraneous bytes, bad Huffman codes filled in as zeros)
// mean the picture is not what was sent: a fault, not a guess. LIMITSCANS refuses
// progressive JPEGs with more than 500 scans, which take time without end.
constexpr int kFlags = TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS;

std::string num(uint64_t v) { return std::to_string(v); }

// Encoders end every JPEG with an EOI marker; without one the data was cut short,
// whatever libjpeg makes of what is left.
bool ends_with_eoi(std::span<const uint8_t> p) {
  return p.size() >= 4 && p[p.size() - 2] == 0xff && p[p.size() - 1] == 0xd9;
}

Fault libjpeg_fault(void* handle, std::span<const uint8_t> p, const char* stage, const char* code) {
  const std::string why = std::string("JPEG ") + stage + ": " + tjGetErrorStr2(handle);
  if (!ends_with_eoi(p)) return fault("truncated", p.size(), why + " (no end-of-image marker)");
  return fault(code, 0, why);
}

uint32_t be32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | uint32_t{p[3]};
}

}  // namespace

Decoded<Pixels> decode_jpeg(std::span<const uint8_t> payload, const Limits& limits) {
  if (payload.size() < 2) return fault("truncated", payload.size(), "JPEG of " + num(payload.size()) + " bytes");
  if (payload[0] != 0xff || payload[1] != 0xd8) {
    char text[64];
    std::snprintf(text, sizeof text, "JPEG starts with 0x%02x 0x%02x, not the SOI marker", payload[0], payload[1]);
    return fault("bad_magic", 0, text);
  }
  const TjHandle tj(tjInitDecompress());
  if (!tj) return fault("unsupported", 0, std::string("TurboJPEG: ") + tjGetErrorStr2(nullptr));

  // A stream of tables alone "succeeds" here without setting the sizes: hence the zeros.
  int width = 0, height = 0, subsampling = 0, colorspace = 0;
  if (tjDecompressHeader3(tj.get(), payload.data(), payload.size(), &width, &height, &subsampling, &colorspace) != 0)
    return libjpeg_fault(tj.get(), payload, "header", "bad_header");
  if (width <= 0 || height <= 0) {
    if (!ends_with_eoi(payload)) return fault("truncated", payload.size(), "JPEG ends before its frame header");
    return fault("bad_header", 0, "JPEG without an image (tables only)");
  }
  if (!limits.allows(static_cast<uint32_t>(width), static_cast<uint32_t>(height)))
    return fault("too_large", 0,
                 "JPEG of " + num(width) + "x" + num(height) + " is over the limits (" + num(limits.max_side) +
                     " a side, " + num(limits.max_pixels) + " pixels)");
  if (colorspace == TJCS_CMYK || colorspace == TJCS_YCCK)
    return fault("unsupported", 0, "JPEG in CMYK/YCCK (no RGB conversion)");

  Pixels px(static_cast<uint32_t>(width), static_cast<uint32_t>(height));
  if (tjDecompress2(tj.get(), payload.data(), payload.size(), reinterpret_cast<unsigned char*>(px.data.data()), width,
                    width * 4, height, kPixelFormat, kFlags) != 0)
    return libjpeg_fault(tj.get(), payload, "data", "corrupt");
  return px;
}

Decoded<Pixels> decode_jpeg_alpha(std::span<const uint8_t> data, uint32_t jpeg_size, uint8_t flags,
                                  const Limits& limits) {
  if (jpeg_size > data.size())
    return fault("truncated", data.size(),
                 "JPEG_ALPHA: jpeg_size " + num(jpeg_size) + " but the data has " + num(data.size()) + " bytes");
  auto image = decode_jpeg(data.first(jpeg_size), limits);
  if (!image.ok()) return image;
  Pixels& px = image.value();

  // The alpha plane's own header (seven big-endian words: magic, version, type,
  // width, height, stride, top_down) must give the JPEG's size and the row order the
  // flags say; spice-gtk refuses the image otherwise. A short or alien header is for
  // decode_lz_alpha to report.
  const std::span<const uint8_t> alpha = data.subspan(jpeg_size);
  constexpr uint32_t kLzMagic = 0x20205a4c;
  if (alpha.size() >= 28 && be32(alpha.data()) == kLzMagic) {
    const uint32_t w = be32(alpha.data() + 12), h = be32(alpha.data() + 16);
    if (w != px.width || h != px.height)
      return fault("bad_header", uint64_t{jpeg_size} + 12,
                   "JPEG_ALPHA: an alpha plane of " + num(w) + "x" + num(h) + " for a JPEG of " + num(px.width) +
                       "x" + num(px.height));
    const bool lz_top_down = be32(alpha.data() + 24) != 0;
    const bool top_down = (flags & kJpegAlphaTopDown) != 0;
    if (lz_top_down != top_down)
      return fault("bad_header", uint64_t{jpeg_size} + 24,
                   std::string("JPEG_ALPHA: the alpha plane is ") + (lz_top_down ? "top-down" : "bottom-up") +
                       ", the flags say " + (top_down ? "top-down" : "bottom-up"));
  }
  if (auto done = decode_lz_alpha(alpha, px); !done.ok()) {
    Fault f = done.error();
    f.offset += jpeg_size;
    f.text = "JPEG_ALPHA alpha plane: " + f.text;
    return f;
  }
  return image;
}

}  // namespace sc::image
