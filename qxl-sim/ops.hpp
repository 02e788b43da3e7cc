#pragma once
// The guest driver's vocabulary: what a workload asks to draw, independent of
// how it reaches the server. One Op stream feeds two consumers that must agree:
// the software framebuffer (what the client is expected to show) and the command
// builder (QXL commands for libspice-server). Keeping them apart from QXL structs
// lets the workloads be unit-tested and hashed without a server.
#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "qxl-sim/geometry.hpp"

namespace sc::qxl {

// 32-bit xRGB pixels, top-down, tightly packed. `id` is the QXL image id: equal
// ids promise equal pixels (the server's image cache relies on it).
struct Image {
  uint32_t width = 0;
  uint32_t height = 0;
  uint64_t id = 0;
  bool cacheable = false;
  std::vector<uint32_t> pixels;
};
using ImagePtr = std::shared_ptr<const Image>;

enum class CursorKind : uint8_t { kMono, kAlpha };

// Mono: AND mask then XOR mask, 1 bpp, rows padded to bytes (SPICE_CURSOR_TYPE_MONO).
// Alpha: ARGB 32 bpp (SPICE_CURSOR_TYPE_ALPHA).
struct CursorShape {
  CursorKind kind = CursorKind::kAlpha;
  uint16_t width = 0;
  uint16_t height = 0;
  uint16_t hot_x = 0;
  uint16_t hot_y = 0;
  uint64_t unique = 0;
  std::vector<uint8_t> data;
};
using CursorShapePtr = std::shared_ptr<const CursorShape>;

struct FillOp {
  uint32_t surface = 0;
  Rect rect;
  uint32_t color = 0;
};
// Copies a whole image to dst (dst.w/h == image size).
struct BlitOp {
  uint32_t surface = 0;
  Rect dst;
  ImagePtr image;
};
// Moves pixels inside one surface: the source is src with dst's size.
struct CopyBitsOp {
  uint32_t surface = 0;
  Point src;
  Rect dst;
};
// A line of text in the built-in font, drawn with QXL_DRAW_TEXT: `back` is
// painted with `background` first, then the glyph bits with `foreground`.
struct TextOp {
  uint32_t surface = 0;
  Point origin;  // top-left of the first glyph cell
  std::string text;
  uint32_t foreground = 0;
  uint32_t background = 0;
  Rect back;
};
struct SurfaceCreateOp {
  uint32_t surface = 0;
  Size size;
};
struct SurfaceDestroyOp {
  uint32_t surface = 0;
};
// Copies src (in src_surface) to dst (in dst_surface), same size.
struct SurfaceCopyOp {
  uint32_t src_surface = 0;
  Rect src;
  uint32_t dst_surface = 0;
  Point dst;
};
struct CursorSetOp {
  CursorShapePtr shape;
  Point position;
  bool visible = true;
};
struct CursorMoveOp {
  Point position;
};
struct CursorHideOp {};
// Replace the primary surface by one of a new size (content becomes black).
struct ResizeOp {
  Size size;
};
// Announce the heads laid out on the primary (QXLMonitorsConfig).
struct MonitorsOp {
  std::vector<Rect> heads;
};

using Op = std::variant<FillOp, BlitOp, CopyBitsOp, TextOp, SurfaceCreateOp, SurfaceDestroyOp,
                        SurfaceCopyOp, CursorSetOp, CursorMoveOp, CursorHideOp, ResizeOp,
                        MonitorsOp>;

// Stable textual form of an op, used for hashing command sequences and for logs.
std::string describe(const Op& op);

}  // namespace sc::qxl
