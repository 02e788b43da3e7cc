// LZ (LZ_RGB / LZ_PLT / the JPEG_ALPHA plane) and GLZ (GLZ_RGB / ZLIB_GLZ_RGB) on
// real payloads from captures (tests/data/images/{lz,glz,zlib_glz}, digests checked
// against the reference decoders) and on hand-made streams for every fault.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "dissect/image/glz.hpp"
#include "dissect/image/lz.hpp"
#include "tests/unit/image_fixtures.hpp"

namespace {

using namespace sc::image;
using Bytes = std::vector<uint8_t>;

std::string data_dir(const std::string& sub) { return sc::test::image_data_dir(sub); }
Bytes read_file(const std::string& path) { return sc::test::read_bytes(path); }
std::vector<std::vector<std::string>> read_index(const std::string& sub) { return sc::test::image_index(sub); }
std::string digest(const Pixels& px) { return sc::test::pixel_digest(px); }

void put32(Bytes& b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(v >> s));
}

Bytes lz_header(uint32_t type, uint32_t w, uint32_t h, uint32_t stride, bool top_down = true) {
  Bytes b;
  put32(b, 0x20205a4c);
  put32(b, 0x00010001);
  put32(b, type);
  put32(b, w);
  put32(b, h);
  put32(b, stride);
  put32(b, top_down ? 1 : 0);
  return b;
}

Bytes glz_header(uint32_t type, uint32_t w, uint32_t h, uint64_t id, uint32_t head_dist, bool top_down = true) {
  Bytes b;
  put32(b, 0x20205a4c);
  put32(b, 0x00010001);
  b.push_back(static_cast<uint8_t>(type | (top_down ? 0x10 : 0)));
  put32(b, w);
  put32(b, h);
  put32(b, w * 4);
  put32(b, static_cast<uint32_t>(id >> 32));
  put32(b, static_cast<uint32_t>(id));
  put32(b, head_dist);
  return b;
}

Bytes cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

enum : uint32_t { PLT1_LE = 1, PLT1_BE, PLT4_LE, PLT4_BE, PLT8, RGB16, RGB24, RGB32, RGBA, XXXA, A8 };

// ---------------------------------------------------------------------------- LZ, real

TEST(LzDecodeReal, MatchesReferenceDigests) {
  for (const auto& row : read_index("lz")) {
    const Bytes payload = read_file(data_dir("lz") + row[0]);
    auto px = decode_lz(payload, {});
    ASSERT_TRUE(px.ok()) << row[0] << ": " << px.error().code << " " << px.error().text;
    EXPECT_EQ(px->width, std::stoul(row[1])) << row[0];
    EXPECT_EQ(px->height, std::stoul(row[2])) << row[0];
    EXPECT_FALSE(px->has_alpha);
    EXPECT_EQ(digest(*px), row[3]) << row[0];
    for (uint32_t v : px->data) ASSERT_EQ(v >> 24, 0xffu) << row[0];
  }
}

TEST(LzDecodeReal, TruncatedAtEvery64thByte) {
  for (const auto& row : read_index("lz")) {
    const Bytes payload = read_file(data_dir("lz") + row[0]);
    for (size_t cut = 0; cut < payload.size(); cut += 64) {
      auto px = decode_lz(std::span(payload).first(cut), {});
      ASSERT_FALSE(px.ok()) << row[0] << " cut " << cut;
      EXPECT_EQ(px.error().code, "truncated") << row[0] << " cut " << cut << ": " << px.error().text;
      EXPECT_LE(px.error().offset, cut);
    }
  }
}

// ---------------------------------------------------------------------------- LZ, hand-made

