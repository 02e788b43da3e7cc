// GLZ_RGB / ZLIB_GLZ_RGB images and the dictionary their references point into.
// The byte-code itself is lz_core's (lz.cpp); this file owns the header, the
// dictionary's lifetime rules and the cross-image lookups.
#include "dissect/image/glz.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>

#include "dissect/image/lz.hpp"

namespace sc::image {

namespace {

constexpr uint32_t kLzMagic = 0x20205a4c;
constexpr uint32_t kLzVersion = 0x00010001;
constexpr size_t kHeaderBytes = 4 + 4 + 1 + 4 + 4 + 4 + 8 + 4;
// Images past an unfilled id gap whose window heads we hold back; beyond this
// the gap is taken as lost for good.
constexpr size_t kMaxWaiting = 1024;

enum : uint32_t { kRgb16 = 6, kRgb24 = 7, kRgb32 = 8, kRgba = 9 };

std::string num(uint64_t v) { return std::to_string(v); }

uint32_t be32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

struct Header {
  uint32_t type = 0, width = 0, height = 0;
  bool top_down = false;
  uint64_t id = 0;
  uint32_t head_dist = 0;
};

Result<Header, Fault> parse_header(std::span<const uint8_t> in, const Limits& limits) {
  if (in.size() < kHeaderBytes) return fault("truncated", in.size(), "GLZ header needs 33 bytes, payload has " + num(in.size()));
  const uint8_t* p = in.data();
  if (be32(p) != kLzMagic) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%08x", be32(p));
    return fault("bad_magic", 0, std::string("not a GLZ stream (magic 0x") + buf + ")");
  }
  if (be32(p + 4) != kLzVersion) return fault("unsupported", 4, "GLZ version " + num(be32(p + 4) >> 16) + "." + num(be32(p + 4) & 0xffff));
  Header h;
  h.type = p[8] & 0x0f;
  h.top_down = (p[8] >> 4) != 0;
  h.width = be32(p + 9);
  h.height = be32(p + 13);
  // The stride (p + 17) describes the server's source bitmap; the stream codes width x height pixels.
  h.id = uint64_t{be32(p + 21)} << 32 | be32(p + 25);
  h.head_dist = be32(p + 29);
  if (h.type < kRgb16 || h.type > kRgba) {
    // Palette images are never GLZ-coded: their bytes mean different colours under different palettes.
    return fault("unsupported", 8, "GLZ image type " + num(h.type));
  }
  if (h.width == 0 || h.height == 0) return fault("bad_header", 9, "GLZ image of " + num(h.width) + "x" + num(h.height));
  if (!limits.allows(h.width, h.height)) return fault("too_large", 9, "GLZ image of " + num(h.width) + "x" + num(h.height) + " exceeds the limits");
  return h;
}

}  // namespace

// The dictionary's rules, kept out of the header.
struct GlzAccess {
  // Resolves the references of the image `id` being decoded.
  class Source final : public lz_core::ImageSource {
   public:
    Source(const GlzDictionary& d, uint64_t id) : dict_(d), id_(id) {}
    const uint32_t* units(uint32_t dist, uint32_t offset, size_t len, size_t at) override {
      ++references_;
      if (dist > id_) {
        note(at, "references an image " + num(dist) + " back from image " + num(id_) + ", before the first id");
        return nullptr;
      }
      const uint64_t target = id_ - dist;
      const auto it = dict_.images_.find(target);
      if (it == dict_.images_.end()) {
        note(at, "references image " + num(target) + " (" + num(dist) + " back from " + num(id_) + "), which the dictionary does not have");
        return nullptr;
      }
      const auto& units = it->second.units;
      if (offset > units.size() || len > units.size() - offset) {
        if (!bad_range_) bad_range_ = fault("corrupt", at, "reference to pixels " + num(offset) + ".." + num(uint64_t{offset} + len) + " of image " + num(target) + ", which has " + num(units.size()));
        return nullptr;
      }
      if (!it->second.complete) note(at, "references image " + num(target) + ", itself decoded with missing references");
      return units.data() + offset;
    }
    void note(size_t at, std::string text) {
      if (!missing_) missing_ = fault("missing_reference", at, std::move(text));
    }
    std::optional<Fault> missing_, bad_range_;
    uint32_t references_ = 0;

