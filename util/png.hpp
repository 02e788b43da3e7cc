#pragma once
// Picture files of 32-bit 0xAARRGGBB pixels: the one PNG writer of the project
// (renders, exported images, clipboard images; libpng's simplified API) and a
// reader of PNG and binary PPM (what spicy-screenshot writes) for comparisons.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace sc::util {

// `alpha` = keep A; otherwise every pixel is written opaque (xRGB surfaces carry
// no meaning in that byte). Empty on failure (zero size, libpng refusing).
std::vector<uint8_t> encode_png(uint32_t width, uint32_t height, std::span<const uint32_t> argb, bool alpha = false);
Result<void> write_png(const std::string& path, uint32_t width, uint32_t height, std::span<const uint32_t> argb,
                       bool alpha = false);

struct Picture {
  uint32_t width = 0, height = 0;
  std::vector<uint32_t> argb;  // A = 0xff for files without alpha
};
// A PNG or a binary PPM (P6, maxval 255), told apart by their signatures.
Result<Picture> read_picture(const std::string& path);

}  // namespace sc::util