TEST(LzDecodeHeader, HostileHeadersFault) {
  struct Case {
    Bytes payload;
    const char* code;
  };
  Bytes bad_magic = lz_header(RGB32, 1, 1, 4);
  bad_magic[0] = 'X';
  Bytes bad_version = lz_header(RGB32, 1, 1, 4);
  bad_version[7] = 2;
  const Case cases[] = {
      {{}, "truncated"},
      {Bytes(27, 0), "truncated"},
      {bad_magic, "bad_magic"},
      {bad_version, "unsupported"},
      {lz_header(0, 1, 1, 4), "unsupported"},
      {lz_header(12, 1, 1, 4), "unsupported"},
      {lz_header(0xffffffff, 1, 1, 4), "unsupported"},
      {lz_header(RGB32, 0, 1, 0), "bad_header"},
      {lz_header(RGB32, 1, 0, 4), "bad_header"},
      {lz_header(RGB32, 0xffffffff, 0xffffffff, 0xfffffffc), "too_large"},
      {lz_header(RGB32, 16384, 16384, 65536), "too_large"},
      {lz_header(RGB32, 4, 1, 12), "bad_header"},   // stride must be width * 4
      {lz_header(RGB24, 4, 1, 16), "bad_header"},   // and width * 3
      {lz_header(PLT8, 4, 1, 3), "bad_header"},     // palette rows shorter than the width
      {lz_header(PLT1_BE, 17, 1, 2), "bad_header"},
      {lz_header(PLT8, 1, 4096, 0xffffffff), "too_large"},
      {lz_header(XXXA, 1, 1, 4), "unsupported"},  // an alpha plane only
      // a claimed size no 28-byte stream can produce
      {cat(lz_header(RGB32, 4096, 4096, 16384), Bytes(28, 0)), "truncated"},
  };
  const uint32_t pal[] = {0x123456};
  for (const auto& c : cases) {
    auto px = decode_lz(c.payload, pal);
    ASSERT_FALSE(px.ok()) << c.code;
    EXPECT_EQ(px.error().code, c.code) << px.error().text;
  }
}

TEST(LzDecodeRgb, LiteralsRunsAndRowOrder) {
  // 2x3 RGB32: one literal, then a run of 5 (a match one back).
  const Bytes body = {0x00, 0x30, 0x20, 0x10, 0xa0, 0x00};  // literal B,G,R; match len 5 (code 5), ofs 1
  auto px = decode_lz(cat(lz_header(RGB32, 2, 3, 8), body), {});
  ASSERT_TRUE(px.ok()) << px.error().text;
  for (uint32_t v : px->data) EXPECT_EQ(v, 0xff102030u);

  // 1x2 RGB24 bottom-up: the first pixel on the wire is the bottom row.
  auto up = decode_lz(cat(lz_header(RGB24, 1, 2, 3, false), {0x01, 1, 2, 3, 4, 5, 6}), {});
  ASSERT_TRUE(up.ok()) << up.error().text;
  EXPECT_EQ(up->at(0, 0), 0xff060504u);
  EXPECT_EQ(up->at(0, 1), 0xff030201u);

  // RGB16 555: red, green, blue (high byte first), then a match of 2 back (len 3: code 2 + bias 1).
  auto c16 = decode_lz(cat(lz_header(RGB16, 6, 1, 12), {0x02, 0x7c, 0x00, 0x03, 0xe0, 0x00, 0x1f, 0x40, 0x01}), {});
  ASSERT_TRUE(c16.ok()) << c16.error().text;
  const uint32_t want16[] = {0xffff0000u, 0xff00ff00u, 0xff0000ffu, 0xff00ff00u, 0xff0000ffu, 0xff00ff00u};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(c16->data[i], want16[i]) << i;
}

