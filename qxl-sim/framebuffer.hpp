#pragma once
// A software surface: 32-bit xRGB pixels, top-down. The simulator draws every
// op into one of these so it always knows the frame a client should show.
#include <cstdint>
#include <string>
#include <vector>

#include "qxl-sim/geometry.hpp"

namespace sc::qxl {

class Framebuffer {
 public:
  Framebuffer() = default;
  Framebuffer(Size size, uint32_t color = 0);

  Size size() const { return size_; }
  Rect bounds() const { return Rect::of(size_); }
  const std::vector<uint32_t>& pixels() const { return pixels_; }
  uint32_t at(int32_t x, int32_t y) const { return pixels_[size_t(y) * size_.width + x]; }

  // All drawing clips to the surface; pixels outside are silently dropped.
  void fill(const Rect& r, uint32_t color);
  // Copies `src` (stride in pixels) to dst; dst.w/h give the copied size.
  void blit(const Rect& dst, const uint32_t* src, uint32_t src_stride);
  // Moves dst-sized pixels from src to dst inside this surface (overlap-safe).
  void copy_bits(Point src, const Rect& dst);
  // Sets pixels where the 1-bit row mask (MSB = left) has a one.
  void stamp_rows(Point at, const uint8_t* rows, int height, uint32_t color, const Rect& clip);

  // Counts pixels that differ in their RGB bits (the x byte is ignored: SPICE
  // does not carry it for xRGB surfaces).
  uint64_t diff(const uint32_t* other, int32_t other_stride_px) const;
  uint64_t hash() const;
  // Binary PPM (P6), the format spicy-screenshot writes.
  bool write_ppm(const std::string& path) const;

 private:
  Size size_;
  std::vector<uint32_t> pixels_;
};

// Reads a binary PPM into xRGB pixels; false if the file is not a P6 of maxval 255.
bool read_ppm(const std::string& path, Size& size, std::vector<uint32_t>& pixels);

}  // namespace sc::qxl
