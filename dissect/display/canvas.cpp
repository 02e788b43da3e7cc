#include "dissect/display/canvas.hpp"

#include <spice/enums.h>

#include <algorithm>
#include <array>

namespace sc::display {

namespace {

// pixman's rounding of an 8-bit product: what the client's compositing computes.
inline uint32_t mul_un8(uint32_t a, uint32_t b) {
  const uint32_t t = a * b + 0x80;
  return ((t >> 8) + t) >> 8;
}

inline int32_t floor_mod(int32_t v, int32_t m) {
  const int32_t r = v % m;
  return r < 0 ? r + m : r;
}

constexpr uint32_t kRgb = 0x00ffffffu;
constexpr uint32_t kOpaque = 0xff000000u;

// Nearest-neighbour source coordinate of destination pixel d in a scaled copy:
// the pixel centre mapped through the scale, as pixman samples it.
inline int32_t nearest(int32_t d, int32_t dest_origin, int32_t dest_size, int32_t src_origin, int32_t src_size) {
  const int64_t num = (int64_t{d - dest_origin} * 2 + 1) * src_size;
  const int64_t den = int64_t{dest_size} * 2;
  return src_origin + static_cast<int32_t>((num - 1) / den);
}

}  // namespace

Rect Rect::intersect(const Rect& o) const {
  Rect r{std::max(left, o.left), std::max(top, o.top), std::min(right, o.right), std::min(bottom, o.bottom)};
  if (r.empty()) return {};
  return r;
}

Region clip_region(const Rect& box, std::span<const Rect> clip, bool has_clip, const Rect& surface) {
  Region out;
  const Rect b = box.intersect(surface);
  if (b.empty()) return out;
  if (!has_clip) {
    out.push_back(b);
    return out;
  }
  for (const Rect& c : clip) {
    const Rect r = b.intersect(c);
    if (!r.empty()) out.push_back(r);
  }
  return out;
}

Rop rop_from_descriptor(uint16_t d, RopInput source, RopInput dest) {
  static constexpr std::array<uint16_t, 3> kInvert = {SPICE_ROPD_INVERS_SRC, SPICE_ROPD_INVERS_BRUSH,
                                                      SPICE_ROPD_INVERS_DEST};
  const bool inv_s = d & kInvert[static_cast<size_t>(source)];
  const bool inv_d = d & kInvert[static_cast<size_t>(dest)];
  const bool inv_r = d & SPICE_ROPD_INVERS_RES;
  // The descriptor's operation as a truth table over (s, d); the first op bit wins,
  // as in the client. Blackness, whiteness and invers ignore the invert flags.
  int op = -1;  // 0 put, 1 or, 2 and, 3 xor
  if (d & SPICE_ROPD_OP_PUT) op = 0;
  else if (d & SPICE_ROPD_OP_OR) op = 1;
  else if (d & SPICE_ROPD_OP_AND) op = 2;
  else if (d & SPICE_ROPD_OP_XOR) op = 3;
  else if (d & SPICE_ROPD_OP_BLACKNESS) return Rop::Clear;
  else if (d & SPICE_ROPD_OP_WHITENESS) return Rop::Set;
  else if (d & SPICE_ROPD_OP_INVERS) return Rop::Invert;
  else return Rop::Copy;
  unsigned table = 0;
  for (unsigned s = 0; s < 2; ++s) {
    for (unsigned t = 0; t < 2; ++t) {
      const unsigned a = s ^ inv_s, b = t ^ inv_d;
      unsigned r = 0;
      switch (op) {
        case 0: r = a; break;
        case 1: r = a | b; break;
        case 2: r = a & b; break;
        default: r = a ^ b; break;
      }
      r ^= inv_r;
      // X11's GX numbering: bit 0 is (s=1, d=1), bit 1 (1, 0), bit 2 (0, 1), bit 3 (0, 0).
      const unsigned bit = (s ? 0 : 2) + (t ? 0 : 1);
      table |= r << bit;
    }
  }
  return static_cast<Rop>(table);
}

uint32_t apply_rop(Rop rop, uint32_t s, uint32_t d) {
  switch (rop) {
    case Rop::Clear: return 0;
    case Rop::And: return s & d;
    case Rop::AndReverse: return s & ~d;
    case Rop::Copy: return s;
    case Rop::AndInverted: return ~s & d;
    case Rop::Noop: return d;
    case Rop::Xor: return s ^ d;
    case Rop::Or: return s | d;
    case Rop::Nor: return ~(s | d);
    case Rop::Equiv: return ~(s ^ d);
    case Rop::Invert: return ~d;
    case Rop::OrReverse: return s | ~d;
    case Rop::CopyInverted: return ~s;
    case Rop::OrInverted: return ~s | d;
    case Rop::Nand: return ~(s & d);
    case Rop::Set: return 0xffffffffu;
  }
  return s;
}

bool Mask::covers(int32_t x, int32_t y) const {
  if (!bits) return true;
  const int64_t mx = int64_t{x} - origin.x + pos.x, my = int64_t{y} - origin.y + pos.y;
  bool on = false;
  if (mx >= 0 && my >= 0 && mx < bits->width && my < bits->height) {
    on = (bits->at(static_cast<uint32_t>(mx), static_cast<uint32_t>(my)) & kRgb) != 0;
  }
  return on != invert;
}

uint32_t Brush::at(int32_t x, int32_t y) const {
  if (kind == Kind::Solid) return color;
  if (kind == Kind::Pattern && pattern && pattern->width && pattern->height) {
    const auto w = static_cast<int32_t>(pattern->width), h = static_cast<int32_t>(pattern->height);
    return pattern->at(static_cast<uint32_t>(floor_mod(x - pos.x, w)), static_cast<uint32_t>(floor_mod(y - pos.y, h)));
  }
  return 0;
}

void Surface::clear(uint32_t value) { std::fill(pixels_.data.begin(), pixels_.data.end(), value); }

void Surface::fill(const Region& region, const Brush& brush, Rop rop, const Mask* mask) {
  if (brush.kind == Brush::Kind::None) return;
  for (const Rect& r : region) {
    for (int32_t y = r.top; y < r.bottom; ++y) {
      uint32_t* row = pixels_.row(static_cast<uint32_t>(y));
      for (int32_t x = r.left; x < r.right; ++x) {
        if (mask && !mask->covers(x, y)) continue;
        row[x] = apply_rop(rop, brush.at(x, y) | kOpaque, row[x]);
      }
    }
  }
}

namespace {

// Visits every destination pixel of `region` with its source pixel (same size or
// nearest-neighbour scaled from src_area onto dest_box).
template <typename Fn>
void each_source_pixel(image::Pixels& dst, const Region& region, const image::Pixels& src, const Rect& src_area,
                       const Rect& dest_box, Fn&& fn) {
  if (dest_box.empty() || src_area.empty()) return;
  const bool same = dest_box.width() == src_area.width() && dest_box.height() == src_area.height();
  for (const Rect& r : region) {
    for (int32_t y = r.top; y < r.bottom; ++y) {
      const int32_t sy = same ? y - dest_box.top + src_area.top
                              : nearest(y, dest_box.top, dest_box.height(), src_area.top, src_area.height());
      if (sy < 0 || sy >= static_cast<int32_t>(src.height)) continue;
      uint32_t* row = dst.row(static_cast<uint32_t>(y));
      const uint32_t* s = src.row(static_cast<uint32_t>(sy));
      for (int32_t x = r.left; x < r.right; ++x) {
        const int32_t sx = same ? x - dest_box.left + src_area.left
                                : nearest(x, dest_box.left, dest_box.width(), src_area.left, src_area.width());
        if (sx < 0 || sx >= static_cast<int32_t>(src.width)) continue;
        fn(x, y, s[sx], row[x]);
      }
    }
  }
}

}  // namespace

void Surface::put(const Region& region, const image::Pixels& src, const Rect& src_area, const Rect& dest_box, Rop rop,
                  const Mask* mask) {
  const bool same = dest_box.width() == src_area.width() && dest_box.height() == src_area.height();
  if (same && rop == Rop::Copy && !mask) {
    // The common case (an image put as it is): whole rows at once.
    const int32_t dx = dest_box.left - src_area.left, dy = dest_box.top - src_area.top;
    const Rect src_bounds{dx, dy, dx + static_cast<int32_t>(src.width), dy + static_cast<int32_t>(src.height)};
    for (const Rect& whole : region) {
      const Rect r = whole.intersect(src_bounds);
      for (int32_t y = r.top; y < r.bottom; ++y) {
        const uint32_t* s = src.row(static_cast<uint32_t>(y - dy)) - dx;
        std::copy(s + r.left, s + r.right, pixels_.row(static_cast<uint32_t>(y)) + r.left);
      }
    }
    return;
  }
  each_source_pixel(pixels_, region, src, src_area, dest_box, [&](int32_t x, int32_t y, uint32_t s, uint32_t& d) {
    if (!mask || mask->covers(x, y)) d = apply_rop(rop, s, d);
  });
}

void Surface::transparent(const Region& region, const image::Pixels& src, const Rect& src_area, const Rect& dest_box,
                          uint32_t color) {
  each_source_pixel(pixels_, region, src, src_area, dest_box, [&](int32_t, int32_t, uint32_t s, uint32_t& d) {
    if ((s & kRgb) != (color & kRgb)) d = s | kOpaque;
  });
}

void Surface::alpha_blend(const Region& region, const image::Pixels& src, const Rect& src_area, const Rect& dest_box,
                          uint8_t alpha, bool src_alpha) {
  each_source_pixel(pixels_, region, src, src_area, dest_box, [&](int32_t, int32_t, uint32_t s, uint32_t& d) {
    const uint32_t sa = mul_un8(src_alpha ? s >> 24 : 0xff, alpha);
    const uint32_t keep = 255 - sa;
    uint32_t out = 0;
    for (unsigned shift = 0; shift < 24; shift += 8) {
      const uint32_t c = mul_un8((s >> shift) & 0xff, alpha) + mul_un8((d >> shift) & 0xff, keep);
      out |= std::min<uint32_t>(c, 255) << shift;
    }
    d = out | kOpaque;
  });
}

void Surface::copy_bits(const Region& region, const Rect& box, Point src_pos) {
  // Through a copy of the source area: source and destination overlap when a window scrolls.
  const int32_t dx = src_pos.x - box.left, dy = src_pos.y - box.top;
  const Rect bounds = this->bounds();
  for (const Rect& whole : region) {
    const Rect src_rect = Rect{whole.left + dx, whole.top + dy, whole.right + dx, whole.bottom + dy}.intersect(bounds);
    if (src_rect.empty()) continue;
    std::vector<uint32_t> tmp(static_cast<size_t>(src_rect.width()) * src_rect.height());
    for (int32_t y = src_rect.top; y < src_rect.bottom; ++y) {
      const uint32_t* s = pixels_.row(static_cast<uint32_t>(y));
      std::copy(s + src_rect.left, s + src_rect.right, tmp.begin() + static_cast<ptrdiff_t>(y - src_rect.top) * src_rect.width());
    }
    const Rect dst{src_rect.left - dx, src_rect.top - dy, src_rect.right - dx, src_rect.bottom - dy};
    for (int32_t y = dst.top; y < dst.bottom; ++y) {
      const auto* t = tmp.data() + static_cast<ptrdiff_t>(y - dst.top) * src_rect.width();
      std::copy(t, t + src_rect.width(), pixels_.row(static_cast<uint32_t>(y)) + dst.left);
    }
  }
}

void Surface::rop3(const Region& region, const image::Pixels& src, const Rect& src_area, const Rect& dest_box,
                   const Brush& brush, uint8_t code, const Mask* mask) {
  each_source_pixel(pixels_, region, src, src_area, dest_box, [&](int32_t x, int32_t y, uint32_t s, uint32_t& d) {
    if (mask && !mask->covers(x, y)) return;
    const uint32_t p = brush.at(x, y);
    uint32_t out = 0;
    // Bit i of the code is the result for pattern, source, destination bits (i>>2, i>>1, i) & 1.
    for (unsigned i = 0; i < 8; ++i) {
      if (!((code >> i) & 1)) continue;
      out |= ((i & 4) ? p : ~p) & ((i & 2) ? s : ~s) & ((i & 1) ? d : ~d);
    }
    d = out;
  });
}

void Surface::coverage(const Region& region, const std::vector<uint8_t>& alpha, const Rect& at, uint32_t color) {
  for (const Rect& whole : region) {
    const Rect r = whole.intersect(at);
    for (int32_t y = r.top; y < r.bottom; ++y) {
      uint32_t* row = pixels_.row(static_cast<uint32_t>(y));
      const uint8_t* a = alpha.data() + static_cast<size_t>(y - at.top) * at.width() - at.left;
      for (int32_t x = r.left; x < r.right; ++x) {
        const uint32_t m = a[x];
        if (m == 0) continue;
        if (m == 255) {
          row[x] = (color & kRgb) | kOpaque;
          continue;
        }
        uint32_t out = 0;
        for (unsigned shift = 0; shift < 24; shift += 8) {
          out |= (mul_un8((color >> shift) & 0xff, m) + mul_un8((row[x] >> shift) & 0xff, 255 - m)) << shift;
        }
        row[x] = out | kOpaque;
      }
    }
  }
}

Rect extents(const Region& region) {
  Rect e;
  bool first = true;
  for (const Rect& r : region) {
    e = first ? r : Rect{std::min(e.left, r.left), std::min(e.top, r.top), std::max(e.right, r.right),
                         std::max(e.bottom, r.bottom)};
    first = false;
  }
  return e;
}

Rect glyph_coverage(std::span<const Glyph> glyphs, unsigned bpp, const Rect& within, std::vector<uint8_t>& coverage) {
  Rect box;
  bool first = true;
  for (const Glyph& g : glyphs) {
    const int64_t x = int64_t{g.render_pos.x} + g.origin.x, y = int64_t{g.render_pos.y} + g.origin.y;
    const Rect r{clamp_coordinate(x), clamp_coordinate(y), clamp_coordinate(x + g.width),
                 clamp_coordinate(y + g.height)};
    if (r.empty()) continue;
    box = first ? r : Rect{std::min(box.left, r.left), std::min(box.top, r.top), std::max(box.right, r.right),
                           std::max(box.bottom, r.bottom)};
    first = false;
  }
  box = box.intersect(within);
  coverage.assign(box.empty() ? 0 : static_cast<size_t>(box.width()) * box.height(), 0);
  if (box.empty()) return {};
  for (const Glyph& g : glyphs) {
    const size_t stride = (size_t{g.width} * bpp + 7) / 8;
    if (g.width == 0 || g.height == 0 || g.data.size() < stride * g.height) continue;
    const int64_t left = int64_t{g.render_pos.x} + g.origin.x - box.left;
    const int64_t top = int64_t{g.render_pos.y} + g.origin.y - box.top;
    for (uint32_t row = 0; row < g.height; ++row) {
      const int64_t y = top + row;
      if (y < 0 || y >= box.height()) continue;
      // Glyph rows travel bottom-up.
      const uint8_t* src = g.data.data() + (g.height - 1 - row) * stride;
      uint8_t* line = coverage.data() + static_cast<size_t>(y) * box.width();
      for (uint32_t x = 0; x < g.width; ++x) {
        const int64_t cx = left + x;
        if (cx < 0 || cx >= box.width()) continue;
        uint8_t v = 0;
        switch (bpp) {
          case 1: v = (src[x / 8] >> (7 - x % 8)) & 1 ? 0xff : 0; break;
          case 4: v = static_cast<uint8_t>((x % 2 ? src[x / 2] << 4 : src[x / 2]) & 0xf0); break;
          default: v = src[x]; break;
        }
        line[cx] = std::max(line[cx], v);
      }
    }
  }
  return box;
}

}  // namespace sc::display
