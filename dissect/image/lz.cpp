// SPICE LZ: the shared LZ/GLZ byte-code core and the LZ_RGB / LZ_PLT images.
//
// The stream is a sequence of operations, each starting with a control byte:
// below 32 it is a run of ctrl+1 literal units; otherwise a back reference whose
// top three bits are a length code (7 = more length bytes follow, each 255 asks
// for another) and whose remaining bits start the distance. LZ codes a distance
// in 13 bits with a 16-bit escape; GLZ adds an image distance so a reference can
// point into an earlier image of the shared dictionary. Everything else (units,
// literal layouts, length biases) is common, so one templated loop serves both.
#include "dissect/image/lz.hpp"

#include "dissect/image/bitmap.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace sc::image {
namespace lz_core {
namespace {

template <Unit U>
struct UnitInfo;
// Literal bytes per unit and the bias the encoder subtracted from match lengths
// (it never codes a match shorter than what a literal run of the same bytes costs).
template <>
struct UnitInfo<Unit::rgb32> {
  using T = uint32_t;
  static constexpr size_t literal_bytes = 3, len_bias = 0;
};
template <>
struct UnitInfo<Unit::rgb16> {
  using T = uint32_t;
  static constexpr size_t literal_bytes = 2, len_bias = 1;
};
template <>
struct UnitInfo<Unit::alpha> {
  using T = uint32_t;
  static constexpr size_t literal_bytes = 1, len_bias = 2;
};
template <>
struct UnitInfo<Unit::byte> {
  using T = uint8_t;
  static constexpr size_t literal_bytes = 1, len_bias = 2;
};

constexpr uint32_t kAlphaMask = 0xff000000u;
constexpr size_t kLzFarBase = 8191;  // LZ's 16-bit escape distances start past the 13-bit range

std::string num(uint64_t v) { return std::to_string(v); }

// Copies `len` units from src to dst (they do not overlap).
template <Unit U, typename T>
inline void copy_units(T* dst, const T* src, size_t len) {
  if constexpr (U == Unit::alpha) {
    for (size_t i = 0; i < len; ++i) dst[i] = (dst[i] & ~kAlphaMask) | (src[i] & kAlphaMask);
  } else {
    std::memcpy(dst, src, len * sizeof(T));
  }
}

template <Unit U, typename T>
inline void zero_units(T* dst, size_t len) {
  if constexpr (U == Unit::alpha) {
    for (size_t i = 0; i < len; ++i) dst[i] &= ~kAlphaMask;
  } else {
    std::memset(dst, 0, len * sizeof(T));
  }
}

// A match inside the image being decoded, `ofs` units back (ofs >= 1): it may
// overlap its own output, which is how runs are coded.
template <Unit U, typename T>
inline void copy_back(T* out, size_t op, size_t ofs, size_t len) {
  T* dst = out + op;
  const T* src = dst - ofs;
  if (ofs >= len) {
    copy_units<U>(dst, src, len);
  } else if (ofs == 1) {
    if constexpr (U == Unit::alpha) {
      const uint32_t a = *src & kAlphaMask;
      for (size_t i = 0; i < len; ++i) dst[i] = (dst[i] & ~kAlphaMask) | a;
    } else {
      std::fill(dst, dst + len, *src);
    }
  } else {
    // Overlapping: the output repeats with period ofs, so [src, dst) can be copied
    // whole (never overlapping its target) and doubles every round.
    while (len > 0) {
      const size_t n = std::min(len, static_cast<size_t>(dst - src));
      copy_units<U>(dst, src, n);
      dst += n;
      len -= n;
    }
  }
}

template <Unit U>
inline void literals(typename UnitInfo<U>::T* dst, const uint8_t* p, size_t n, uint32_t alpha) {
  if constexpr (U == Unit::rgb32) {
    for (size_t i = 0; i < n; ++i, p += 3) dst[i] = alpha | uint32_t{p[2]} << 16 | uint32_t{p[1]} << 8 | p[0];
  } else if constexpr (U == Unit::rgb16) {
    for (size_t i = 0; i < n; ++i, p += 2) dst[i] = alpha | rgb555_to_rgb32(uint32_t{p[0]} << 8 | p[1]);
  } else if constexpr (U == Unit::alpha) {
    for (size_t i = 0; i < n; ++i) dst[i] = (dst[i] & ~kAlphaMask) | uint32_t{p[i]} << 24;
  } else {
    std::memcpy(dst, p, n);
  }
}

template <Dialect D, Unit U>
Result<void, Fault> run(std::span<const uint8_t> in, size_t& pos, const Pass& pass) {
  using Info = UnitInfo<U>;
  using T = typename Info::T;
  T* const out = static_cast<T*>(pass.out);
  const size_t count = pass.count;
  const uint8_t* const base = in.data();
  const uint8_t* const end = base + in.size();
  const uint8_t* p = base + std::min(pos, in.size());
  size_t op = 0;

  const uint8_t* op_start = p;
  // A bad operation is reported where it starts; a cut stream where it ends.
  auto stop = [&](const char* code, std::string text) {
    pos = static_cast<size_t>(op_start - base);
    return Result<void, Fault>(fault(code, pos, std::move(text)));
  };
  auto truncated = [&] {
    pos = static_cast<size_t>(p - base);
    return Result<void, Fault>(fault("truncated", pos, "LZ stream ends after " + num(op) + " of " + num(count) + " units"));
  };

  while (op < count) {
    if (p == end) return truncated();
    op_start = p;
    const uint32_t ctrl = *p++;
    if (ctrl < 32) {
      const size_t n = ctrl + 1;
      if (n > count - op) return stop("corrupt", "literal run of " + num(n) + " units at unit " + num(op) + " passes the " + num(count) + "-unit image");
      if (static_cast<size_t>(end - p) < n * Info::literal_bytes) return truncated();
      literals<U>(out + op, p, n, pass.literal_alpha);
      p += n * Info::literal_bytes;
      op += n;
      continue;
    }

    size_t len = ctrl >> 5;
    if (len == 7) {
      uint8_t more;
      do {
        if (p == end) return truncated();
        more = *p++;
        len += more;
      } while (more == 255);
    }
    len += Info::len_bias;

    size_t ofs = 0;        // units back inside this image (when dist == 0)
    uint32_t dist = 0;     // GLZ: images back
    uint32_t pixel_ofs = 0;  // GLZ: unit offset inside that image
    if constexpr (D == Dialect::lz) {
      if (p == end) return truncated();
      const uint32_t low = *p++;
      ofs = ((ctrl & 31) << 8) + low;
      if (low == 255 && (ctrl & 31) == 31) {
        if (end - p < 2) return truncated();
        ofs = (size_t{p[0]} << 8 | p[1]) + kLzFarBase;
        p += 2;
      }
      ofs += 1;
    } else {
      if (end - p < 2) return truncated();
      const bool wide = (ctrl >> 4) & 1;
      pixel_ofs = (ctrl & 15) | uint32_t{p[0]} << 4;
      const uint32_t code = p[1];
      p += 2;
      const uint32_t dist_bytes = code >> 6;
      const bool very_wide = wide && ((code >> 5) & 1);
      if (static_cast<size_t>(end - p) < dist_bytes + (very_wide ? 1 : 0)) return truncated();
      if (!wide) {
        dist = code & 0x3f;
        for (uint32_t i = 0; i < dist_bytes; ++i) dist += uint32_t{*p++} << (6 + 8 * i);
      } else {
        pixel_ofs += (code & 0x1f) << 12;
        for (uint32_t i = 0; i < dist_bytes; ++i) dist += uint32_t{*p++} << (8 * i);
        if (very_wide) pixel_ofs += uint32_t{*p++} << 17;
      }
      if (dist == 0) ofs = size_t{pixel_ofs} + 1;
    }

    if (len > count - op) return stop("corrupt", "match of " + num(len) + " units at unit " + num(op) + " passes the " + num(count) + "-unit image");
    if constexpr (D == Dialect::glz) {
      if (dist != 0) {
        const uint32_t* src = pass.source ? pass.source->units(dist, pixel_ofs, len, static_cast<size_t>(op_start - base)) : nullptr;
        if (src) {
          copy_units<U>(reinterpret_cast<uint32_t*>(out + op), src, len);
        } else {
          zero_units<U>(out + op, len);
        }
        op += len;
        continue;
      }
    }
    if (ofs > op) return stop("corrupt", "match at unit " + num(op) + " reaches " + num(ofs) + " units back, before the image");
    copy_back<U>(out, op, ofs, len);
    op += len;
  }
  pos = static_cast<size_t>(p - base);
  return {};
}

using RunFn = Result<void, Fault> (*)(std::span<const uint8_t>, size_t&, const Pass&);

// Indexed by [dialect][unit]; GLZ has no palette images (the server only GLZ-codes RGB).
constexpr RunFn kRuns[2][4] = {
    {run<Dialect::lz, Unit::rgb32>, run<Dialect::lz, Unit::rgb16>, run<Dialect::lz, Unit::alpha>,
     run<Dialect::lz, Unit::byte>},
    {run<Dialect::glz, Unit::rgb32>, run<Dialect::glz, Unit::rgb16>, run<Dialect::glz, Unit::alpha>, nullptr},
};

}  // namespace

Result<void, Fault> decode(std::span<const uint8_t> in, size_t& pos, const Pass& pass) {
  const RunFn fn = kRuns[static_cast<size_t>(pass.dialect)][static_cast<size_t>(pass.unit)];
  if (!fn || !pass.out) return fault("unsupported", pos, "no LZ decoder for this unit");
  return fn(in, pos, pass);
}

}  // namespace lz_core

