#include "qxl-sim/imagery.hpp"

#include <algorithm>
#include <cmath>
#include <memory>

#include "qxl-sim/rng.hpp"

namespace sc::qxl {
namespace {

float lattice(uint32_t seed, int32_t x, int32_t y) {
  return float(hash32(seed, uint32_t(x), uint32_t(y)) & 0xffff) / 65535.0f;
}

float smooth(float t) { return t * t * (3 - 2 * t); }

// Bilinear value noise with cell size `cell`.
float value_noise(uint32_t seed, float x, float y, float cell) {
  const float fx = x / cell, fy = y / cell;
  const int32_t ix = int32_t(std::floor(fx)), iy = int32_t(std::floor(fy));
  const float tx = smooth(fx - float(ix)), ty = smooth(fy - float(iy));
  const float a = lattice(seed, ix, iy), b = lattice(seed, ix + 1, iy);
  const float c = lattice(seed, ix, iy + 1), d = lattice(seed, ix + 1, iy + 1);
  return (a + (b - a) * tx) + ((c + (d - c) * tx) - (a + (b - a) * tx)) * ty;
}

float fractal(uint32_t seed, float x, float y, float base_cell) {
  float sum = 0, amp = 0.55f, cell = base_cell, norm = 0;
  for (int o = 0; o < 4; ++o) {
    sum += amp * value_noise(seed + uint32_t(o) * 101, x, y, cell);
    norm += amp;
    amp *= 0.5f;
    cell *= 0.5f;
  }
  return sum / norm;
}

uint8_t clamp8(float v) { return uint8_t(std::clamp(v, 0.0f, 255.0f)); }

uint32_t rgb(float r, float g, float b) {
  return (uint32_t(clamp8(r)) << 16) | (uint32_t(clamp8(g)) << 8) | clamp8(b);
}

// Terrain-ish palette: water, sand, grass, rock, snow, blended smoothly.
uint32_t landscape(float h, float shade, float grain) {
  float r, g, b;
  if (h < 0.42f) {
    const float t = h / 0.42f;
    r = 20 + 30 * t, g = 60 + 80 * t, b = 120 + 90 * t;
  } else if (h < 0.48f) {
    r = 194, g = 178, b = 128;
  } else if (h < 0.68f) {
    const float t = (h - 0.48f) / 0.2f;
    r = 60 - 20 * t, g = 140 - 40 * t, b = 50 - 10 * t;
  } else if (h < 0.82f) {
    const float t = (h - 0.68f) / 0.14f;
    r = 110 + 30 * t, g = 100 + 30 * t, b = 90 + 30 * t;
  } else {
    r = g = b = 235;
  }
  const float k = 0.75f + 0.5f * shade;
  return rgb(r * k + grain, g * k + grain, b * k + grain);
}

}  // namespace

ImagePtr natural_image(uint32_t width, uint32_t height, uint64_t seed, uint64_t id) {
  auto img = std::make_shared<Image>();
  img->width = width;
  img->height = height;
  img->id = id;
  img->pixels.resize(size_t(width) * height);
  const uint32_t s = uint32_t(seed ^ (seed >> 32));
  const float cell = float(std::max(width, height)) / 3.0f;
  for (uint32_t y = 0; y < height; ++y) {
    for (uint32_t x = 0; x < width; ++x) {
      const float h = fractal(s, float(x), float(y), cell);
      const float shade = fractal(s ^ 0x5bd1u, float(x), float(y), cell / 2);
      const float grain = float(int(hash32(s, x, y) % 13) - 6);
      img->pixels[size_t(y) * width + x] = landscape(h, shade, grain);
    }
  }
  return img;
}

ImagePtr icon_image(uint32_t size, uint32_t index, uint64_t id) {
  auto img = std::make_shared<Image>();
  img->width = img->height = size;
  img->id = id;
  img->cacheable = true;  // icons repeat: let the server cache them
  img->pixels.assign(size_t(size) * size, 0xf0f0f0);
  const uint32_t base = hash32(index, 7) & 0xffffff;
  const uint32_t m = size / 8;
  for (uint32_t y = m; y < size - m; ++y)
    for (uint32_t x = m; x < size - m; ++x) {
      const bool border = y == m || y == size - m - 1 || x == m || x == size - m - 1;
      const bool band = (y - m) < (size - 2 * m) / 3;
      img->pixels[size_t(y) * size + x] = border ? 0x202020 : band ? base : (base ^ 0x3f3f3f);
    }
  return img;
}

ImagePtr video_frame(uint32_t width, uint32_t height, uint64_t seed, uint64_t frame, uint64_t id) {
  auto img = std::make_shared<Image>();
  img->width = width;
  img->height = height;
  img->id = id;
  img->pixels.resize(size_t(width) * height);
  const uint32_t s = uint32_t(seed);
  const float t = float(frame);
  const float cx = width * (0.5f + 0.35f * std::sin(t * 0.07f));
  const float cy = height * (0.5f + 0.35f * std::cos(t * 0.05f));
  const float radius = float(std::min(width, height)) / 5;
  for (uint32_t y = 0; y < height; ++y) {
    for (uint32_t x = 0; x < width; ++x) {
      // A slowly panning landscape...
      const float h = fractal(s, float(x) + t * 3, float(y) + t, float(width) / 2);
      float r, g, b;
      const uint32_t p = landscape(h, 0.5f, float(int(hash32(s, x, y + uint32_t(frame)) % 9) - 4));
      r = float((p >> 16) & 0xff), g = float((p >> 8) & 0xff), b = float(p & 0xff);
      // ...with a soft moving ball in front of it.
      const float dx = float(x) - cx, dy = float(y) - cy;
      const float d = std::sqrt(dx * dx + dy * dy) / radius;
      if (d < 1) {
        const float k = (1 - d) * (1 - d);
        r = r * (1 - k) + 250 * k, g = g * (1 - k) + 90 * k, b = b * (1 - k) + 40 * k;
      }
      img->pixels[size_t(y) * width + x] = rgb(r, g, b);
    }
  }
  return img;
}

namespace {

// Builds a mono cursor from a picture: '#' black, '.' white, ' ' transparent,
// 'x' inverted. AND=1,XOR=0 keeps the screen; AND=0 sets XOR's colour; AND=1,XOR=1 inverts.
CursorShapePtr mono_from_art(const char* const* art, uint16_t w, uint16_t h, uint16_t hx,
                             uint16_t hy, uint64_t unique) {
  auto c = std::make_shared<CursorShape>();
  c->kind = CursorKind::kMono;
  c->width = w;
  c->height = h;
  c->hot_x = hx;
  c->hot_y = hy;
  c->unique = unique;
  const size_t stride = (w + 7) / 8;
  c->data.assign(stride * h * 2, 0);
  uint8_t* and_mask = c->data.data();
  uint8_t* xor_mask = and_mask + stride * h;
  for (uint16_t y = 0; y < h; ++y)
    for (uint16_t x = 0; x < w; ++x) {
      const char ch = art[y][x];
      const uint8_t bit = uint8_t(0x80 >> (x % 8));
      const size_t at = y * stride + x / 8;
      if (ch == ' ' || ch == 'x') and_mask[at] |= bit;
      if (ch == '.' || ch == 'x') xor_mask[at] |= bit;
    }
  return c;
}

}  // namespace

CursorShapePtr arrow_cursor_mono(uint64_t unique) {
  static const char* const art[16] = {
      "#               ", "##              ", "#.#             ", "#..#            ",
      "#...#           ", "#....#          ", "#.....#         ", "#......#        ",
      "#.......#       ", "#....#####      ", "#..#..#         ", "#.# #..#        ",
      "##  #..#        ", "#    #..#       ", "     #..#       ", "      ##        "};
  return mono_from_art(art, 16, 16, 0, 0, unique);
}

CursorShapePtr ibeam_cursor_mono(uint64_t unique) {
  static const char* const art[16] = {
      "    xxx xxx     ", "       x        ", "       x        ", "       x        ",
      "       x        ", "       x        ", "       x        ", "       x        ",
      "       x        ", "       x        ", "       x        ", "       x        ",
      "       x        ", "       x        ", "       x        ", "    xxx xxx     "};
  return mono_from_art(art, 16, 16, 7, 8, unique);
}

CursorShapePtr alpha_cursor(uint16_t size, uint32_t tint, uint64_t unique) {
  auto c = std::make_shared<CursorShape>();
  c->kind = CursorKind::kAlpha;
  c->width = c->height = size;
  c->hot_x = c->hot_y = uint16_t(size / 2);
  c->unique = unique;
  c->data.resize(size_t(size) * size * 4);
  const float r0 = size / 2.0f;
  for (uint16_t y = 0; y < size; ++y)
    for (uint16_t x = 0; x < size; ++x) {
      const float dx = x + 0.5f - r0, dy = y + 0.5f - r0;
      const float d = std::sqrt(dx * dx + dy * dy) / r0;
      const uint8_t a = d >= 1 ? 0 : uint8_t(255 * (1 - d * d));
      // Premultiplied ARGB, little-endian: B, G, R, A.
      const uint32_t px = (uint32_t(a) << 24) | (uint32_t(((tint >> 16) & 0xff) * a / 255) << 16) |
                          (uint32_t(((tint >> 8) & 0xff) * a / 255) << 8) |
                          uint32_t((tint & 0xff) * a / 255);
      const size_t at = (size_t(y) * size + x) * 4;
      c->data[at] = uint8_t(px);
      c->data[at + 1] = uint8_t(px >> 8);
      c->data[at + 2] = uint8_t(px >> 16);
      c->data[at + 3] = uint8_t(px >> 24);
    }
  return c;
}

}  // namespace sc::qxl
