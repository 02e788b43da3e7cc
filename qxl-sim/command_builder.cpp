#include "qxl-sim/command_builder.hpp"

#include <cstring>

#include <spice/enums.h>

#include "qxl-sim/font.hpp"

namespace sc::qxl {
namespace {

QXLDrawable* new_drawable(Command& c, uint32_t surface, uint8_t type, const Rect& bbox) {
  auto* d = c.make<QXLDrawable>();
  d->surface_id = surface;
  d->effect = QXL_EFFECT_OPAQUE;
  d->type = type;
  d->bbox = to_qxl(bbox);
  d->clip.type = SPICE_CLIP_TYPE_NONE;
  for (int i = 0; i < 3; ++i) d->surfaces_dest[i] = -1;
  c.set_payload(d);
  return d;
}

QXLBrush solid(uint32_t color) {
  QXLBrush b{};
  b.type = SPICE_BRUSH_TYPE_SOLID;
  b.u.color = color;
  return b;
}

}  // namespace

Rect CommandBuilder::surface_bounds(uint32_t surface) const {
  auto it = sizes_.find(surface);
  return it == sizes_.end() ? Rect{} : Rect::of(it->second);
}

struct CommandBuilder::Visitor {
  CommandBuilder& self;

  BuiltCommand operator()(const FillOp& op) {
    const Rect r = op.rect.intersect(self.surface_bounds(op.surface));
    if (r.empty()) return {};
    auto c = std::make_unique<Command>(QXL_CMD_DRAW);
    auto* d = new_drawable(*c, op.surface, QXL_DRAW_FILL, r);
    d->u.fill.brush = solid(op.color);
    d->u.fill.rop_descriptor = SPICE_ROPD_OP_PUT;
    return {std::move(c)};
  }

  BuiltCommand operator()(const BlitOp& op) {
    const Rect r = op.dst.intersect(self.surface_bounds(op.surface));
    if (r.empty()) return {};
    const Image& img = *op.image;
    auto c = std::make_unique<Command>(QXL_CMD_DRAW);
    auto* d = new_drawable(*c, op.surface, QXL_DRAW_COPY, r);
    auto* qimg = c->make<QXLImage>();
    // Equal ids promise equal pixels; uncacheable images still need unique ids.
    QXL_SET_IMAGE_ID(qimg, QXL_IMAGE_GROUP_DEVICE, uint32_t(img.id));
    qimg->descriptor.type = SPICE_IMAGE_TYPE_BITMAP;
    qimg->descriptor.flags = img.cacheable ? QXL_IMAGE_CACHE : 0;
    qimg->descriptor.width = img.width;
    qimg->descriptor.height = img.height;
    qimg->bitmap.format = SPICE_BITMAP_FMT_32BIT;
    qimg->bitmap.flags = QXL_BITMAP_DIRECT | QXL_BITMAP_TOP_DOWN;
    qimg->bitmap.x = img.width;
    qimg->bitmap.y = img.height;
    qimg->bitmap.stride = img.width * 4;
    qimg->bitmap.data = physical(img.pixels.data());
    c->keep(op.image);
    d->u.copy.src_bitmap = physical(qimg);
    d->u.copy.src_area = to_qxl(Rect{r.x - op.dst.x, r.y - op.dst.y, r.w, r.h});
    d->u.copy.rop_descriptor = SPICE_ROPD_OP_PUT;
    return {std::move(c)};
  }

  BuiltCommand operator()(const CopyBitsOp& op) {
    const Rect bounds = self.surface_bounds(op.surface);
    Rect r = op.dst.intersect(bounds);
    const int32_t dx = op.src.x - op.dst.x, dy = op.src.y - op.dst.y;
    r = r.intersect(Rect{bounds.x - dx, bounds.y - dy, bounds.w, bounds.h});
    if (r.empty()) return {};
    auto c = std::make_unique<Command>(QXL_CMD_DRAW);
    auto* d = new_drawable(*c, op.surface, QXL_COPY_BITS, r);
    d->u.copy_bits.src_pos = QXLPoint{r.x + dx, r.y + dy};
    return {std::move(c)};
  }

