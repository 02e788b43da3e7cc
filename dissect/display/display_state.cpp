#include "dissect/display/display_state.hpp"

#include <spice/enums.h>
#include <spice/qxl_dev.h>

#include <algorithm>
#include <set>
#include <unordered_map>

#include "dissect/decode/field_view.hpp"
#include "dissect/image/jpeg.hpp"
#include "dissect/schema/registry.hpp"

namespace sc::display {

namespace {

using decode::FieldView;

Rect rect_of(const FieldView& r) {
  return {clamp_coordinate(r.signed_number("left")), clamp_coordinate(r.signed_number("top")),
          clamp_coordinate(r.signed_number("right")), clamp_coordinate(r.signed_number("bottom"))};
}
Point point_of(const FieldView& p) {
  return {clamp_coordinate(p.signed_number("x")), clamp_coordinate(p.signed_number("y"))};
}

struct Clip {
  bool has = false;
  std::vector<Rect> rects;
};
Clip clip_of(const FieldView& clip) {
  Clip c;
  if (clip.number("type") == SPICE_CLIP_TYPE_RECTS) {
    c.has = true;
    for (const auto& r : clip.get("rects.rects").elements()) c.rects.push_back(rect_of(r));
  }
  return c;
}

constexpr uint64_t kMaxStrokeSteps = uint64_t{1} << 24;

struct Stream {
  uint32_t surface_id = 0;
  uint8_t codec = 0, flags = 0;
  uint32_t width = 0, height = 0;  // stream_width/height: the coded frame size
  Rect dest;
  Clip clip;
};

struct Channel {
  std::map<uint32_t, Surface> surfaces;
  std::optional<uint32_t> primary;
  PaletteCache palettes;
  std::map<uint32_t, Stream> streams;
  uint8_t pixmap_cache = 0, glz_dictionary = 0;
  int64_t glz_window = 0;
  std::set<uint32_t> reported_surfaces;
};

}  // namespace

struct DisplayState::Impl {
  DisplayOptions options;
  DisplayListener* listener = nullptr;
  std::map<uint32_t, Channel> channels;
  std::map<uint8_t, PixmapCache> pixmaps;  // by pixmap_cache_id
  std::map<uint8_t, std::unique_ptr<image::GlzDictionary>> dictionaries;
  Counters counters;
  uint64_t surface_pixels = 0;  // of every live surface: capped at kSurfaceBudget x Limits::max_pixels

  // The message being applied; `base`: where its body starts in the frame's body
  // (a sub-message's offset), added to every offset reported.
  uint32_t conn = 0;
  uint64_t ts = 0;
  uint32_t body_base = 0;
  Channel* ch = nullptr;

  using Handler = void (Impl::*)(const FieldView&);
  static const std::unordered_map<std::string, Handler>& handlers();

  void problem(decode::Severity sev, std::string code, uint32_t offset, std::string path, std::string text) {
    if (listener) listener->on_problem(conn, ts, {sev, std::move(code), body_base + offset, std::move(path), std::move(text)});
  }

  image::GlzDictionary& dictionary(uint8_t id, int64_t window) {
    auto& d = dictionaries[id];
    if (!d) d = std::make_unique<image::GlzDictionary>(window > 0 ? static_cast<uint64_t>(window) : 0);
    return *d;
  }

  ImageContext context() {
    return ImageContext{.pixmaps = pixmaps[ch->pixmap_cache],
                        .palettes = ch->palettes,
                        .glz = dictionary(ch->glz_dictionary, ch->glz_window),
                        .surface = !options.draw ? std::function<const image::Pixels*(uint32_t)>{}
                                                 : [this](uint32_t id) -> const image::Pixels* {
                                                     const auto it = ch->surfaces.find(id);
                                                     return it == ch->surfaces.end() ? nullptr : &it->second.pixels();
                                                   },
                        .limits = options.limits};
  }