   private:
    const GlzDictionary& dict_;
    uint64_t id_;
  };

  static void erase(GlzDictionary& d, std::map<uint64_t, GlzDictionary::Image>::iterator it) {
    d.pixels_ -= it->second.units.size();
    d.bytes_ -= it->second.units.size() * 4;
    d.images_.erase(it);
  }

  static void add(GlzDictionary& d, const Header& h, std::vector<uint32_t> units, bool complete) {
    if (auto old = d.images_.find(h.id); old != d.images_.end()) erase(d, old);
    const uint64_t n = units.size();
    d.images_[h.id] = GlzDictionary::Image{std::move(units), complete};
    d.pixels_ += n;
    d.bytes_ += n * 4;

    const uint64_t head = h.head_dist <= h.id ? h.id - h.head_dist : 0;
    if (!d.started_) {
      d.started_ = true;
      d.next_in_order_ = h.id;
    }
    if (h.id >= d.next_in_order_) {
      d.waiting_[h.id] = head;
      for (;;) {
        auto w = d.waiting_.begin();
        if (w == d.waiting_.end()) break;
        if (w->first != d.next_in_order_) {
          if (d.waiting_.size() <= kMaxWaiting) break;
          d.next_in_order_ = w->first;  // a gap that never filled: the image was lost
        }
        d.release_below_ = std::max(d.release_below_, w->second);
        d.next_in_order_ = w->first + 1;
        d.waiting_.erase(w);
      }
    } else {
      d.release_below_ = std::max(d.release_below_, head);
    }
    while (!d.images_.empty() && d.images_.begin()->first < d.release_below_ && d.images_.begin()->first != h.id)
      erase(d, d.images_.begin());
    // The server's window holds at most `window` pixels, the newest image included.
    while (d.images_.size() > 1 && (d.pixels_ > d.window_ || d.bytes_ > d.max_bytes_)) {
      auto victim = d.images_.begin();
      if (victim->first == h.id) ++victim;
      erase(d, victim);
    }
  }
};

GlzDictionary::GlzDictionary(uint64_t window, uint64_t max_bytes)
    : window_(window == 0 || window > kMaxWindow ? kMaxWindow : window), max_bytes_(max_bytes) {}

void GlzDictionary::clear() {
  images_.clear();
  waiting_.clear();
  bytes_ = pixels_ = 0;
  next_in_order_ = release_below_ = 0;
  started_ = false;
}