TEST(LzDecodeRgb, RgbaAndA8) {
  // RGBA 2x1: a colour pass then an alpha pass, each two literals.
  auto px = decode_lz(cat(lz_header(RGBA, 2, 1, 8), {0x01, 1, 2, 3, 4, 5, 6, 0x01, 0x80, 0x40}), {});
  ASSERT_TRUE(px.ok()) << px.error().text;
  EXPECT_TRUE(px->has_alpha);
  EXPECT_EQ(px->data[0], 0x80030201u);
  EXPECT_EQ(px->data[1], 0x40060504u);
  // A8: colour 0, A = the byte; a match of 4 one back (len code 2 + bias 2).
  auto a8 = decode_lz(cat(lz_header(A8, 5, 1, 5), {0x00, 0x7f, 0x40, 0x00}), {});
  ASSERT_TRUE(a8.ok()) << a8.error().text;
  for (uint32_t v : a8->data) EXPECT_EQ(v, 0x7f000000u);
  // The colour pass alone: the alpha pass is missing.
  auto cut = decode_lz(cat(lz_header(RGBA, 2, 1, 8), {0x01, 1, 2, 3, 4, 5, 6}), {});
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.error().code, "truncated");
}

TEST(LzDecodeRgb, FarDistanceEscape) {
  // 8194 literal pixels, then a match whose distance needs LZ's 16-bit escape.
  const uint32_t n = 8192 + 2 + 4;
  Bytes body;
  for (uint32_t i = 0; i < 8194; i += 32) {
    const uint32_t k = std::min<uint32_t>(32, 8194 - i);
    body.push_back(static_cast<uint8_t>(k - 1));
    for (uint32_t j = 0; j < k; ++j) {
      body.push_back(static_cast<uint8_t>(i + j));
      body.push_back(static_cast<uint8_t>((i + j) >> 8));
      body.push_back(0);
    }
  }
  // match of 4 units, 8194 back: escape code (ctrl & 31 = 31, byte 255), then 8194 - 1 - 8191 = 2.
  for (uint8_t b : {0x9f, 0xff, 0x00, 0x02}) body.push_back(b);
  auto px = decode_lz(cat(lz_header(RGB32, n, 1, n * 4), body), {});
  ASSERT_TRUE(px.ok()) << px.error().text;
  for (uint32_t i = 0; i < 4; ++i) EXPECT_EQ(px->data[8194 + i], px->data[i]) << i;
  EXPECT_EQ(px->data[8193], 0xff000000u | (8193 & 0xff) | ((8193 >> 8) << 8));
}

TEST(LzDecodeCorrupt, MatchesOutsideTheImage) {
  // A match as the first operation reaches before the image.
  auto before = decode_lz(cat(lz_header(RGB32, 4, 1, 16), {0x40, 0x05}), {});
  ASSERT_FALSE(before.ok());
  EXPECT_EQ(before.error().code, "corrupt");
  EXPECT_EQ(before.error().offset, 28u);
  // A literal run longer than the image.
  auto lit = decode_lz(cat(lz_header(RGB32, 2, 1, 8), {0x02, 1, 2, 3, 4, 5, 6, 7, 8, 9}), {});
  ASSERT_FALSE(lit.ok());
  EXPECT_EQ(lit.error().code, "corrupt");
  // A match longer than what is left.
  auto run = decode_lz(cat(lz_header(RGB32, 3, 1, 12), {0x00, 1, 2, 3, 0xe0, 0x10, 0x00}), {});
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.error().code, "corrupt");
}