  ResolvedImage image(const FieldView& ptr, bool as_mask = false) {
    ResolvedImage r;
    if (!ptr || !ptr.has_target()) return r;
    ImageContext ctx = context();
    r = resolve_image(ptr, ctx, as_mask);
    ++counters.images;
    if (r.info.fault) {
      ++counters.image_failures;
      const auto& f = *r.info.fault;
      problem(f.code == "missing_reference" ? decode::Severity::Warning : decode::Severity::Error, "image_" + f.code,
              static_cast<uint32_t>(f.offset), std::string(r.info.field), image_type_name(r.info.type) + " image " +
              std::to_string(r.info.id) + ": " + f.text);
      r.info.fault->offset += body_base;
    }
    r.info.offset += body_base;
    if (listener) listener->on_image(conn, ts, r.info, r.get());
    return r;
  }

  // The surface a draw command targets; made on first use when the capture never
  // showed its creation, large enough for the draw.
  Surface* surface(uint32_t id, const Rect& need) {
    auto it = ch->surfaces.find(id);
    if (it != ch->surfaces.end()) return &it->second;
    if (!options.draw) return nullptr;
    const auto w = static_cast<uint32_t>(std::clamp(need.right, 1, 8192));
    const auto h = static_cast<uint32_t>(std::clamp(need.bottom, 1, 8192));
    if (ch->reported_surfaces.insert(id).second) {
      problem(decode::Severity::Info, "surface_not_seen", 0, "",
              "surface " + std::to_string(id) + " was created before the capture began; drawing on an assumed " +
                  std::to_string(w) + "x" + std::to_string(h) + " surface");
    }
    if (!reserve(id, w, h)) return nullptr;
    it = ch->surfaces.emplace(id, Surface(w, h, SPICE_SURFACE_FMT_32_xRGB)).first;
    if (!ch->primary && id == 0) ch->primary = 0;
    return &it->second;
  }

  // Surfaces are made at sizes the wire gives: all of them together stay within a
  // budget, so a stream of surface_create messages cannot exhaust memory.
  static constexpr uint64_t kSurfaceBudget = 4;
  bool reserve(uint32_t id, uint32_t w, uint32_t h) {
    const uint64_t want = uint64_t{w} * h;
    if (surface_pixels + want > kSurfaceBudget * options.limits.max_pixels) {
      problem(decode::Severity::Error, "surfaces_too_large", 0, "",
              "surface " + std::to_string(id) + " (" + std::to_string(w) + "x" + std::to_string(h) +
                  ") would take the session's surfaces past " +
                  std::to_string(kSurfaceBudget * options.limits.max_pixels) + " pixels; not made");
      return false;
    }
    surface_pixels += want;
    return true;
  }
  void release(uint32_t id) {
    auto it = ch->surfaces.find(id);
    if (it == ch->surfaces.end()) return;
    surface_pixels -= uint64_t{it->second.width()} * it->second.height();
    ch->surfaces.erase(it);
  }

  struct Target {
    Surface* surface = nullptr;
    Rect box;
    Region region;
  };
  Target target(const FieldView& base) {
    Target t;
    t.box = rect_of(base.get("box"));
    t.surface = surface(static_cast<uint32_t>(base.number("surface_id")), t.box);
    if (!t.surface) return t;
    const Clip c = clip_of(base.get("clip"));
    t.region = clip_region(t.box, c.rects, c.has, t.surface->bounds());
    return t;
  }

  struct MaskHold {
    ResolvedImage image;
    Mask mask;
    bool active = false;
    const Mask* get() const { return active ? &mask : nullptr; }
  };
  MaskHold mask(const FieldView& m, const Rect& box) {
    MaskHold h;
    const FieldView bitmap = m.get("bitmap");
    if (!bitmap || !bitmap.has_target()) return h;
    h.image = image(bitmap, true);
    h.mask.bits = h.image.get();
    h.mask.pos = point_of(m.get("pos"));
    h.mask.origin = {box.left, box.top};
    h.mask.invert = m.number("flags") & SPICE_MASK_FLAGS_INVERS;
    h.active = h.mask.bits != nullptr;
    return h;
  }

