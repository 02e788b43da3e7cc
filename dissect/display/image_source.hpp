#pragma once
// Turns the Image a draw command carries into pixels, as the client does: the
// codec the descriptor names, palettes (inline or from the palette cache), the
// pixmap cache (FROM_CACHE, CACHE_ME, the server's invalidations), the GLZ
// dictionary, and other surfaces (SURFACE images).
//
// Every image yields an ImageInfo — what it was, what the caches did, whether it
// decoded — which the `images` table and CLI show; a failure is a Fault located in
// the message body, never an exception.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dissect/decode/field_view.hpp"
#include "dissect/image/glz.hpp"
#include "dissect/image/pixels.hpp"

namespace sc::display {

using PixelsRef = std::shared_ptr<const image::Pixels>;

// The client's pixmap cache: images the server told it to keep, by image id.
// A real client's cache is as large as it told the server, and the server keeps
// within it; a capture is not trusted to, so the pixels held are capped
// (`max_pixels`) and an image that would pass the cap is not kept.
class PixmapCache {
 public:
  struct Entry {
    PixelsRef pixels;
    bool lossy = false;
  };
  explicit PixmapCache(uint64_t max_pixels = uint64_t{1} << 28) : max_pixels_(max_pixels) {}
  const Entry* find(uint64_t id) const;
  // False (and nothing kept) when the entry would take the cache past its cap.
  bool put(uint64_t id, Entry e);
  void erase(uint64_t id);
  void clear();
  size_t size() const { return entries_.size(); }
  uint64_t pixels() const { return pixels_; }

 private:
  std::map<uint64_t, Entry> entries_;
  uint64_t pixels_ = 0, max_pixels_;
};

class PaletteCache {
 public:
  const std::vector<uint32_t>* find(uint64_t id) const;
  void put(uint64_t id, std::vector<uint32_t> p) { entries_[id] = std::move(p); }
  void erase(uint64_t id) { entries_.erase(id); }
  void clear() { entries_.clear(); }

 private:
  std::map<uint64_t, std::vector<uint32_t>> entries_;
};

// Dropped: the server asked for it to be kept, the cache's cap refused it.
enum class CacheOp : uint8_t { None, Store, Replace, Hit, Miss, Dropped };
std::string_view cache_op_name(CacheOp op);

struct ImageInfo {
  // Dotted path of the image pointer (display.draw_copy.data.src_bitmap), in the
  // protocol description: valid for the life of the program.
  std::string_view field;
  uint32_t offset = 0;           // body offset of the Image
  uint64_t id = 0;               // descriptor.id
  uint8_t type = 0;              // SPICE_IMAGE_TYPE_*
  uint8_t flags = 0;             // SPICE_IMAGE_FLAGS_*
  uint32_t width = 0, height = 0;
  uint64_t payload_bytes = 0;    // compressed size on the wire
  uint64_t decoded_bytes = 0;    // width * height * 4 once decoded
  CacheOp cache = CacheOp::None;
  uint32_t references = 0;       // GLZ: copies taken from earlier images of the dictionary
  bool lossy = false;            // JPEG paths
  bool decoded = false;
  std::optional<image::Fault> fault;  // offset relative to the message body
};
std::string image_type_name(uint8_t type);  // "quic", "glz_rgb", "from_cache", ...

// What became of an image: the `images` table's status, the CLI's and the
// plugin's. NotDecoded: a SURFACE image when surfaces are not drawn.
enum class ImageStatus : uint8_t { Decoded, Failed, NotDecoded };
ImageStatus image_status(const ImageInfo& info);
std::string_view image_status_name(ImageStatus s);  // decoded, failed, not_decoded

struct ImageContext {
  PixmapCache& pixmaps;
  PaletteCache& palettes;
  image::GlzDictionary& glz;
  // SURFACE images; empty when surfaces are not drawn (the image is then not
  // decoded, which is no fault of the image).
  std::function<const image::Pixels*(uint32_t surface_id)> surface;
  image::Limits limits;
};

struct ResolvedImage {
  PixelsRef pixels;     // null when it could not be had
  const image::Pixels* surface = nullptr;  // SURFACE images: the live surface (not copied)
  ImageInfo info;
  const image::Pixels* get() const { return pixels ? pixels.get() : surface; }
};

// `image` is the pointer field (or the Image struct) in a decoded display message.
// `as_mask`: a 1-bit bitmap is read as coverage (bit set = pixel on, whatever its
// palette says), as clients read the masks of draw commands.
ResolvedImage resolve_image(const decode::FieldView& image, ImageContext& ctx, bool as_mask = false);

}  // namespace sc::display