TEST(LzDecodePalette, EveryPaletteType) {
  const uint32_t pal[] = {0x000000, 0xff0000, 0x00ff00, 0x0000ff, 0xffffff};
  auto plt8 = decode_lz(cat(lz_header(PLT8, 2, 2, 2), {0x03, 0, 1, 2, 7}), pal);
  ASSERT_TRUE(plt8.ok()) << plt8.error().text;
  EXPECT_EQ(plt8->at(0, 0), 0xff000000u);
  EXPECT_EQ(plt8->at(1, 0), 0xffff0000u);
  EXPECT_EQ(plt8->at(0, 1), 0xff00ff00u);
  EXPECT_EQ(plt8->at(1, 1), 0xff00ff00u);  // index 7 wraps around the 5 entries

  // 3 pixels a row, stride 2 (the last nibble is padding), bottom-up.
  auto plt4be = decode_lz(cat(lz_header(PLT4_BE, 3, 2, 2, false), {0x03, 0x12, 0x30, 0x43, 0x20}), pal);
  ASSERT_TRUE(plt4be.ok()) << plt4be.error().text;
  EXPECT_EQ(plt4be->at(0, 1), 0xffff0000u);  // wire row 0 (1, 2, 3) is the bottom row
  EXPECT_EQ(plt4be->at(1, 1), 0xff00ff00u);
  EXPECT_EQ(plt4be->at(2, 1), 0xff0000ffu);
  EXPECT_EQ(plt4be->at(0, 0), 0xffffffffu);  // wire row 1 (4, 3, 2)
  EXPECT_EQ(plt4be->at(1, 0), 0xff0000ffu);
  EXPECT_EQ(plt4be->at(2, 0), 0xff00ff00u);
  auto plt4le = decode_lz(cat(lz_header(PLT4_LE, 2, 1, 1), {0x00, 0x21}), pal);
  ASSERT_TRUE(plt4le.ok()) << plt4le.error().text;
  EXPECT_EQ(plt4le->at(0, 0), 0xffff0000u);
  EXPECT_EQ(plt4le->at(1, 0), 0xff00ff00u);

  // 10 pixels of 1 bit: 0b10100000 0b01......
  auto be = decode_lz(cat(lz_header(PLT1_BE, 10, 1, 2), {0x01, 0xa0, 0x40}), pal);
  auto le = decode_lz(cat(lz_header(PLT1_LE, 10, 1, 2), {0x01, 0x05, 0x02}), pal);
  ASSERT_TRUE(be.ok() && le.ok());
  for (uint32_t x = 0; x < 10; ++x) {
    const bool fore = x == 0 || x == 2 || x == 9;
    EXPECT_EQ(be->at(x, 0), fore ? 0xffff0000u : 0xff000000u) << x;
    EXPECT_EQ(le->at(x, 0), fore ? 0xffff0000u : 0xff000000u) << x;
  }
}

TEST(LzDecodePalette, MissingPalette) {
  for (uint32_t type : {PLT1_LE, PLT1_BE, PLT4_LE, PLT4_BE, PLT8}) {
    auto px = decode_lz(cat(lz_header(type, 1, 1, 1), {0x00, 0x00}), {});
    ASSERT_FALSE(px.ok());
    EXPECT_EQ(px.error().code, "missing_palette") << type;
  }
}

TEST(LzDecodeAlpha, XxxaIntoPixels) {
  Pixels px(2, 2, false, 0xff112233u);
  // bottom-up: wire row 0 (0x10, 0x20) is the image's bottom row.
  ASSERT_TRUE(decode_lz_alpha(cat(lz_header(XXXA, 2, 2, 8, false), {0x03, 0x10, 0x20, 0x30, 0x40}), px).ok());
  EXPECT_TRUE(px.has_alpha);
  EXPECT_EQ(px.at(0, 1), 0x10112233u);
  EXPECT_EQ(px.at(1, 1), 0x20112233u);
  EXPECT_EQ(px.at(0, 0), 0x30112233u);
  EXPECT_EQ(px.at(1, 0), 0x40112233u);

  Pixels other(3, 2);
  auto size = decode_lz_alpha(cat(lz_header(XXXA, 2, 2, 8), {0x03, 1, 2, 3, 4}), other);
  ASSERT_FALSE(size.ok());
  EXPECT_EQ(size.error().code, "bad_header");
  auto type = decode_lz_alpha(cat(lz_header(RGB32, 3, 2, 12), {0x00}), other);
  ASSERT_FALSE(type.ok());
  EXPECT_EQ(type.error().code, "unsupported");
  Pixels keep(2, 2, false, 0xff000000u);
  auto cut = decode_lz_alpha(cat(lz_header(XXXA, 2, 2, 8), {0x03, 1, 2}), keep);
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.error().code, "truncated");
  EXPECT_FALSE(keep.has_alpha);
  for (uint32_t v : keep.data) EXPECT_EQ(v, 0xff000000u);  // untouched on failure
}

// ---------------------------------------------------------------------------- GLZ, real