  struct BrushHold {
    ResolvedImage image;
    Brush brush;
  };
  BrushHold brush(const FieldView& b) {
    BrushHold h;
    switch (b.number("type")) {
      case SPICE_BRUSH_TYPE_SOLID:
        h.brush.kind = Brush::Kind::Solid;
        h.brush.color = static_cast<uint32_t>(b.number("color"));
        break;
      case SPICE_BRUSH_TYPE_PATTERN:
        h.image = image(b.get("pattern.pat"));
        h.brush.pattern = h.image.get();
        h.brush.pos = point_of(b.get("pattern.pos"));
        h.brush.kind = h.brush.pattern ? Brush::Kind::Pattern : Brush::Kind::None;
        break;
      default: break;
    }
    return h;
  }

  // What a draw command names, gathered once in message order (source image,
  // brush, mask: the order the client fetches them, which matters to the caches).
  struct Draw {
    Target t;
    FieldView data;
    ResolvedImage src;
    Rect src_area;
    BrushHold brush;
    MaskHold mask;
    // The command can be drawn: a target surface, and the source image when it names one.
    bool ready(bool needs_src) const { return t.surface && (!needs_src || src.get()); }
    const Mask* m() const { return mask.get(); }
    uint64_t number(std::string_view field) const { return data.number(field); }
  };
  Draw begin(const FieldView& root, std::string_view brush_field = "brush") {
    Draw w;
    w.t = target(root.get("base"));
    w.data = root.get("data");
    w.src = image(w.data.get("src_bitmap"));
    w.src_area = rect_of(w.data.get("src_area"));
    w.brush = brush(w.data.get(brush_field));
    w.mask = mask(w.data.get("mask"), w.t.box);
    if (w.t.surface) ++counters.draws;
    return w;
  }
  Rop descriptor(const Draw& w, std::string_view field, RopInput source, RopInput dest) {
    return rop_from_descriptor(static_cast<uint16_t>(w.number(field)), source, dest);
  }

  // --- draw commands -------------------------------------------------------
  void draw_fill(const FieldView& root) {
    Draw w = begin(root);
    if (!w.ready(false)) return;
    w.t.surface->fill(w.t.region, w.brush.brush, descriptor(w, "rop_descriptor", RopInput::Brush, RopInput::Dest), w.m());
  }

  void draw_copy_like(const FieldView& root) {
    Draw w = begin(root);
    if (!w.ready(true)) return;
    w.t.surface->put(w.t.region, *w.src.get(), w.src_area, w.t.box,
                     descriptor(w, "rop_descriptor", RopInput::Src, RopInput::Dest), w.m());
  }

  void draw_opaque(const FieldView& root) {
    // The image is put first; the brush then combines with it through the descriptor.
    Draw w = begin(root);
    if (!w.ready(true)) return;
    w.t.surface->put(w.t.region, *w.src.get(), w.src_area, w.t.box, Rop::Copy, w.m());
    const Rop rop = descriptor(w, "rop_descriptor", RopInput::Brush, RopInput::Src);
    if (rop != Rop::Copy || w.brush.brush.kind != Brush::Kind::None) w.t.surface->fill(w.t.region, w.brush.brush, rop, w.m());
  }

  void draw_solid(const FieldView& root, Rop rop) {
    Draw w = begin(root);
    if (!w.ready(false)) return;
    w.t.surface->fill(w.t.region, Brush{.kind = Brush::Kind::Solid}, rop, w.m());
  }
  void draw_blackness(const FieldView& root) { draw_solid(root, Rop::Clear); }
  void draw_whiteness(const FieldView& root) { draw_solid(root, Rop::Set); }
  void draw_invers(const FieldView& root) { draw_solid(root, Rop::Invert); }

  void draw_rop3(const FieldView& root) {
    Draw w = begin(root);
    if (!w.ready(true)) return;
    w.t.surface->rop3(w.t.region, *w.src.get(), w.src_area, w.t.box, w.brush.brush,
                      static_cast<uint8_t>(w.number("rop3")), w.m());
  }

  void draw_transparent(const FieldView& root) {
    Draw w = begin(root);
    if (!w.ready(true)) return;
    w.t.surface->transparent(w.t.region, *w.src.get(), w.src_area, w.t.box, static_cast<uint32_t>(w.number("src_color")));
  }