namespace {

using lz_core::Unit;

constexpr uint32_t kLzMagic = 0x20205a4c;  // "LZ  " read big-endian
constexpr uint32_t kLzVersion = 0x00010001;
constexpr size_t kHeaderBytes = 7 * 4;

enum class Kind : uint8_t { invalid, palette, rgb, rgba, alpha_plane, a8 };

struct TypeInfo {
  const char* name;
  Kind kind;
  uint8_t bits;       // per pixel on the wire
  bool lsb_first;     // palette types: the first pixel sits in the low bits
};

// Indexed by LZ image type (lz_common.h's order).
constexpr std::array<TypeInfo, 12> kTypes = {{
    {"INVALID", Kind::invalid, 0, false},
    {"PLT1_LE", Kind::palette, 1, true},
    {"PLT1_BE", Kind::palette, 1, false},
    {"PLT4_LE", Kind::palette, 4, true},
    {"PLT4_BE", Kind::palette, 4, false},
    {"PLT8", Kind::palette, 8, false},
    {"RGB16", Kind::rgb, 16, false},
    {"RGB24", Kind::rgb, 24, false},
    {"RGB32", Kind::rgb, 32, false},
    {"RGBA", Kind::rgba, 32, false},
    {"XXXA", Kind::alpha_plane, 32, false},
    {"A8", Kind::a8, 8, false},
}};

struct Header {
  uint32_t type = 0, width = 0, height = 0, stride = 0;
  bool top_down = false;
  const TypeInfo* info = nullptr;
};

uint32_t be32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

std::string num(uint64_t v) { return std::to_string(v); }

Result<Header, Fault> parse_header(std::span<const uint8_t> in, const Limits& limits) {
  if (in.size() < kHeaderBytes) return fault("truncated", in.size(), "LZ header needs 28 bytes, payload has " + num(in.size()));
  const uint8_t* p = in.data();
  if (be32(p) != kLzMagic) return fault("bad_magic", 0, "not an LZ stream (magic 0x" + [&] {
    char buf[9];
    std::snprintf(buf, sizeof buf, "%08x", be32(p));
    return std::string(buf);
  }() + ")");
  if (be32(p + 4) != kLzVersion) return fault("unsupported", 4, "LZ version " + num(be32(p + 4) >> 16) + "." + num(be32(p + 4) & 0xffff));
  Header h;
  h.type = be32(p + 8);
  h.width = be32(p + 12);
  h.height = be32(p + 16);
  h.stride = be32(p + 20);
  h.top_down = be32(p + 24) != 0;
  if (h.type == 0 || h.type >= kTypes.size()) return fault("unsupported", 8, "LZ image type " + num(h.type));
  h.info = &kTypes[h.type];
  if (h.width == 0 || h.height == 0) return fault("bad_header", 12, "LZ image of " + num(h.width) + "x" + num(h.height));
  if (!limits.allows(h.width, h.height)) return fault("too_large", 12, "LZ image of " + num(h.width) + "x" + num(h.height) + " exceeds the limits");
  const uint64_t row_bytes = (uint64_t{h.width} * h.info->bits + 7) / 8;
  if (h.info->kind == Kind::palette) {
    // Palette rows are coded as bytes, padding included, so the stride is what the stream covers.
    if (h.stride < row_bytes) return fault("bad_header", 20, "LZ stride " + num(h.stride) + " below the " + num(row_bytes) + " bytes of a row");
    if (uint64_t{h.stride} * h.height > limits.max_pixels * 4) return fault("too_large", 20, "LZ stride " + num(h.stride) + " x " + num(h.height) + " rows exceeds the limits");
  } else if (h.stride != row_bytes) {
    return fault("bad_header", 20, "LZ stride " + num(h.stride) + " for " + num(h.width) + " " + h.info->name + " pixels (" + num(row_bytes) + " expected)");
  }
  return h;
}

// A stream of n bytes cannot decode to more than kMaxUnitsPerByte * n units.
std::optional<Fault> bomb_check(uint64_t units, size_t available, size_t offset) {
  if (units > lz_core::kMaxUnitsPerByte * available)
    return fault("truncated", offset, num(units) + " units cannot come from " + num(available) + " bytes of LZ stream");
  return std::nullopt;
}

void flip_rows(Pixels& px) {
  for (uint32_t top = 0, bottom = px.height - 1; top < bottom; ++top, --bottom)
    std::swap_ranges(px.row(top), px.row(top) + px.width, px.row(bottom));
}

}  // namespace