struct GlzFixture {
  std::vector<std::vector<std::string>> rows;
  std::vector<Bytes> payloads;
  explicit GlzFixture(const std::string& sub) : rows(read_index(sub)) {
    for (const auto& r : rows) payloads.push_back(read_file(data_dir(sub) + r[0]));
  }
};

TEST(GlzDecodeReal, SequenceInOrderMatchesReference) {
  GlzFixture f("glz");
  GlzDictionary dict(16 * 1024 * 1024 / 4);  // the GLib client's 16 MiB window, in pixels
  size_t needing_predecessors = 0;
  for (size_t i = 0; i < f.rows.size(); ++i) {
    auto px = decode_glz(f.payloads[i], dict);
    ASSERT_TRUE(px.ok()) << f.rows[i][0] << ": " << px.error().code << " " << px.error().text;
    EXPECT_EQ(px->width, std::stoul(f.rows[i][1]));
    EXPECT_EQ(px->height, std::stoul(f.rows[i][2]));
    EXPECT_EQ(digest(*px), f.rows[i][3]) << f.rows[i][0];
    if (f.rows[i][4] == "missing_reference") ++needing_predecessors;
  }
  // Most images of the session copy pixels from earlier ones.
  EXPECT_GE(needing_predecessors, 20u);
  EXPECT_GT(dict.images(), 0u);
  EXPECT_LE(dict.images(), f.rows.size());
}

TEST(GlzDecodeReal, LaterImageAloneIsMissingReference) {
  GlzFixture f("glz");
  size_t checked = 0;
  for (size_t i = 0; i < f.rows.size(); ++i) {
    GlzDictionary fresh;
    auto px = decode_glz(f.payloads[i], fresh);
    if (f.rows[i][4] == "ok") {
      EXPECT_TRUE(px.ok()) << f.rows[i][0];
      continue;
    }
    ASSERT_FALSE(px.ok()) << f.rows[i][0];
    EXPECT_EQ(px.error().code, "missing_reference");
    EXPECT_NE(px.error().text.find("image "), std::string::npos) << px.error().text;
    EXPECT_GT(px.error().offset, 32u);
    EXPECT_EQ(fresh.images(), 1u);  // still added, for the images that follow
    ++checked;
  }
  EXPECT_GE(checked, 20u);
}

TEST(GlzDecodeReal, MidSessionStartRecovers) {
  GlzFixture f("glz");
  GlzDictionary dict;
  size_t missing = 0;
  for (size_t i = f.rows.size() / 2; i < f.rows.size(); ++i) {
    auto px = decode_glz(f.payloads[i], dict);
    if (!px.ok()) {
      EXPECT_EQ(px.error().code, "missing_reference") << px.error().text;
      ++missing;
    } else {
      EXPECT_EQ(digest(*px), f.rows[i][3]);
    }
  }
  EXPECT_GT(missing, 0u);
}

TEST(GlzDecodeReal, TruncatedAtEvery64thByte) {
  GlzFixture f("glz");
  GlzDictionary dict;
  for (size_t i = 0; i < f.rows.size(); ++i) {
    for (size_t cut = 0; cut < f.payloads[i].size(); cut += 64) {
      GlzDictionary copy = dict;
      auto px = decode_glz(std::span(f.payloads[i]).first(cut), copy);
      ASSERT_FALSE(px.ok());
      EXPECT_EQ(px.error().code, "truncated") << f.rows[i][0] << " cut " << cut << ": " << px.error().text;
    }
    ASSERT_TRUE(decode_glz(f.payloads[i], dict).ok());
  }
}

TEST(GlzDecodeWindow, WindowTooSmall) {
  GlzFixture f("glz");
  // Smaller than the first image: the server could not have GLZ-coded it.
  GlzDictionary tiny(100);
  auto first = decode_glz(f.payloads[0], tiny);
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().code, "too_large");
  EXPECT_EQ(tiny.images(), 0u);
  // Room for about one image: references to the dropped ones fail.
  GlzDictionary small(500);
  size_t missing = 0;
  for (size_t i = 0; i < f.rows.size(); ++i) {
    auto px = decode_glz(f.payloads[i], small);
    if (!px.ok()) {
      ASSERT_EQ(px.error().code, "missing_reference") << px.error().text;
      ++missing;
    }
    EXPECT_LE(small.bytes(), 500u * 4);
  }
  EXPECT_GT(missing, 0u);
}

