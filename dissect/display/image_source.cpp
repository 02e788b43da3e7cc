#include "dissect/display/image_source.hpp"

#include <spice/enums.h>

#include <array>

#include "dissect/image/bitmap.hpp"
#include "dissect/image/jpeg.hpp"
#include "dissect/image/lz.hpp"
#include "dissect/image/lz4_image.hpp"
#include "dissect/image/quic.hpp"

namespace sc::display {

namespace {

using image::Decoded;
using image::Pixels;

// The palette a bitmap or LZ_PLT image uses: inline (and cached when asked) or
// from the palette cache.
std::optional<std::vector<uint32_t>> palette_of(const decode::FieldView& holder, PaletteCache& cache,
                                                image::Fault& why) {
  const uint64_t flags = holder.number("flags");
  if (flags & SPICE_BITMAP_FLAGS_PAL_FROM_CACHE) {
    const uint64_t id = holder.number("palette_id");
    if (const auto* p = cache.find(id)) return *p;
    why = image::fault("missing_palette", holder.get("palette_id").offset(),
                       "palette " + std::to_string(id) + " is not in the palette cache");
    return std::nullopt;
  }
  const decode::FieldView pal = holder.get("palette");
  std::vector<uint32_t> entries;
  if (pal && pal.has_target()) {
    for (const auto& e : pal.get("ents").elements()) entries.push_back(static_cast<uint32_t>(e.number()));
    if (flags & SPICE_BITMAP_FLAGS_PAL_CACHE_ME) cache.put(pal.number("unique"), entries);
  }
  return entries;
}

Decoded<Pixels> with_offset(Decoded<Pixels> r, uint32_t base) {
  if (r.ok()) return r;
  image::Fault f = r.error();
  f.offset += base;
  return f;
}

Decoded<Pixels> decode_by_type(uint8_t type, const decode::FieldView& img, ImageContext& ctx, ImageInfo& info,
                               bool as_mask) {
  auto payload = [&](std::string_view field) {
    const decode::FieldView v = img.get(field);
    const auto bytes = v.bytes();
    info.payload_bytes = bytes.size();
    return std::pair{bytes, v.offset()};
  };
  switch (type) {
    case SPICE_IMAGE_TYPE_BITMAP: {
      const decode::FieldView b = img.get("bitmap");
      image::Fault why;
      const auto format = b.number("format");
      const bool one_bit = format == SPICE_BITMAP_FMT_1BIT_LE || format == SPICE_BITMAP_FMT_1BIT_BE;
      const auto palette = as_mask && one_bit ? std::optional<std::vector<uint32_t>>({0u, 0xffffffu})
                                              : palette_of(b, ctx.palettes, why);
      if (!palette) return why;
      const auto [data, at] = payload("bitmap.data");
      const image::BitmapView view{.format = static_cast<uint8_t>(b.number("format")),
                                   .flags = static_cast<uint8_t>(b.number("flags")),
                                   .width = static_cast<uint32_t>(b.number("x")),
                                   .height = static_cast<uint32_t>(b.number("y")),
                                   .stride = static_cast<uint32_t>(b.number("stride")),
                                   .data = data};
      return with_offset(image::decode_bitmap(view, *palette, ctx.limits), at);
    }
    case SPICE_IMAGE_TYPE_QUIC: {
      const auto [data, at] = payload("quic.data");
      return with_offset(image::decode_quic(data, ctx.limits), at);
    }
    case SPICE_IMAGE_TYPE_LZ_RGB: {
      const auto [data, at] = payload("lz_rgb.data");
      return with_offset(image::decode_lz(data, {}, ctx.limits), at);
    }
    case SPICE_IMAGE_TYPE_GLZ_RGB: {
      const auto [data, at] = payload("lz_rgb.data");
      return with_offset(image::decode_glz(data, ctx.glz, ctx.limits, &info.references), at);
    }
    case SPICE_IMAGE_TYPE_LZ_PLT: {
      image::Fault why;
      const auto palette = palette_of(img.get("lz_plt"), ctx.palettes, why);
      if (!palette) return why;
      const auto [data, at] = payload("lz_plt.data");
      return with_offset(image::decode_lz(data, *palette, ctx.limits), at);
    }
    case SPICE_IMAGE_TYPE_ZLIB_GLZ_RGB: {
      const auto [data, at] = payload("zlib_glz.data");
      return with_offset(
          image::decode_zlib_glz(data, static_cast<uint32_t>(img.number("zlib_glz.glz_data_size")), ctx.glz, ctx.limits,
                                 &info.references),
          at);
    }
    case SPICE_IMAGE_TYPE_LZ4: {
      const auto [data, at] = payload("lz4.data");
      return with_offset(image::decode_lz4(data, info.width, info.height, ctx.limits), at);
    }
    case SPICE_IMAGE_TYPE_JPEG: {
      info.lossy = true;
      const auto [data, at] = payload("jpeg.data");
      return with_offset(image::decode_jpeg(data, ctx.limits), at);
    }
    case SPICE_IMAGE_TYPE_JPEG_ALPHA: {
      info.lossy = true;
      const auto [data, at] = payload("jpeg_alpha.data");
      return with_offset(image::decode_jpeg_alpha(data, static_cast<uint32_t>(img.number("jpeg_alpha.jpeg_size")),
                                                  static_cast<uint8_t>(img.number("jpeg_alpha.flags")), ctx.limits),
                         at);
    }
    default:
      return image::fault("unsupported", img.offset(), "image type " + std::to_string(type) + " is not known");
  }
}

}  // namespace

const PixmapCache::Entry* PixmapCache::find(uint64_t id) const {
  const auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : &it->second;
}

namespace {
uint64_t pixel_count(const PixmapCache::Entry& e) {
  return e.pixels ? uint64_t{e.pixels->width} * e.pixels->height : 0;
}
}  // namespace

bool PixmapCache::put(uint64_t id, Entry e) {
  const auto it = entries_.find(id);
  const uint64_t old = it == entries_.end() ? 0 : pixel_count(it->second);
  const uint64_t want = pixel_count(e);
  if (pixels_ - old + want > max_pixels_) {
    // The client would hold the new image, not the old one: keep neither.
    if (it != entries_.end()) {
      pixels_ -= old;
      entries_.erase(it);
    }
    return false;
  }
  pixels_ = pixels_ - old + want;
  entries_.insert_or_assign(id, std::move(e));
  return true;
}

void PixmapCache::erase(uint64_t id) {
  if (const auto it = entries_.find(id); it != entries_.end()) {
    pixels_ -= pixel_count(it->second);
    entries_.erase(it);
  }
}

void PixmapCache::clear() {
  entries_.clear();
  pixels_ = 0;
}

const std::vector<uint32_t>* PaletteCache::find(uint64_t id) const {
  const auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : &it->second;
}

std::string_view cache_op_name(CacheOp op) {
  static constexpr std::array<std::string_view, 6> kNames = {"", "store", "replace", "hit", "miss", "dropped"};
  return kNames[static_cast<size_t>(op)];
}

ImageStatus image_status(const ImageInfo& info) {
  if (info.fault) return ImageStatus::Failed;
  return info.decoded ? ImageStatus::Decoded : ImageStatus::NotDecoded;
}

std::string_view image_status_name(ImageStatus s) {
  static constexpr std::array<std::string_view, 3> kNames = {"decoded", "failed", "not_decoded"};
  return kNames[static_cast<size_t>(s)];
}

std::string image_type_name(uint8_t type) {
  static const std::map<uint8_t, std::string> kNames = {
      {SPICE_IMAGE_TYPE_BITMAP, "bitmap"},        {SPICE_IMAGE_TYPE_QUIC, "quic"},
      {SPICE_IMAGE_TYPE_LZ_PLT, "lz_plt"},        {SPICE_IMAGE_TYPE_LZ_RGB, "lz_rgb"},
      {SPICE_IMAGE_TYPE_GLZ_RGB, "glz_rgb"},      {SPICE_IMAGE_TYPE_FROM_CACHE, "from_cache"},
      {SPICE_IMAGE_TYPE_SURFACE, "surface"},      {SPICE_IMAGE_TYPE_JPEG, "jpeg"},
      {SPICE_IMAGE_TYPE_FROM_CACHE_LOSSLESS, "from_cache_lossless"},
      {SPICE_IMAGE_TYPE_ZLIB_GLZ_RGB, "zlib_glz_rgb"}, {SPICE_IMAGE_TYPE_JPEG_ALPHA, "jpeg_alpha"},
      {SPICE_IMAGE_TYPE_LZ4, "lz4"}};
  const auto it = kNames.find(type);
  return it == kNames.end() ? "type_" + std::to_string(type) : it->second;
}

ResolvedImage resolve_image(const decode::FieldView& img, ImageContext& ctx, bool as_mask) {
  ResolvedImage out;
  ImageInfo& info = out.info;
  info.field = img.path();
  const decode::FieldView descriptor = img.get("descriptor");
  info.offset = descriptor ? descriptor.offset() : img.offset();
  info.id = img.number("descriptor.id");
  info.type = static_cast<uint8_t>(img.number("descriptor.type"));
  info.flags = static_cast<uint8_t>(img.number("descriptor.flags"));
  info.width = static_cast<uint32_t>(img.number("descriptor.width"));
  info.height = static_cast<uint32_t>(img.number("descriptor.height"));

  switch (info.type) {
    case SPICE_IMAGE_TYPE_FROM_CACHE:
    case SPICE_IMAGE_TYPE_FROM_CACHE_LOSSLESS: {
      const auto* e = ctx.pixmaps.find(info.id);
      if (!e) {
        info.cache = CacheOp::Miss;
        info.fault = image::fault("missing_reference", info.offset,
                                  "image " + std::to_string(info.id) + " is not in the pixmap cache");
        return out;
      }
      info.cache = CacheOp::Hit;
      info.lossy = e->lossy;
      out.pixels = e->pixels;
      info.decoded = true;
      info.decoded_bytes = out.pixels->bytes();
      return out;
    }
    case SPICE_IMAGE_TYPE_SURFACE: {
      const auto sid = static_cast<uint32_t>(img.number("surface_id"));
      if (!ctx.surface) return out;
      out.surface = ctx.surface(sid);
      if (!out.surface) {
        info.fault = image::fault("missing_surface", info.offset, "surface " + std::to_string(sid) + " does not exist");
      } else {
        info.decoded = true;
      }
      return out;
    }
    default: break;
  }

  auto decoded = decode_by_type(info.type, img, ctx, info, as_mask);
  if (!decoded.ok()) {
    info.fault = decoded.error();
    return out;
  }
  auto pixels = std::make_shared<const Pixels>(std::move(decoded).value());
  if (pixels->width != info.width || pixels->height != info.height) {
    info.fault = image::fault("size_mismatch", info.offset,
                              "descriptor says " + std::to_string(info.width) + "x" + std::to_string(info.height) +
                                  ", payload decodes to " + std::to_string(pixels->width) + "x" +
                                  std::to_string(pixels->height));
  }
  info.decoded = true;
  info.decoded_bytes = pixels->bytes();
  if (info.flags & (SPICE_IMAGE_FLAGS_CACHE_ME | SPICE_IMAGE_FLAGS_CACHE_REPLACE_ME)) {
    const bool replace = ctx.pixmaps.find(info.id) != nullptr;
    info.cache = !ctx.pixmaps.put(info.id, {pixels, info.lossy}) ? CacheOp::Dropped
                 : replace                                       ? CacheOp::Replace
                                                                 : CacheOp::Store;
  }
  out.pixels = std::move(pixels);
  return out;
}

}  // namespace sc::display