  BuiltCommand operator()(const TextOp& op) {
    const Rect r = op.back.intersect(self.surface_bounds(op.surface));
    if (r.empty()) return {};
    // Glyph records: header + one byte per row (6-pixel glyphs fit one byte).
    constexpr size_t kGlyphBytes = sizeof(QXLRasterGlyph) + kGlyphHeight;
    std::vector<const Glyph*> glyphs;
    std::vector<int32_t> columns;
    for (size_t i = 0; i < op.text.size(); ++i) {
      const Glyph& g = glyph_for(op.text[i]);
      if (g.blank()) continue;
      glyphs.push_back(&g);
      columns.push_back(int32_t(i));
    }
    if (glyphs.empty()) return (*this)(FillOp{op.surface, op.back, op.background});
    auto c = std::make_unique<Command>(QXL_CMD_DRAW);
    auto* d = new_drawable(*c, op.surface, QXL_DRAW_TEXT, r);
    const size_t data_size = glyphs.size() * kGlyphBytes;
    auto* str = c->make<QXLString>(data_size);
    str->data_size = uint32_t(data_size);
    str->length = uint16_t(glyphs.size());
    // RASTER_TOP_DOWN made no difference in 0.15.1 (see the row order below).
    str->flags = SPICE_STRING_FLAGS_RASTER_A1;
    str->chunk.data_size = uint32_t(data_size);
    for (size_t i = 0; i < glyphs.size(); ++i) {
      auto* g = reinterpret_cast<QXLRasterGlyph*>(str->chunk.data + i * kGlyphBytes);
      // A zero glyph origin makes render_pos the glyph box's top-left whatever
      // sign convention a renderer applies to the origin.
      g->render_pos = QXLPoint{op.origin.x + columns[i] * kCellWidth + kGlyphLeft,
                               op.origin.y + kGlyphTop};
      g->glyph_origin = QXLPoint{0, 0};
      g->width = kGlyphWidth;
      g->height = kGlyphHeight;
      // libspice-server 0.15.1 renders A1 glyph rows bottom-up whatever
      // RASTER_TOP_DOWN says (verified against update_area output), so store
      // the rows in that order.
      for (int row = 0; row < kGlyphHeight; ++row) g->data[row] = glyphs[i]->rows[size_t(kGlyphHeight - 1 - row)];
    }
    d->u.text.str = physical(str);
    d->u.text.back_area = to_qxl(op.back);
    d->u.text.back_brush = solid(op.background);
    d->u.text.fore_brush = solid(op.foreground);
    d->u.text.fore_mode = SPICE_ROPD_OP_PUT;
    d->u.text.back_mode = SPICE_ROPD_OP_PUT;
    return {std::move(c)};
  }

  BuiltCommand operator()(const SurfaceCreateOp& op) {
    auto c = std::make_unique<Command>(QXL_CMD_SURFACE);
    auto* s = c->make<QXLSurfaceCmd>();
    s->surface_id = op.surface;
    s->type = QXL_SURFACE_CMD_CREATE;
    s->u.surface_create.format = SPICE_SURFACE_FMT_32_xRGB;
    s->u.surface_create.width = op.size.width;
    s->u.surface_create.height = op.size.height;
    s->u.surface_create.stride = int32_t(op.size.width * 4);
    // The server renders into this memory until the surface is destroyed; the
    // create command is released only then, so it is the right owner.
    s->u.surface_create.data = physical(c->allocate(size_t(op.size.width) * op.size.height * 4));
    c->set_payload(s);
    self.sizes_[op.surface] = op.size;
    return {std::move(c)};
  }

  BuiltCommand operator()(const SurfaceDestroyOp& op) {
    auto c = std::make_unique<Command>(QXL_CMD_SURFACE);
    auto* s = c->make<QXLSurfaceCmd>();
    s->surface_id = op.surface;
    s->type = QXL_SURFACE_CMD_DESTROY;
    c->set_payload(s);
    self.sizes_.erase(op.surface);
    return {std::move(c)};
  }