  void draw_alpha_blend(const FieldView& root) {
    Draw w = begin(root);
    if (!w.ready(true)) return;
    const bool src_alpha = w.number("alpha_flags") & SPICE_ALPHA_FLAGS_SRC_SURFACE_HAS_ALPHA;
    w.t.surface->alpha_blend(w.t.region, *w.src.get(), w.src_area, w.t.box, static_cast<uint8_t>(w.number("alpha")),
                             src_alpha);
  }

  void draw_composite(const FieldView& root) {
    Draw w = begin(root);
    const uint64_t flags = w.number("flags");
    ResolvedImage mask_image;
    if (flags & SPICE_COMPOSITE_HAS_MASK) mask_image = image(w.data.get("mask_bitmap"));
    if (!w.ready(true)) return;
    const uint32_t op = static_cast<uint32_t>(flags & 0xff);
    const bool simple = !(flags & (SPICE_COMPOSITE_HAS_MASK | SPICE_COMPOSITE_HAS_SRC_TRANSFORM |
                                   SPICE_COMPOSITE_HAS_MASK_TRANSFORM)) &&
                        (op == QXL_OP_SOURCE || op == QXL_OP_OVER);
    if (!simple) {
      problem(decode::Severity::Info, "composite_approximated", w.data.offset(), "",
              "composite with op " + std::to_string(op) + ", masks or transforms is drawn as a plain OVER");
    }
    const Point origin = point_of(w.data.get("src_origin"));
    const Rect src_area{origin.x, origin.y, origin.x + w.t.box.width(), origin.y + w.t.box.height()};
    const bool has_alpha = w.src.get()->has_alpha && !(flags & SPICE_COMPOSITE_SOURCE_OPAQUE);
    if (op != QXL_OP_SOURCE && has_alpha) {
      w.t.surface->alpha_blend(w.t.region, *w.src.get(), src_area, w.t.box, 255, true);
    } else {
      w.t.surface->put(w.t.region, *w.src.get(), src_area, w.t.box, Rop::Copy, nullptr);
    }
  }

  void draw_text(const FieldView& root) {
    Draw w = begin(root, "fore_brush");
    const BrushHold back = brush(w.data.get("back_brush"));
    if (!w.ready(false)) return;
    Target& t = w.t;
    const FieldView& d = w.data;
    const BrushHold& fore = w.brush;
    const Rect back_area = rect_of(d.get("back_area"));
    if (!back_area.empty()) {
      Region r;
      for (const Rect& c : t.region) {
        const Rect x = c.intersect(back_area);
        if (!x.empty()) r.push_back(x);
      }
      t.surface->fill(r, back.brush, Rop::Copy, nullptr);
    }
    const FieldView str = d.get("str");
    const uint64_t sflags = str.number("flags");
    const unsigned bpp = (sflags & SPICE_STRING_FLAGS_RASTER_A1)   ? 1
                         : (sflags & SPICE_STRING_FLAGS_RASTER_A4) ? 4
                         : (sflags & SPICE_STRING_FLAGS_RASTER_A8) ? 8
                                                                    : 0;
    if (bpp == 0) {
      problem(decode::Severity::Warning, "text_not_raster", str.offset(), std::string(str.path()),
              "vector glyph strings are not drawn (clients do not draw them either)");
      return;
    }
    std::vector<Glyph> glyphs;
    for (const auto& g : str.get("glyphs").elements()) {
      glyphs.push_back({.render_pos = point_of(g.get("render_pos")),
                        .origin = point_of(g.get("glyph_origin")),
                        .width = static_cast<uint32_t>(g.number("width")),
                        .height = static_cast<uint32_t>(g.number("height")),
                        .data = g.get("data").bytes()});
    }
    std::vector<uint8_t> cov;
    const Rect at = glyph_coverage(glyphs, bpp, extents(t.region), cov);
    if (at.empty() || fore.brush.kind == Brush::Kind::None) return;
    t.surface->coverage(t.region, cov, at, fore.brush.at(at.left, at.top));
  }

