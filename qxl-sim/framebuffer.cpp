#include "qxl-sim/framebuffer.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>

namespace sc::qxl {

Framebuffer::Framebuffer(Size size, uint32_t color)
    : size_(size), pixels_(size_t(size.width) * size.height, color) {}

void Framebuffer::fill(const Rect& r, uint32_t color) {
  const Rect c = r.intersect(bounds());
  for (int32_t y = c.y; y < c.bottom(); ++y) {
    uint32_t* row = &pixels_[size_t(y) * size_.width];
    std::fill(row + c.x, row + c.right(), color);
  }
}

void Framebuffer::blit(const Rect& dst, const uint32_t* src, uint32_t src_stride) {
  const Rect c = dst.intersect(bounds());
  for (int32_t y = c.y; y < c.bottom(); ++y) {
    const uint32_t* s = src + size_t(y - dst.y) * src_stride + (c.x - dst.x);
    std::memcpy(&pixels_[size_t(y) * size_.width + c.x], s, size_t(c.w) * 4);
  }
}

void Framebuffer::copy_bits(Point src, const Rect& dst) {
  // Clip source and destination together so both stay inside the surface.
  Rect d = dst.intersect(bounds());
  const int32_t dx = src.x - dst.x, dy = src.y - dst.y;
  d = d.intersect(Rect{bounds().x - dx, bounds().y - dy, bounds().w, bounds().h});
  if (d.empty()) return;
  // A temporary copy is the simplest overlap-safe move; sizes here are small.
  std::vector<uint32_t> tmp(size_t(d.w) * d.h);
  for (int32_t y = 0; y < d.h; ++y)
    std::memcpy(&tmp[size_t(y) * d.w], &pixels_[size_t(d.y + y + dy) * size_.width + d.x + dx],
                size_t(d.w) * 4);
  blit(d, tmp.data(), uint32_t(d.w));
}

void Framebuffer::stamp_rows(Point at, const uint8_t* rows, int height, uint32_t color,
                             const Rect& clip) {
  const Rect c = clip.intersect(bounds());
  for (int y = 0; y < height; ++y) {
    const int32_t py = at.y + y;
    if (py < c.y || py >= c.bottom()) continue;
    for (int x = 0; x < 8; ++x) {
      const int32_t px = at.x + x;
      if (px < c.x || px >= c.right()) continue;
      if (rows[y] & (0x80 >> x)) pixels_[size_t(py) * size_.width + px] = color;
    }
  }
}

uint64_t Framebuffer::diff(const uint32_t* other, int32_t other_stride_px) const {
  uint64_t n = 0;
  for (uint32_t y = 0; y < size_.height; ++y) {
    const uint32_t* a = &pixels_[size_t(y) * size_.width];
    const uint32_t* b = other + int64_t(y) * other_stride_px;
    for (uint32_t x = 0; x < size_.width; ++x) n += ((a[x] ^ b[x]) & 0xffffff) != 0;
  }
  return n;
}

uint64_t Framebuffer::hash() const {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (uint32_t p : pixels_) {
    h ^= (p & 0xffffff);
    h *= 0x100000001b3ULL;
  }
  return h;
}

bool Framebuffer::write_ppm(const std::string& path) const {
  std::ofstream out(path, std::ios::binary);
  if (!out) return false;
  out << "P6\n" << size_.width << " " << size_.height << "\n255\n";
  std::vector<uint8_t> row(size_t(size_.width) * 3);
  for (uint32_t y = 0; y < size_.height; ++y) {
    for (uint32_t x = 0; x < size_.width; ++x) {
      const uint32_t p = pixels_[size_t(y) * size_.width + x];
      row[x * 3] = uint8_t(p >> 16);
      row[x * 3 + 1] = uint8_t(p >> 8);
      row[x * 3 + 2] = uint8_t(p);
    }
    out.write(reinterpret_cast<const char*>(row.data()), std::streamsize(row.size()));
  }
  return bool(out);
}

namespace {
// Reads one header token of a PPM, skipping whitespace and comments.
bool ppm_token(std::istream& in, std::string& tok) {
  tok.clear();
  int ch;
  while ((ch = in.get()) != EOF) {
    if (ch == '#') {
      while ((ch = in.get()) != EOF && ch != '\n') {
      }
      continue;
    }
    if (std::isspace(ch)) {
      if (!tok.empty()) return true;
      continue;
    }
    tok.push_back(char(ch));
  }
  return !tok.empty();
}
}  // namespace

bool read_ppm(const std::string& path, Size& size, std::vector<uint32_t>& pixels) {
  std::ifstream in(path, std::ios::binary);
  std::string magic, w, h, maxval;
  if (!in || !ppm_token(in, magic) || magic != "P6" || !ppm_token(in, w) || !ppm_token(in, h) ||
      !ppm_token(in, maxval) || maxval != "255")
    return false;
  size = Size{uint32_t(std::stoul(w)), uint32_t(std::stoul(h))};
  if (size.width == 0 || size.height == 0 || size.width > 16384 || size.height > 16384)
    return false;
  std::vector<uint8_t> raw(size_t(size.width) * size.height * 3);
  in.read(reinterpret_cast<char*>(raw.data()), std::streamsize(raw.size()));
  if (size_t(in.gcount()) != raw.size()) return false;
  pixels.resize(size_t(size.width) * size.height);
  for (size_t i = 0; i < pixels.size(); ++i)
    pixels[i] = (uint32_t(raw[i * 3]) << 16) | (uint32_t(raw[i * 3 + 1]) << 8) | raw[i * 3 + 2];
  return true;
}

}  // namespace sc::qxl