TEST(GlzDecodeZlib, SequenceMatchesReference) {
  GlzFixture f("zlib_glz");
  GlzDictionary dict;
  size_t zlib = 0;
  for (size_t i = 0; i < f.rows.size(); ++i) {
    const uint32_t glz_size = static_cast<uint32_t>(std::stoul(f.rows[i][4]));
    auto px = glz_size ? decode_zlib_glz(f.payloads[i], glz_size, dict) : decode_glz(f.payloads[i], dict);
    ASSERT_TRUE(px.ok()) << f.rows[i][0] << ": " << px.error().code << " " << px.error().text;
    EXPECT_EQ(digest(*px), f.rows[i][3]) << f.rows[i][0];
    if (glz_size) ++zlib;
  }
  EXPECT_GE(zlib, 10u);
}

TEST(GlzDecodeZlib, BadDeflateAndSizes) {
  GlzFixture f("zlib_glz");
  size_t i = 0;
  while (f.rows[i][4] == "0") ++i;
  const Bytes& z = f.payloads[i];
  const uint32_t glz_size = static_cast<uint32_t>(std::stoul(f.rows[i][4]));
  for (size_t cut = 0; cut < z.size(); cut += 64) {
    GlzDictionary dict;
    auto px = decode_zlib_glz(std::span(z).first(cut), glz_size, dict);
    ASSERT_FALSE(px.ok());
    EXPECT_EQ(px.error().code, "truncated") << cut << ": " << px.error().text;
  }
  GlzDictionary dict;
  auto big = decode_zlib_glz(z, 0xffffffffu, dict);
  EXPECT_EQ(big.error().code, "too_large");
  auto small = decode_zlib_glz(z, glz_size - 1, dict);
  EXPECT_EQ(small.error().code, "corrupt");
  auto longer = decode_zlib_glz(z, glz_size + 1, dict);
  EXPECT_EQ(longer.error().code, "corrupt");
  auto header = decode_zlib_glz(z, 10, dict);
  EXPECT_EQ(header.error().code, "bad_header");
  Bytes junk = z;
  junk[0] ^= 0xff;
  auto bad = decode_zlib_glz(junk, glz_size, dict);
  EXPECT_EQ(bad.error().code, "corrupt");
}

// ---------------------------------------------------------------------------- GLZ, hand-made

// A 4x1 RGB32 image: four literals.
Bytes glz_literals(uint64_t id, uint32_t head_dist) {
  return cat(glz_header(RGB32, 4, 1, id, head_dist), {0x03, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
}
// A 4x1 RGB32 image copying all four pixels of the image `dist` back.
Bytes glz_copy(uint64_t id, uint32_t head_dist, uint8_t dist) {
  return cat(glz_header(RGB32, 4, 1, id, head_dist), {0x80, 0x00, dist});
}

TEST(GlzDecodeDictionary, CrossImageCopyAndRelease) {
  GlzDictionary dict;
  auto a = decode_glz(glz_literals(5, 0), dict);
  ASSERT_TRUE(a.ok()) << a.error().text;
  auto b = decode_glz(glz_copy(6, 1, 1), dict);
  ASSERT_TRUE(b.ok()) << b.error().text;
  EXPECT_EQ(a->data, b->data);
  EXPECT_EQ(b->data[0], 0xff030201u);
  EXPECT_EQ(dict.images(), 2u);
  EXPECT_EQ(dict.bytes(), 32u);

  // Image 8 arrives before 7 (another display channel): its window head (8) waits for 7.
  ASSERT_TRUE(decode_glz(glz_copy(8, 0, 3), dict).ok());
  EXPECT_TRUE(dict.contains(5));
  ASSERT_TRUE(decode_glz(glz_copy(7, 2, 2), dict).ok());  // copies image 5
  EXPECT_FALSE(dict.contains(5));
  EXPECT_FALSE(dict.contains(6));
  auto late = decode_glz(glz_copy(9, 4, 4), dict);  // image 5 is gone
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, "missing_reference");
  EXPECT_NE(late.error().text.find("image 5"), std::string::npos) << late.error().text;
  EXPECT_EQ(late.error().offset, 33u);
  // Image 9 was kept (zeroed where it could not copy) but is incomplete: copying it fails too.
  EXPECT_TRUE(dict.contains(9));
  auto next = decode_glz(glz_copy(10, 1, 1), dict);
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.error().code, "missing_reference");
  dict.clear();
  EXPECT_EQ(dict.images(), 0u);
  EXPECT_EQ(dict.bytes(), 0u);
}

