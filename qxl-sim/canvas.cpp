#include "qxl-sim/canvas.hpp"

#include <type_traits>

#include "qxl-sim/font.hpp"

namespace sc::qxl {

Canvas::Canvas(Size primary) { surfaces_[0] = Framebuffer(primary); }

const Framebuffer* Canvas::surface(uint32_t id) const {
  auto it = surfaces_.find(id);
  return it == surfaces_.end() ? nullptr : &it->second;
}

Framebuffer* Canvas::target(uint32_t id) {
  auto it = surfaces_.find(id);
  return it == surfaces_.end() ? nullptr : &it->second;
}

void Canvas::apply(const Op& any) {
  std::visit(
      [this](const auto& op) {
        using T = std::decay_t<decltype(op)>;
        if constexpr (std::is_same_v<T, FillOp>) {
          if (auto* fb = target(op.surface)) fb->fill(op.rect, op.color);
        } else if constexpr (std::is_same_v<T, BlitOp>) {
          if (auto* fb = target(op.surface)) fb->blit(op.dst, op.image->pixels.data(), op.image->width);
        } else if constexpr (std::is_same_v<T, CopyBitsOp>) {
          if (auto* fb = target(op.surface)) fb->copy_bits(op.src, op.dst);
        } else if constexpr (std::is_same_v<T, TextOp>) {
          auto* fb = target(op.surface);
          if (!fb) return;
          fb->fill(op.back, op.background);
          for (size_t i = 0; i < op.text.size(); ++i) {
            const Glyph& g = glyph_for(op.text[i]);
            if (g.blank()) continue;
            const Point at{op.origin.x + int32_t(i) * kCellWidth + kGlyphLeft,
                           op.origin.y + kGlyphTop};
            fb->stamp_rows(at, g.rows.data(), kGlyphHeight, op.foreground, op.back);
          }
        } else if constexpr (std::is_same_v<T, SurfaceCreateOp>) {
          surfaces_[op.surface] = Framebuffer(op.size);
        } else if constexpr (std::is_same_v<T, SurfaceDestroyOp>) {
          surfaces_.erase(op.surface);
        } else if constexpr (std::is_same_v<T, SurfaceCopyOp>) {
          const Framebuffer* src = surface(op.src_surface);
          Framebuffer* dst = target(op.dst_surface);
          if (!src || !dst) return;
          const Rect s = op.src.intersect(src->bounds());
          if (s.empty()) return;
          dst->blit(Rect{op.dst.x + (s.x - op.src.x), op.dst.y + (s.y - op.src.y), s.w, s.h},
                    &src->pixels()[size_t(s.y) * src->size().width + s.x], src->size().width);
        } else if constexpr (std::is_same_v<T, ResizeOp>) {
          surfaces_[0] = Framebuffer(op.size);
        }
        // Cursor and monitors ops leave the pixels alone.
      },
      any);
}

}  // namespace sc::qxl