  void draw_stroke(const FieldView& root) {
    // Thin (zero-width) lines between the path's points; curves are drawn as
    // their control polygon. Close to what clients draw, not guaranteed equal.
    Draw w = begin(root);
    if (!w.ready(false)) return;
    Target& t = w.t;
    const FieldView& d = w.data;
    const BrushHold& b = w.brush;
    const Rop rop = descriptor(w, "fore_mode", RopInput::Brush, RopInput::Dest);
    auto plot = [&](int32_t x, int32_t y) {
      for (const Rect& r : t.region) {
        if (x >= r.left && x < r.right && y >= r.top && y < r.bottom) {
          uint32_t& px = t.surface->pixels().row(static_cast<uint32_t>(y))[x];
          px = apply_rop(rop, b.brush.at(x, y) | 0xff000000u, px);
          return;
        }
      }
    };
    uint64_t steps = 0;
    for (const auto& seg : d.get("path.segments").elements()) {
      std::vector<Point> pts;
      for (const auto& p : seg.get("points").elements()) {
        pts.push_back({clamp_coordinate((p.signed_number("x") + 8) >> 4), clamp_coordinate((p.signed_number("y") + 8) >> 4)});
      }
      if (seg.number("flags") & SPICE_PATH_CLOSE && pts.size() > 1) pts.push_back(pts.front());
      for (size_t i = 1; i < pts.size(); ++i) {
        int32_t x0 = pts[i - 1].x, y0 = pts[i - 1].y;
        const int32_t x1 = pts[i].x, y1 = pts[i].y;
        const int32_t dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0);
        const int32_t sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
        int32_t err = dx + dy;
        // A hostile path cannot make unbounded work: steps are budgeted per message.
        for (; steps < kMaxStrokeSteps; ++steps) {
          plot(x0, y0);
          if (x0 == x1 && y0 == y1) break;
          const int32_t e2 = 2 * err;
          if (e2 >= dy) err += dy, x0 += sx;
          if (e2 <= dx) err += dx, y0 += sy;
        }
      }
    }
  }

  void copy_bits(const FieldView& root) {
    Target t = target(root.get("base"));
    if (!t.surface) return;
    ++counters.draws;
    t.surface->copy_bits(t.region, t.box, point_of(root.get("src_pos")));
  }

  // --- surfaces, caches ----------------------------------------------------
  void surface_create(const FieldView& root) {
    const auto id = static_cast<uint32_t>(root.number("surface_id"));
    const auto w = static_cast<uint32_t>(root.number("width")), h = static_cast<uint32_t>(root.number("height"));
    if (!options.limits.allows(w, h)) {
      problem(decode::Severity::Error, "surface_too_large", root.get("width").offset(), "",
              "surface " + std::to_string(id) + " of " + std::to_string(w) + "x" + std::to_string(h) + " is not made");
      return;
    }
    if (!options.draw) return;
    release(id);
    if (!reserve(id, w, h)) return;
    ch->surfaces.insert_or_assign(id, Surface(w, h, static_cast<uint32_t>(root.number("format"))));
    if (root.number("flags") & SPICE_SURFACE_FLAGS_PRIMARY) ch->primary = id;
  }
  void surface_destroy(const FieldView& root) {
    const auto id = static_cast<uint32_t>(root.number("surface_id"));
    release(id);
    if (ch->primary == id) ch->primary.reset();
  }
  void reset(const FieldView&) {
    if (ch->primary) {
      auto it = ch->surfaces.find(*ch->primary);
      if (it != ch->surfaces.end()) it->second.clear();
    }
    ch->palettes.clear();
  }
  void inval_list(const FieldView& root) {
    auto& cache = pixmaps[ch->pixmap_cache];
    for (const auto& r : root.get("resources").elements()) {
      if (r.number("type") == SPICE_RES_TYPE_PIXMAP) cache.erase(r.number("id"));
    }
  }
  void inval_all_pixmaps(const FieldView&) { pixmaps[ch->pixmap_cache].clear(); }
  void inval_palette(const FieldView& root) { ch->palettes.erase(root.number("id")); }
  void inval_all_palettes(const FieldView&) { ch->palettes.clear(); }
  void init(const FieldView& root) {
    ch->pixmap_cache = static_cast<uint8_t>(root.number("pixmap_cache_id"));
    ch->glz_dictionary = static_cast<uint8_t>(root.number("glz_dictionary_id"));
    ch->glz_window = root.signed_number("glz_dictionary_window_size");
  }