TEST(GlzDecodeDictionary, ReferencePastTheOtherImage) {
  GlzDictionary dict;
  ASSERT_TRUE(decode_glz(glz_literals(1, 0), dict).ok());
  // 4 pixels from offset 2 of a 4-pixel image: ctrl len 4, pixel offset 2.
  auto px = decode_glz(cat(glz_header(RGB32, 4, 1, 2, 1), {0x82, 0x00, 0x01}), dict);
  ASSERT_FALSE(px.ok());
  EXPECT_EQ(px.error().code, "corrupt");
}

TEST(GlzDecodeHeader, HostileHeadersFault) {
  Bytes magic = glz_literals(1, 0);
  magic[1] = 0;
  struct Case {
    Bytes payload;
    const char* code;
  } cases[] = {
      {{}, "truncated"},
      {Bytes(32, 0), "truncated"},
      {magic, "bad_magic"},
      {glz_header(PLT8, 4, 1, 1, 0), "unsupported"},
      {glz_header(XXXA, 4, 1, 1, 0), "unsupported"},
      {glz_header(0, 4, 1, 1, 0), "unsupported"},
      {glz_header(RGB32, 0, 1, 1, 0), "bad_header"},
      {glz_header(RGB32, 100000, 100000, 1, 0), "too_large"},
      {cat(glz_header(RGB32, 4096, 4096, 1, 0), Bytes(16, 0)), "truncated"},
      {cat(glz_header(RGB32, 4, 1, 1, 0), {0x03, 1, 2, 3}), "truncated"},
      {cat(glz_header(RGB32, 4, 1, 1, 0), {0x60, 0x00, 0x00}), "corrupt"},  // a match before the image
  };
  for (const auto& c : cases) {
    GlzDictionary dict;
    auto px = decode_glz(c.payload, dict);
    ASSERT_FALSE(px.ok()) << c.code;
    EXPECT_EQ(px.error().code, c.code) << px.error().text;
  }
}

TEST(GlzDecodeRgb, RgbaAndRgb16) {
  GlzDictionary dict;
  // RGBA 2x1: a colour pass then an alpha pass.
  auto px = decode_glz(cat(glz_header(RGBA, 2, 1, 1, 0), {0x01, 1, 2, 3, 4, 5, 6, 0x01, 0x11, 0x22}), dict);
  ASSERT_TRUE(px.ok()) << px.error().text;
  EXPECT_TRUE(px->has_alpha);
  EXPECT_EQ(px->data[0], 0x11030201u);
  EXPECT_EQ(px->data[1], 0x22060504u);
  // RGB16, 1x2 bottom-up.
  auto c16 = decode_glz(cat(glz_header(RGB16, 1, 2, 2, 1, false), {0x01, 0x7c, 0x00, 0x00, 0x1f}), dict);
  ASSERT_TRUE(c16.ok()) << c16.error().text;
  EXPECT_EQ(c16->at(0, 1), 0xffff0000u);
  EXPECT_EQ(c16->at(0, 0), 0xff0000ffu);
}

}  // namespace
