#include "qxl-sim/font.hpp"

#include "qxl-sim/rng.hpp"

namespace sc::qxl {
namespace {

constexpr uint8_t kFull = 0xfc;   // 6 pixels wide
constexpr uint8_t kLeft = 0x80;
constexpr uint8_t kRight = 0x04;
constexpr uint8_t kMid = 0x20;

Glyph make_glyph(unsigned char c) {
  Glyph g;
  if (c <= ' ' || c >= 0x7f) return g;  // space and controls draw nothing
  const uint32_t h = hash32(c, 0x51ce);
  // Lowercase letters get an x-height body; others use the full cell.
  const int top = (c >= 'a' && c <= 'z') ? 3 : 0;
  const int bottom = kGlyphHeight - 1;
  for (int y = top; y <= bottom; ++y) {
    uint8_t row = 0;
    if (h & 1) row |= kLeft;
    if (h & 2) row |= kRight;
    if ((h & 4) && (y == top)) row |= kFull;
    if ((h & 8) && (y == (top + bottom) / 2)) row |= kFull;
    if ((h & 16) && (y == bottom)) row |= kFull;
    if (h & 32) row |= kMid;
    if ((h & 64) && ((y - top) % 3 == 1)) row |= uint8_t(kLeft >> ((y - top) % 5));
    g.rows[y] = row;
  }
  if (g.blank()) g.rows[bottom] = kFull;  // punctuation still shows something
  return g;
}

struct FontTable {
  std::array<Glyph, 128> glyphs;
  FontTable() {
    for (int i = 0; i < 128; ++i) glyphs[i] = make_glyph(static_cast<unsigned char>(i));
  }
};

}  // namespace

const Glyph& glyph_for(char c) {
  static const FontTable table;
  return table.glyphs[static_cast<unsigned char>(c) & 0x7f];
}

}  // namespace sc::qxl
