#include "qxl-sim/ops.hpp"

#include <cstdio>

namespace sc::qxl {
namespace {

std::string rect_str(const Rect& r) {
  char b[64];
  std::snprintf(b, sizeof b, "%d,%d %dx%d", r.x, r.y, r.w, r.h);
  return b;
}

// FNV-1a over the pixels: images are large, the description only needs identity.
uint64_t fingerprint(const Image& img) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (uint32_t p : img.pixels) {
    h ^= p;
    h *= 0x100000001b3ULL;
  }
  return h;
}

struct Describer {
  std::string operator()(const FillOp& o) const {
    char b[32];
    std::snprintf(b, sizeof b, " #%06x", o.color);
    return "fill s" + std::to_string(o.surface) + " " + rect_str(o.rect) + b;
  }
  std::string operator()(const BlitOp& o) const {
    char b[64];
    std::snprintf(b, sizeof b, " id=%llu fp=%016llx", (unsigned long long)o.image->id,
                  (unsigned long long)fingerprint(*o.image));
    return "blit s" + std::to_string(o.surface) + " " + rect_str(o.dst) + b;
  }
  std::string operator()(const CopyBitsOp& o) const {
    return "copybits s" + std::to_string(o.surface) + " from " + std::to_string(o.src.x) + "," +
           std::to_string(o.src.y) + " to " + rect_str(o.dst);
  }
  std::string operator()(const TextOp& o) const {
    char b[48];
    std::snprintf(b, sizeof b, " fg #%06x bg #%06x", o.foreground, o.background);
    return "text s" + std::to_string(o.surface) + " at " + std::to_string(o.origin.x) + "," +
           std::to_string(o.origin.y) + " \"" + o.text + "\" back " + rect_str(o.back) + b;
  }
  std::string operator()(const SurfaceCreateOp& o) const {
    return "surface-create " + std::to_string(o.surface) + " " + std::to_string(o.size.width) +
           "x" + std::to_string(o.size.height);
  }
  std::string operator()(const SurfaceDestroyOp& o) const {
    return "surface-destroy " + std::to_string(o.surface);
  }
  std::string operator()(const SurfaceCopyOp& o) const {
    return "surface-copy s" + std::to_string(o.src_surface) + " " + rect_str(o.src) + " -> s" +
           std::to_string(o.dst_surface) + " " + std::to_string(o.dst.x) + "," +
           std::to_string(o.dst.y);
  }
  std::string operator()(const CursorSetOp& o) const {
    return std::string("cursor-set ") + (o.shape->kind == CursorKind::kMono ? "mono " : "alpha ") +
           std::to_string(o.shape->width) + "x" + std::to_string(o.shape->height) + " at " +
           std::to_string(o.position.x) + "," + std::to_string(o.position.y) +
           (o.visible ? "" : " hidden");
  }
  std::string operator()(const CursorMoveOp& o) const {
    return "cursor-move " + std::to_string(o.position.x) + "," + std::to_string(o.position.y);
  }
  std::string operator()(const CursorHideOp&) const { return "cursor-hide"; }
  std::string operator()(const ResizeOp& o) const {
    return "resize " + std::to_string(o.size.width) + "x" + std::to_string(o.size.height);
  }
  std::string operator()(const MonitorsOp& o) const {
    std::string s = "monitors";
    for (const Rect& r : o.heads) s += " [" + rect_str(r) + "]";
    return s;
  }
};

}  // namespace

std::string describe(const Op& op) { return std::visit(Describer{}, op); }

}  // namespace sc::qxl