Decoded<Pixels> decode_lz(std::span<const uint8_t> payload, Palette palette, const Limits& limits) {
  auto header = parse_header(payload, limits);
  if (!header) return header.error();
  const Header& h = *header;
  const TypeInfo& t = *h.info;
  size_t pos = kHeaderBytes;
  const size_t available = payload.size() - kHeaderBytes;
  const uint64_t npx = uint64_t{h.width} * h.height;

  switch (t.kind) {
    case Kind::palette: {
      if (palette.empty()) return fault("missing_palette", 8, std::string("LZ ") + t.name + " image without a palette");
      const uint64_t units = uint64_t{h.stride} * h.height;
      if (auto f = bomb_check(units, available, payload.size())) return *f;
      std::vector<uint8_t> idx(units);
      lz_core::Pass pass{lz_core::Dialect::lz, Unit::byte, 0, idx.data(), idx.size(), nullptr};
      if (auto r = lz_core::decode(payload, pos, pass); !r) return r.error();
      Pixels px;
      px.width = h.width;
      px.height = h.height;
      px.data.resize(npx);
      const auto table = palette_detail::make_table(palette);
      for (uint32_t y = 0; y < h.height; ++y)
        palette_detail::expand_row(idx.data() + size_t{y} * h.stride, h.width, t.bits, t.lsb_first, table,
                                   px.row(h.top_down ? y : h.height - 1 - y));
      return px;
    }
    case Kind::rgb:
    case Kind::rgba:
    case Kind::a8: {
      const bool two_passes = t.kind == Kind::rgba;
      if (auto f = bomb_check(two_passes ? 2 * npx : npx, available, payload.size())) return *f;
      const bool alpha = t.kind != Kind::rgb;
      Pixels px(h.width, h.height, alpha, t.kind == Kind::a8 ? 0u : 0xff000000u);
      const Unit first = t.kind == Kind::a8 ? Unit::alpha : t.bits == 16 ? Unit::rgb16 : Unit::rgb32;
      lz_core::Pass pass{lz_core::Dialect::lz, first, 0xff000000u, px.data.data(), px.data.size(), nullptr};
      if (auto r = lz_core::decode(payload, pos, pass); !r) return r.error();
      if (two_passes) {
        pass.unit = Unit::alpha;
        if (auto r = lz_core::decode(payload, pos, pass); !r) return r.error();
      }
      if (!h.top_down) flip_rows(px);
      return px;
    }
    case Kind::alpha_plane:
      return fault("unsupported", 8, "LZ XXXA is an alpha plane (JPEG_ALPHA), not an image");
    case Kind::invalid:
      break;
  }
  return fault("unsupported", 8, "LZ image type " + num(h.type));
}