  BuiltCommand operator()(const SurfaceCopyOp& op) {
    const Rect src_bounds = self.surface_bounds(op.src_surface);
    const Rect src = op.src.intersect(src_bounds);
    if (src.empty()) return {};
    const Rect dst0{op.dst.x + (src.x - op.src.x), op.dst.y + (src.y - op.src.y), src.w, src.h};
    const Rect dst = dst0.intersect(self.surface_bounds(op.dst_surface));
    if (dst.empty()) return {};
    const Rect src_area{src.x + (dst.x - dst0.x), src.y + (dst.y - dst0.y), dst.w, dst.h};
    auto c = std::make_unique<Command>(QXL_CMD_DRAW);
    auto* d = new_drawable(*c, op.dst_surface, QXL_DRAW_COPY, dst);
    // The worker must render the source surface first: declare the dependency.
    d->surfaces_dest[0] = int32_t(op.src_surface);
    d->surfaces_rects[0] = to_qxl(src_area);
    auto* qimg = c->make<QXLImage>();
    QXL_SET_IMAGE_ID(qimg, QXL_IMAGE_GROUP_DRIVER_DONT_CACHE, self.next_image_unique_++);
    qimg->descriptor.type = SPICE_IMAGE_TYPE_SURFACE;
    qimg->descriptor.width = uint32_t(src_bounds.w);
    qimg->descriptor.height = uint32_t(src_bounds.h);
    qimg->surface_image.surface_id = op.src_surface;
    d->u.copy.src_bitmap = physical(qimg);
    d->u.copy.src_area = to_qxl(src_area);
    d->u.copy.rop_descriptor = SPICE_ROPD_OP_PUT;
    return {std::move(c)};
  }

  BuiltCommand operator()(const CursorSetOp& op) {
    const CursorShape& shape = *op.shape;
    auto c = std::make_unique<Command>(QXL_CMD_CURSOR);
    auto* cmd = c->make<QXLCursorCmd>();
    cmd->type = QXL_CURSOR_SET;
    cmd->u.set.position = QXLPoint16{int16_t(op.position.x), int16_t(op.position.y)};
    cmd->u.set.visible = op.visible ? 1 : 0;
    auto* cur = c->make<QXLCursor>(shape.data.size());
    cur->header.unique = shape.unique;
    cur->header.type = shape.kind == CursorKind::kMono ? SPICE_CURSOR_TYPE_MONO : SPICE_CURSOR_TYPE_ALPHA;
    cur->header.width = shape.width;
    cur->header.height = shape.height;
    cur->header.hot_spot_x = shape.hot_x;
    cur->header.hot_spot_y = shape.hot_y;
    cur->data_size = uint32_t(shape.data.size());
    cur->chunk.data_size = uint32_t(shape.data.size());
    std::memcpy(cur->chunk.data, shape.data.data(), shape.data.size());
    cmd->u.set.shape = physical(cur);
    c->set_payload(cmd);
    return {std::move(c), true};
  }

  BuiltCommand operator()(const CursorMoveOp& op) {
    auto c = std::make_unique<Command>(QXL_CMD_CURSOR);
    auto* cmd = c->make<QXLCursorCmd>();
    cmd->type = QXL_CURSOR_MOVE;
    cmd->u.position = QXLPoint16{int16_t(op.position.x), int16_t(op.position.y)};
    c->set_payload(cmd);
    return {std::move(c), true};
  }

  BuiltCommand operator()(const CursorHideOp&) {
    auto c = std::make_unique<Command>(QXL_CMD_CURSOR);
    auto* cmd = c->make<QXLCursorCmd>();
    cmd->type = QXL_CURSOR_HIDE;
    c->set_payload(cmd);
    return {std::move(c), true};
  }

  BuiltCommand operator()(const ResizeOp& op) {
    self.sizes_[0] = op.size;
    return {};
  }
  BuiltCommand operator()(const MonitorsOp&) { return {}; }
};

BuiltCommand CommandBuilder::build(const Op& op) { return std::visit(Visitor{*this}, op); }

}  // namespace sc::qxl
