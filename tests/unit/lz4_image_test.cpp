// LZ4 images: real payloads (tests/data/images/lz4) with their digests, every cut,
// and hand-made block streams for each format and fault.
#include <gtest/gtest.h>
#include <lz4.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "dissect/image/bitmap.hpp"
#include "dissect/image/lz4_image.hpp"
#include "tests/unit/image_fixtures.hpp"

namespace {

using namespace sc::image;
using Bytes = std::vector<uint8_t>;

std::string root() { return std::string(SC_SOURCE_ROOT) + "/tests/data/images/"; }
std::string digest(const Pixels& px) { return sc::test::pixel_digest(px); }
Bytes read_file(const std::string& p) { return sc::test::read_bytes(p); }

struct Real {
  std::string file, sha;
  uint32_t w = 0, h = 0;
  Bytes data;
};

std::vector<Real> reals() {
  std::vector<Real> out;
  std::ifstream idx(root() + "lz4/index.tsv");
  for (std::string line; std::getline(idx, line);) {
    Real r;
    std::istringstream(line) >> r.file >> r.w >> r.h >> r.sha;
    r.data = read_file(root() + "lz4/" + r.file);
    out.push_back(std::move(r));
  }
  EXPECT_FALSE(out.empty());
  return out;
}

// The server's layout: top-down byte, format byte, then [u32 BE size][block]...,
// blocks compressed as one stream (each may reference the ones before).
Bytes make_lz4(bool top_down, uint8_t fmt, const Bytes& raw, size_t block) {
  Bytes out = {uint8_t(top_down ? 1 : 0), fmt};
  LZ4_stream_t s;
  LZ4_initStream(&s, sizeof s);
  for (size_t at = 0; at < raw.size(); at += block) {
    const int n = static_cast<int>(std::min(block, raw.size() - at));
    std::vector<char> buf(LZ4_compressBound(n));
    const int z = LZ4_compress_fast_continue(&s, reinterpret_cast<const char*>(raw.data() + at), buf.data(), n,
                                             static_cast<int>(buf.size()), 1);
    for (int sh = 24; sh >= 0; sh -= 8) out.push_back(uint8_t(uint32_t(z) >> sh));
    out.insert(out.end(), buf.begin(), buf.begin() + z);
  }
  return out;
}

TEST(Lz4DecodeReal, MatchesDigests) {
  for (const auto& r : reals()) {
    auto px = decode_lz4(r.data, r.w, r.h);
    ASSERT_TRUE(px.ok()) << r.file << ": " << px.error().text;
    EXPECT_EQ(digest(*px), r.sha) << r.file;
  }
}

TEST(Lz4DecodeReal, SamePictureAsTheBitmap) {
  // Same scenario and seed, once as LZ4 and once uncompressed.
  const Bytes lz4 = read_file(root() + "lz4/lz4_000099.109.bin");
  const Bytes raw = read_file(root() + "bitmap/bmp_000098.0.bin");
  auto a = decode_lz4(lz4, 120, 68);
  auto b = decode_bitmap(BitmapView{8, 4, 120, 68, 480, raw}, {});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->data, b->data);
}

TEST(Lz4DecodeReal, TruncatedAtEvery64thByte) {
  for (const auto& r : reals()) {
    for (size_t cut = 0; cut < r.data.size(); cut += 64) {
      auto px = decode_lz4(std::span(r.data).first(cut), r.w, r.h);
      ASSERT_FALSE(px.ok());
      EXPECT_EQ(px.error().code, "truncated") << r.file << " cut " << cut << ": " << px.error().text;
    }
  }
}

TEST(Lz4DecodeFormats, EveryFormatAndRowOrder) {
  // 3x2, rows of distinct pixels, in small blocks so later blocks reference earlier ones.
  const Bytes rgb24 = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18};
  auto c24 = decode_lz4(make_lz4(false, 7, rgb24, 5), 3, 2);
  ASSERT_TRUE(c24.ok()) << c24.error().text;
  EXPECT_EQ(c24->at(0, 1), 0xff030201u);  // bottom-up: wire row 0 is the bottom row
  EXPECT_EQ(c24->at(2, 0), 0xff121110u);
  const Bytes rgb16 = {0x00, 0x7c, 0xe0, 0x03, 0x1f, 0x00, 0x00, 0x7c, 0xe0, 0x03, 0x1f, 0x00};
  auto c16 = decode_lz4(make_lz4(true, 6, rgb16, 4), 3, 2);
  ASSERT_TRUE(c16.ok()) << c16.error().text;
  EXPECT_EQ(c16->data, (std::vector<uint32_t>{0xffff0000u, 0xff00ff00u, 0xff0000ffu, 0xffff0000u, 0xff00ff00u,
                                              0xff0000ffu}));
  Bytes rgba(3 * 2 * 4);
  for (size_t i = 0; i < rgba.size(); ++i) rgba[i] = uint8_t(i * 7);
  auto a = decode_lz4(make_lz4(true, 9, rgba, 64), 3, 2);
  auto x = decode_lz4(make_lz4(true, 8, rgba, 64), 3, 2);
  ASSERT_TRUE(a.ok() && x.ok());
  EXPECT_TRUE(a->has_alpha);
  EXPECT_FALSE(x->has_alpha);
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(a->data[i], uint32_t(rgba[4 * i]) | uint32_t(rgba[4 * i + 1]) << 8 | uint32_t(rgba[4 * i + 2]) << 16 |
                              uint32_t(rgba[4 * i + 3]) << 24);
    EXPECT_EQ(x->data[i], a->data[i] | 0xff000000u);
  }
}

TEST(Lz4DecodeFaults, HostileInput) {
  const Bytes raw(3 * 2 * 4, 0x55);
  const Bytes good = make_lz4(true, 8, raw, 64);
  for (uint8_t fmt : {0, 1, 5, 10, 11, 200}) {
    Bytes p = good;
    p[1] = fmt;
    EXPECT_EQ(decode_lz4(p, 3, 2).error().code, "unsupported") << int(fmt);
  }
  EXPECT_EQ(decode_lz4(good, 0, 2).error().code, "bad_header");
  EXPECT_EQ(decode_lz4(good, 100000, 2).error().code, "too_large");
  EXPECT_EQ(decode_lz4(good, 4, 2).error().code, "truncated");  // fewer pixels than the image
  EXPECT_EQ(decode_lz4(good, 2, 2).error().code, "corrupt");    // more pixels than the image
  EXPECT_EQ(decode_lz4(good, 4096, 4096).error().code, "truncated");  // a ratio LZ4 cannot reach
  Bytes size = good;
  size[2] = 0x7f;  // a block larger than the payload
  EXPECT_EQ(decode_lz4(size, 3, 2).error().code, "truncated");
  Bytes junk = good;
  for (size_t i = 6; i < junk.size(); ++i) junk[i] = 0xff;
  EXPECT_EQ(decode_lz4(junk, 3, 2).error().code, "corrupt");
  Bytes extra = good;  // a second, empty block after the image is complete
  extra.insert(extra.end(), {0, 0, 0, 1, 0});
  EXPECT_EQ(decode_lz4(extra, 3, 2).error().code, "corrupt");
}

}  // namespace
