// BITMAP images: a real payload (tests/data/images/bitmap) with its digest, and
// hand-made rows for every SPICE bitmap format, row order, stride and fault.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "dissect/image/bitmap.hpp"
#include "tests/unit/image_fixtures.hpp"

namespace {

using namespace sc::image;
using Bytes = std::vector<uint8_t>;

enum : uint8_t { F1LE = 1, F1BE, F4LE, F4BE, F8, F16, F24, F32, FRGBA, FA8 };
constexpr uint8_t kTopDown = 4;

std::string dir() { return std::string(SC_SOURCE_ROOT) + "/tests/data/images/bitmap/"; }

std::string digest(const Pixels& px) { return sc::test::pixel_digest(px); }

struct Real {
  BitmapView view;
  Bytes data;
  std::string sha;
};

std::vector<Real> real_bitmaps() {
  std::vector<Real> out;
  std::ifstream idx(dir() + "index.tsv");
  for (std::string line; std::getline(idx, line);) {
    std::istringstream s(line);
    std::string file, sha;
    unsigned fmt, flags, w, h, stride;
    s >> file >> fmt >> flags >> w >> h >> stride >> sha;
    Real r{{uint8_t(fmt), uint8_t(flags), w, h, stride, {}}, sc::test::read_bytes(dir() + file), sha};
    out.push_back(std::move(r));
  }
  EXPECT_FALSE(out.empty());
  return out;
}

Decoded<Pixels> dec(uint8_t fmt, uint8_t flags, uint32_t w, uint32_t h, uint32_t stride, const Bytes& data,
                    Palette pal = {}) {
  return decode_bitmap(BitmapView{fmt, flags, w, h, stride, data}, pal);
}

TEST(BitmapDecodeReal, MatchesDigest) {
  for (auto& r : real_bitmaps()) {
    r.view.data = r.data;
    auto px = decode_bitmap(r.view, {});
    ASSERT_TRUE(px.ok()) << px.error().text;
    EXPECT_EQ(px->width, r.view.width);
    EXPECT_EQ(digest(*px), r.sha);
  }
}

TEST(BitmapDecodeReal, TruncatedAtEvery64thByte) {
  for (auto& r : real_bitmaps()) {
    for (size_t cut = 0; cut < r.data.size(); cut += 64) {
      r.view.data = std::span(r.data).first(cut);
      auto px = decode_bitmap(r.view, {});
      ASSERT_FALSE(px.ok());
      EXPECT_EQ(px.error().code, "truncated") << cut;
    }
  }
}

TEST(BitmapDecodeFormats, RgbFormats) {
  auto c32 = dec(F32, kTopDown, 2, 1, 8, {1, 2, 3, 0, 4, 5, 6, 0x77});
  ASSERT_TRUE(c32.ok());
  EXPECT_FALSE(c32->has_alpha);
  EXPECT_EQ(c32->data, (std::vector<uint32_t>{0xff030201u, 0xff060504u}));
  auto rgba = dec(FRGBA, kTopDown, 2, 1, 8, {1, 2, 3, 0, 4, 5, 6, 0x77});
  ASSERT_TRUE(rgba.ok());
  EXPECT_TRUE(rgba->has_alpha);
  EXPECT_EQ(rgba->data, (std::vector<uint32_t>{0x00030201u, 0x77060504u}));
  auto c24 = dec(F24, kTopDown, 2, 1, 6, {1, 2, 3, 4, 5, 6});
  ASSERT_TRUE(c24.ok());
  EXPECT_EQ(c24->data, (std::vector<uint32_t>{0xff030201u, 0xff060504u}));
  // x1r5g5b5 little-endian: red, green, blue, a mid grey (16,16,16 -> 0x84).
  auto c16 = dec(F16, kTopDown, 4, 1, 8, {0x00, 0x7c, 0xe0, 0x03, 0x1f, 0x00, 0x10, 0x42});
  ASSERT_TRUE(c16.ok());
  EXPECT_EQ(c16->data, (std::vector<uint32_t>{0xffff0000u, 0xff00ff00u, 0xff0000ffu, 0xff848484u}));
  auto a8 = dec(FA8, kTopDown, 3, 1, 3, {0, 0x80, 0xff});
  ASSERT_TRUE(a8.ok());
  EXPECT_TRUE(a8->has_alpha);
  EXPECT_EQ(a8->data, (std::vector<uint32_t>{0x00000000u, 0x80000000u, 0xff000000u}));
}

TEST(BitmapDecodeFormats, PaletteFormats) {
  const uint32_t pal[] = {0x000000, 0xff0000, 0x00ff00, 0x0000ff};
  const uint32_t K = 0xff000000u, R = 0xffff0000u, G = 0xff00ff00u, B = 0xff0000ffu;
  auto p8 = dec(F8, kTopDown, 3, 1, 3, {1, 2, 7}, pal);  // 7 wraps to 3
  ASSERT_TRUE(p8.ok());
  EXPECT_EQ(p8->data, (std::vector<uint32_t>{R, G, B}));
  auto p4be = dec(F4BE, kTopDown, 3, 1, 2, {0x12, 0x30}, pal);
  auto p4le = dec(F4LE, kTopDown, 3, 1, 2, {0x21, 0x03}, pal);
  ASSERT_TRUE(p4be.ok() && p4le.ok());
  EXPECT_EQ(p4be->data, (std::vector<uint32_t>{R, G, B}));
  EXPECT_EQ(p4le->data, (std::vector<uint32_t>{R, G, B}));
  auto p1be = dec(F1BE, kTopDown, 10, 1, 2, {0xa0, 0x40}, pal);
  auto p1le = dec(F1LE, kTopDown, 10, 1, 2, {0x05, 0x02}, pal);
  ASSERT_TRUE(p1be.ok() && p1le.ok());
  const std::vector<uint32_t> want = {R, K, R, K, K, K, K, K, K, R};
  EXPECT_EQ(p1be->data, want);
  EXPECT_EQ(p1le->data, want);
  for (uint8_t f : {F1LE, F1BE, F4LE, F4BE, F8}) {
    auto px = dec(f, kTopDown, 1, 1, 1, {0});
    ASSERT_FALSE(px.ok());
    EXPECT_EQ(px.error().code, "missing_palette");
  }
}

TEST(BitmapDecodeFormats, BottomUpAndPaddedStride) {
  // 1x3 8BIT_A, stride 4 (3 padding bytes a row), bottom-up: the last row is the top.
  const Bytes data = {1, 9, 9, 9, 2, 9, 9, 9, 3};
  auto px = dec(FA8, 0, 1, 3, 4, data);
  ASSERT_TRUE(px.ok()) << px.error().text;
  EXPECT_EQ(px->data, (std::vector<uint32_t>{0x03000000u, 0x02000000u, 0x01000000u}));
  auto td = dec(FA8, kTopDown, 1, 3, 4, data);
  ASSERT_TRUE(td.ok());
  EXPECT_EQ(td->data, (std::vector<uint32_t>{0x01000000u, 0x02000000u, 0x03000000u}));
}

TEST(BitmapDecodeFaults, HostileViews) {
  const Bytes four(4, 0);
  struct Case {
    uint8_t fmt;
    uint32_t w, h, stride;
    size_t size;
    const char* code;
  } cases[] = {
      {0, 1, 1, 4, 4, "unsupported"},
      {11, 1, 1, 4, 4, "unsupported"},
      {255, 1, 1, 4, 4, "unsupported"},
      {F32, 0, 1, 4, 4, "bad_header"},
      {F32, 1, 0, 4, 4, "bad_header"},
      {F32, 2, 1, 4, 8, "bad_header"},  // stride below a row
      {F1BE, 9, 1, 1, 4, "bad_header"},
      {F32, 0xffffffff, 0xffffffff, 0xffffffff, 4, "too_large"},
      {F32, 1, 2, 4, 7, "truncated"},
      {F24, 1, 3, 0xffffffff, 64, "truncated"},
  };
  for (const auto& c : cases) {
    Bytes data(c.size, 0);
    auto px = dec(c.fmt, kTopDown, c.w, c.h, c.stride, data);
    ASSERT_FALSE(px.ok()) << c.code;
    EXPECT_EQ(px.error().code, c.code) << px.error().text;
  }
  // The last row needs only its own bytes, not a whole stride.
  EXPECT_TRUE(dec(F32, kTopDown, 1, 2, 16, Bytes(20, 0)).ok());
}

}  // namespace