  // --- video streams -------------------------------------------------------
  void stream_create(const FieldView& root) {
    Stream s;
    s.surface_id = static_cast<uint32_t>(root.number("surface_id"));
    s.codec = static_cast<uint8_t>(root.number("codec_type"));
    s.flags = static_cast<uint8_t>(root.number("flags"));
    s.width = static_cast<uint32_t>(root.number("stream_width"));
    s.height = static_cast<uint32_t>(root.number("stream_height"));
    s.dest = rect_of(root.get("dest"));
    s.clip = clip_of(root.get("clip"));
    ch->streams.insert_or_assign(static_cast<uint32_t>(root.number("id")), std::move(s));
  }
  void stream_clip(const FieldView& root) {
    auto it = ch->streams.find(static_cast<uint32_t>(root.number("id")));
    if (it != ch->streams.end()) it->second.clip = clip_of(root.get("clip"));
  }
  void stream_destroy(const FieldView& root) { ch->streams.erase(static_cast<uint32_t>(root.number("id"))); }
  void stream_destroy_all(const FieldView&) { ch->streams.clear(); }
  void stream_data(const FieldView& root) { stream_frame(root, false); }
  void stream_data_sized(const FieldView& root) { stream_frame(root, true); }

  void stream_frame(const FieldView& root, bool sized) {
    const auto id = static_cast<uint32_t>(root.number("base.id"));
    auto it = ch->streams.find(id);
    if (it == ch->streams.end()) {
      problem(decode::Severity::Warning, "stream_not_seen", 0, "",
              "frame of stream " + std::to_string(id) + ", whose creation the capture does not hold");
      return;
    }
    const Stream& s = it->second;
    StreamFrame f{.connection = conn, .stream_id = id, .codec = s.codec, .width = s.width, .height = s.height,
                  .dest = s.dest, .ts_ns = ts, .mm_time = static_cast<uint32_t>(root.number("base.multi_media_time")),
                  .data = root.get("data").bytes()};
    if (sized) {
      f.width = static_cast<uint32_t>(root.number("width"));
      f.height = static_cast<uint32_t>(root.number("height"));
      f.dest = rect_of(root.get("dest"));
    }
    ++counters.stream_frames;
    if (s.codec == SPICE_VIDEO_CODEC_TYPE_MJPEG && options.draw) {
      auto pixels = image::decode_jpeg(f.data, options.limits);
      if (!pixels.ok()) {
        problem(decode::Severity::Error, "stream_frame_" + pixels.error().code,
                root.get("data").offset() + static_cast<uint32_t>(pixels.error().offset), "",
                "MJPEG frame of stream " + std::to_string(id) + ": " + pixels.error().text);
      } else {
        image::Pixels& p = pixels.value();
        if (!(s.flags & SPICE_STREAM_FLAGS_TOP_DOWN)) {
          for (uint32_t y = 0; y < p.height / 2; ++y) {
            std::swap_ranges(p.row(y), p.row(y) + p.width, p.row(p.height - 1 - y));
          }
        }
        Surface* target_surface = surface(s.surface_id, f.dest);
        if (target_surface) {
          const Region r = clip_region(f.dest, s.clip.rects, s.clip.has, target_surface->bounds());
          const Rect src_area{0, 0, static_cast<int32_t>(p.width), static_cast<int32_t>(p.height)};
          target_surface->put(r, p, src_area, f.dest, Rop::Copy, nullptr);
          f.decoded = true;
        }
      }
    }
    if (listener) listener->on_stream_frame(f);
  }

  void gl(const FieldView&) {
    problem(decode::Severity::Info, "gl_not_rendered", 0, "",
            "GL scanouts travel as dma-buf descriptors beside the stream: their pixels are not in the capture");
  }
};

