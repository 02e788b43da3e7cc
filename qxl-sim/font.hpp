#pragma once
// The simulator's built-in bitmap font. Glyph shapes are generated from each
// character code (strokes picked by its bits), so they look like text at a glance
// without shipping a font table; what matters to SPICE is that text travels as
// QXL_DRAW_TEXT with 1-bit raster glyphs, and that both the framebuffer and the
// command builder read the very same bits.
#include <array>
#include <cstdint>

namespace sc::qxl {

inline constexpr int kCellWidth = 8;    // advance per character
inline constexpr int kCellHeight = 12;  // line height
inline constexpr int kGlyphWidth = 6;
inline constexpr int kGlyphHeight = 9;
inline constexpr int kGlyphLeft = 1;    // glyph box offset inside its cell
inline constexpr int kGlyphTop = 2;

struct Glyph {
  // One byte per row, most significant bit = leftmost pixel (SPICE A1 rasters).
  std::array<uint8_t, kGlyphHeight> rows{};
  bool blank() const {
    for (uint8_t r : rows)
      if (r) return false;
    return true;
  }
};

const Glyph& glyph_for(char c);

}  // namespace sc::qxl
