#pragma once
// Drawing as a SPICE client draws: the raster operations of the display channel's
// draw commands applied to 32-bit surfaces, restricted to a destination region
// (the command's box cut by its clip) and an optional 1-bit mask.
//
// The rules follow what spice-gtk's software canvas does, because the point is to
// show the picture the user saw: raster-op descriptors map to the 16 boolean ops,
// masks select destination pixels through their position, glyph rows arrive
// bottom-up, A4 glyph coverage is the nibble shifted up (never 0xff), text is an
// OVER composite of the brush through the glyph coverage.
#include <cstdint>
#include <span>
#include <vector>

#include "dissect/image/pixels.hpp"

namespace sc::display {

struct Rect {
  int32_t left = 0, top = 0, right = 0, bottom = 0;
  bool empty() const { return right <= left || bottom <= top; }
  int32_t width() const { return right - left; }
  int32_t height() const { return bottom - top; }
  Rect intersect(const Rect& o) const;
  bool operator==(const Rect&) const = default;
};
struct Point {
  int32_t x = 0, y = 0;
};

// Coordinates from the wire are kept within this range, far beyond any surface
// (Limits::max_side), so sums and differences of them never overflow.
inline constexpr int64_t kCoordinateLimit = int64_t{1} << 24;
constexpr int32_t clamp_coordinate(int64_t v) {
  return static_cast<int32_t>(v < -kCoordinateLimit ? -kCoordinateLimit : v > kCoordinateLimit ? kCoordinateLimit : v);
}

// A destination region: disjoint rectangles (SPICE clip lists are the server's
// pixman region, so they do not overlap).
using Region = std::vector<Rect>;
// The box cut by the clip rectangles (none = the box alone), and by the surface.
Region clip_region(const Rect& box, std::span<const Rect> clip, bool has_clip, const Rect& surface);

// The 16 boolean combinations of source and destination bits.
enum class Rop : uint8_t {
  Clear, And, AndReverse, Copy, AndInverted, Noop, Xor, Or, Nor, Equiv, Invert, OrReverse,
  CopyInverted, OrInverted, Nand, Set
};
// Which operand of a draw command plays "source" in a raster-op descriptor.
enum class RopInput : uint8_t { Src, Brush, Dest };
// A SPICE_ROPD_* descriptor as the op between `source` and `dest` inputs.
Rop rop_from_descriptor(uint16_t descriptor, RopInput source, RopInput dest);
uint32_t apply_rop(Rop rop, uint32_t src, uint32_t dst);

// A mask: 1-bit coverage in mask coordinates, placed so that destination pixel
// (x, y) reads mask pixel (x - origin.x + pos.x, y - origin.y + pos.y).
struct Mask {
  const image::Pixels* bits = nullptr;  // a pixel is "on" when its RGB is not 0
  Point pos;                            // SpiceQMask.pos
  Point origin;                         // the command's box top-left
  bool invert = false;
  bool covers(int32_t x, int32_t y) const;
};

// A solid colour or a tiled pattern (SpiceBrush); `none` draws nothing.
struct Brush {
  enum class Kind : uint8_t { None, Solid, Pattern } kind = Kind::None;
  uint32_t color = 0;                      // 0x00RRGGBB
  const image::Pixels* pattern = nullptr;  // Pattern
  Point pos;                               // Pattern: the pattern's origin offset
  uint32_t at(int32_t x, int32_t y) const;
};

class Surface {
 public:
  Surface() = default;
  Surface(uint32_t width, uint32_t height, uint32_t format)
      : pixels_(width, height, false, 0), format_(format) {}

  uint32_t width() const { return pixels_.width; }
  uint32_t height() const { return pixels_.height; }
  uint32_t format() const { return format_; }
  Rect bounds() const { return {0, 0, static_cast<int32_t>(width()), static_cast<int32_t>(height())}; }
  const image::Pixels& pixels() const { return pixels_; }
  image::Pixels& pixels() { return pixels_; }

  void clear(uint32_t value = 0);
  void fill(const Region& r, const Brush& brush, Rop rop, const Mask* mask);
  // src_area of `src` onto dest_box: dest = rop(src, dest) where src has the pixel;
  // scaled (nearest neighbour) when the two sizes differ.
  void put(const Region& r, const image::Pixels& src, const Rect& src_area, const Rect& dest_box, Rop rop,
           const Mask* mask);
  // Pixels of src equal (in RGB) to `transparent` are left alone.
  void transparent(const Region& r, const image::Pixels& src, const Rect& src_area, const Rect& dest_box,
                   uint32_t transparent);
  // Porter-Duff OVER with a global alpha; `src_alpha` = the source carries alpha.
  void alpha_blend(const Region& r, const image::Pixels& src, const Rect& src_area, const Rect& dest_box,
                   uint8_t alpha, bool src_alpha);
  // Moves dest-sized pixels from src_pos within this surface, as if through a copy.
  void copy_bits(const Region& r, const Rect& box, Point src_pos);
  // The ternary raster op `code` of (src, brush, dest) bits.
  void rop3(const Region& r, const image::Pixels& src, const Rect& src_area, const Rect& dest_box,
            const Brush& brush, uint8_t code, const Mask* mask);
  // OVER composite of a solid colour through 8-bit coverage placed at `at`.
  void coverage(const Region& r, const std::vector<uint8_t>& alpha, const Rect& at, uint32_t color);

 private:
  image::Pixels pixels_;
  uint32_t format_ = 0;
};

// The glyphs of a draw_text string as 8-bit coverage over their bounding box.
struct Glyph {
  Point render_pos, origin;
  uint32_t width = 0, height = 0;
  std::span<const uint8_t> data;  // rows bottom-up, each ceil(width * bpp / 8) bytes
};
// Returns the glyphs' bounding box cut to `within` (what can be drawn: glyph
// positions come from the wire, so they never size an allocation alone);
// `coverage` gets box.width() * box.height() bytes.
Rect glyph_coverage(std::span<const Glyph> glyphs, unsigned bpp, const Rect& within, std::vector<uint8_t>& coverage);
// The smallest rectangle holding every rectangle of the region.
Rect extents(const Region& r);

}  // namespace sc::display