Result<void, Fault> decode_lz_alpha(std::span<const uint8_t> payload, Pixels& into) {
  Limits limits;
  limits.max_side = std::max<uint32_t>({into.width, into.height, 1});
  limits.max_pixels = std::max<uint64_t>(uint64_t{into.width} * into.height, 1);
  auto header = parse_header(payload, limits);
  if (!header) return header.error();
  const Header& h = *header;
  if (h.info->kind != Kind::alpha_plane) return fault("unsupported", 8, std::string("LZ alpha plane of type ") + h.info->name + ", XXXA expected");
  if (h.width != into.width || h.height != into.height || into.data.size() != uint64_t{h.width} * h.height)
    return fault("bad_header", 12, "LZ alpha plane " + num(h.width) + "x" + num(h.height) + " for a " + num(into.width) + "x" + num(into.height) + " image");
  const size_t available = payload.size() - kHeaderBytes;
  if (auto f = bomb_check(into.data.size(), available, payload.size())) return *f;
  // Decoded apart so a bad stream leaves `into` untouched.
  std::vector<uint8_t> a(into.data.size());
  size_t pos = kHeaderBytes;
  lz_core::Pass pass{lz_core::Dialect::lz, Unit::byte, 0, a.data(), a.size(), nullptr};
  if (auto r = lz_core::decode(payload, pos, pass); !r) return r.error();
  for (uint32_t y = 0; y < h.height; ++y) {
    const uint8_t* src = a.data() + size_t{y} * h.width;
    uint32_t* dst = into.row(h.top_down ? y : h.height - 1 - y);
    for (uint32_t x = 0; x < h.width; ++x) dst[x] = (dst[x] & 0x00ffffffu) | uint32_t{src[x]} << 24;
  }
  into.has_alpha = true;
  return {};
}

}  // namespace sc::image