const std::unordered_map<std::string, DisplayState::Impl::Handler>& DisplayState::Impl::handlers() {
  static const std::unordered_map<std::string, Handler> kHandlers = {
      {"display.draw_fill", &Impl::draw_fill},
      {"display.draw_copy", &Impl::draw_copy_like},
      {"display.draw_blend", &Impl::draw_copy_like},
      {"display.draw_opaque", &Impl::draw_opaque},
      {"display.draw_blackness", &Impl::draw_blackness},
      {"display.draw_whiteness", &Impl::draw_whiteness},
      {"display.draw_invers", &Impl::draw_invers},
      {"display.draw_rop3", &Impl::draw_rop3},
      {"display.draw_transparent", &Impl::draw_transparent},
      {"display.draw_alpha_blend", &Impl::draw_alpha_blend},
      {"display.draw_composite", &Impl::draw_composite},
      {"display.draw_text", &Impl::draw_text},
      {"display.draw_stroke", &Impl::draw_stroke},
      {"display.copy_bits", &Impl::copy_bits},
      {"display.surface_create", &Impl::surface_create},
      {"display.surface_destroy", &Impl::surface_destroy},
      {"display.reset", &Impl::reset},
      {"display.inval_list", &Impl::inval_list},
      {"display.inval_all_pixmaps", &Impl::inval_all_pixmaps},
      {"display.inval_palette", &Impl::inval_palette},
      {"display.inval_all_palettes", &Impl::inval_all_palettes},
      {"display.init", &Impl::init},
      {"display.stream_create", &Impl::stream_create},
      {"display.stream_data", &Impl::stream_data},
      {"display.stream_data_sized", &Impl::stream_data_sized},
      {"display.stream_clip", &Impl::stream_clip},
      {"display.stream_destroy", &Impl::stream_destroy},
      {"display.stream_destroy_all", &Impl::stream_destroy_all},
      {"display.gl_scanout_unix", &Impl::gl},
  };
  return kHandlers;
}

DisplayState::DisplayState(DisplayOptions options, DisplayListener* listener) : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
  impl_->listener = listener;
}
DisplayState::~DisplayState() = default;
DisplayState::DisplayState(DisplayState&&) noexcept = default;
DisplayState& DisplayState::operator=(DisplayState&&) noexcept = default;

void DisplayState::apply(uint32_t connection, uint64_t ts_ns, const decode::DecodedMessage& message,
                         std::span<const uint8_t> body) {
  if (!message.def || message.def->channel_type != SPICE_CHANNEL_DISPLAY || message.values.empty()) return;
  Impl& s = *impl_;
  ++s.counters.messages;
  const auto& hs = Impl::handlers();
  const auto it = hs.find(message.def->full_name);
  if (it == hs.end()) {
    ++s.counters.unhandled;
    return;
  }
  s.conn = connection;
  s.ts = ts_ns;
  s.ch = &s.channels[connection];
  (s.*(it->second))(FieldView::root(message, body));
}

void DisplayState::apply_frame(uint32_t connection, uint64_t ts_ns, const decode::DecodedFrame& frame) {
  impl_->body_base = 0;
  apply(connection, ts_ns, frame.own, frame.own_body);
  for (const auto& sub : frame.subs.items) {
    impl_->body_base = sub.offset;
    apply(connection, ts_ns, sub.decoded, sub.body);
  }
  impl_->body_base = 0;
}

std::vector<DisplayState::SurfaceRef> DisplayState::surfaces() const {
  std::vector<SurfaceRef> out;
  for (const auto& [conn, ch] : impl_->channels) {
    for (const auto& [id, surf] : ch.surfaces) {
      out.push_back({conn, id, ch.primary == id, &surf});
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const SurfaceRef& a, const SurfaceRef& b) { return a.primary > b.primary; });
  return out;
}

std::optional<DisplayState::SurfaceRef> DisplayState::primary(std::optional<uint32_t> connection) const {
  for (const auto& [conn, ch] : impl_->channels) {
    if (connection && conn != *connection) continue;
    if (!ch.primary) continue;
    const auto it = ch.surfaces.find(*ch.primary);
    if (it != ch.surfaces.end()) return SurfaceRef{conn, it->first, true, &it->second};
  }
  return std::nullopt;
}

const DisplayState::Counters& DisplayState::counters() const { return impl_->counters; }

}  // namespace sc::display