Decoded<Pixels> decode_glz(std::span<const uint8_t> payload, GlzDictionary& dictionary, const Limits& limits,
                           uint32_t* references) {
  auto header = parse_header(payload, limits);
  if (!header) return header.error();
  const Header& h = *header;
  const uint64_t npx = uint64_t{h.width} * h.height;
  if (npx > dictionary.window())
    return fault("too_large", 9, "GLZ image of " + num(npx) + " pixels exceeds the dictionary window of " + num(dictionary.window()) + " pixels");
  const bool rgba = h.type == kRgba;
  const size_t available = payload.size() - kHeaderBytes;
  if ((rgba ? 2 : 1) * npx > lz_core::kMaxUnitsPerByte * available)
    return fault("truncated", payload.size(), num(npx) + " pixels cannot come from " + num(available) + " bytes of GLZ stream");

  std::vector<uint32_t> units(npx);
  GlzAccess::Source source(dictionary, h.id);
  // Literals carry no alpha (as the reference client's pad byte), so alpha copied
  // across images means what it meant there; opaque output gets A = 0xff below.
  lz_core::Pass pass{lz_core::Dialect::glz, h.type == kRgb16 ? lz_core::Unit::rgb16 : lz_core::Unit::rgb32, 0,
                     units.data(), units.size(), &source};
  size_t pos = kHeaderBytes;
  auto r = lz_core::decode(payload, pos, pass);
  if (r && rgba) {
    pass.unit = lz_core::Unit::alpha;
    r = lz_core::decode(payload, pos, pass);
  }
  if (references) *references = source.references_;
  if (!r) {
    // A cut stream (a lost packet) still names an image later ones may point to.
    if (r.error().code == "truncated") GlzAccess::add(dictionary, h, std::move(units), false);
    return r.error();
  }
  if (source.bad_range_) return *source.bad_range_;

  Pixels px;
  px.width = h.width;
  px.height = h.height;
  px.has_alpha = rgba;
  px.data.resize(npx);
  const uint32_t opaque = rgba ? 0 : 0xff000000u;
  for (uint32_t y = 0; y < h.height; ++y) {
    const uint32_t* src = units.data() + size_t{y} * h.width;
    uint32_t* dst = px.row(h.top_down ? y : h.height - 1 - y);
    for (uint32_t x = 0; x < h.width; ++x) dst[x] = src[x] | opaque;
  }
  GlzAccess::add(dictionary, h, std::move(units), !source.missing_);
  if (source.missing_) return *source.missing_;
  return px;
}

Decoded<Pixels> decode_zlib_glz(std::span<const uint8_t> data, uint32_t glz_size, GlzDictionary& dictionary,
                                const Limits& limits, uint32_t* references) {
  if (data.empty()) return fault("truncated", 0, "ZLIB_GLZ image without zlib data");
  if (glz_size < kHeaderBytes) return fault("bad_header", 0, "ZLIB_GLZ glz_data_size " + num(glz_size) + " below a GLZ header");
  // Deflate cannot expand more than ~1032:1; a GLZ stream is at most ~3 bytes a pixel (times 2 with alpha).
  const uint64_t cap = std::min<uint64_t>(uint64_t{data.size()} * 1032 + 64, limits.max_pixels * 8 + kHeaderBytes);
  if (glz_size > cap) return fault("too_large", 0, "ZLIB_GLZ glz_data_size " + num(glz_size) + " from " + num(data.size()) + " zlib bytes");
  std::vector<uint8_t> glz(glz_size);
  z_stream z{};
  if (inflateInit(&z) != Z_OK) return fault("corrupt", 0, "zlib init failed");
  z.next_in = const_cast<Bytef*>(data.data());
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = glz.data();
  z.avail_out = glz_size;
  const int rc = inflate(&z, Z_FINISH);
  const uint64_t consumed = z.total_in, produced = z.total_out;
  const bool input_left = z.avail_in != 0;
  const std::string msg = z.msg ? z.msg : "inflate error " + std::to_string(rc);
  inflateEnd(&z);
  if (rc != Z_STREAM_END) {
    if (rc == Z_BUF_ERROR && produced == glz_size)
      return fault("corrupt", consumed, "zlib stream inflates past glz_data_size " + num(glz_size));
    if (rc == Z_BUF_ERROR || (rc == Z_OK && !input_left))
      return fault("truncated", consumed, "zlib stream ends after " + num(produced) + " of " + num(glz_size) + " bytes");
    return fault("corrupt", consumed, "zlib: " + msg);
  }
  if (produced != glz_size) return fault("corrupt", consumed, "zlib stream inflates to " + num(produced) + " bytes, glz_data_size says " + num(glz_size));
  auto out = decode_glz(glz, dictionary, limits, references);
  if (!out) {
    Fault f = out.error();
    f.text = "inflated GLZ: " + f.text;
    return f;
  }
  return out;
}

}  // namespace sc::image
