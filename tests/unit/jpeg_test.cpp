// JPEG and JPEG_ALPHA decoding (dissect/image/jpeg.hpp): real payloads from our
// server's libspice-server (tests/data/images/jpeg/README.md), whose expected
// digests are of libjpeg's output read the way spice-gtk reads it; JPEGs made here
// with TurboJPEG for the basics; cut, flipped and hostile payloads.
#include <gtest/gtest.h>
#include <turbojpeg.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "dissect/image/jpeg.hpp"
#include "tests/unit/image_fixtures.hpp"

namespace {

using sc::image::decode_jpeg;
using sc::image::decode_jpeg_alpha;
using sc::image::kJpegAlphaTopDown;
using sc::image::Limits;
using sc::image::Pixels;
using sc::test::Bytes;
using sc::test::pixel_digest;

Bytes fixture(const std::string& name) { return sc::test::image_fixture("jpeg", name); }
std::string digest(const Pixels& p) { return pixel_digest(p); }

// A .jpeg_alpha fixture (also fuzz_jpeg's input format): jpeg_alpha.flags, jpeg_size
// (u32 little-endian), then jpeg_alpha.data.
struct JpegAlpha {
  uint8_t flags = 0;
  uint32_t jpeg_size = 0;
  Bytes data;
};
JpegAlpha alpha_fixture(const std::string& name) {
  const Bytes f = fixture(name);
  JpegAlpha a;
  if (f.size() < 5) return a;
  a.flags = f[0];
  a.jpeg_size = uint32_t{f[1]} | uint32_t{f[2]} << 8 | uint32_t{f[3]} << 16 | uint32_t{f[4]} << 24;
  a.data.assign(f.begin() + 5, f.end());
  return a;
}

// The alpha plane of our replayed RGBA bitmaps (as in quic_test).
uint32_t served_alpha(uint32_t x, uint32_t y, uint32_t w, uint32_t h) {
  return x < w / 4 ? 255 : y < h / 8 ? 0 : ((y * 255 / (h - 1)) ^ (x & 0x1f));
}

struct TjFree {
  void operator()(void* h) const { tjDestroy(h); }
};

// TurboJPEG-compressed test picture (pixel format and subsampling as given).
Bytes compress(const std::vector<uint8_t>& pixels, int w, int h, int format, int subsampling, int quality = 95) {
  std::unique_ptr<void, TjFree> tj(tjInitCompress());
  unsigned char* out = nullptr;
  unsigned long size = 0;
  EXPECT_EQ(tjCompress2(tj.get(), pixels.data(), w, 0, h, format, &out, &size, subsampling, quality, 0), 0)
      << tjGetErrorStr2(tj.get());
  Bytes b(out, out + size);
  tjFree(out);
  return b;
}

std::vector<uint8_t> gradient_rgb(int w, int h) {
  std::vector<uint8_t> p;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      p.push_back(static_cast<uint8_t>(x * 255 / (w - 1)));
      p.push_back(static_cast<uint8_t>(y * 255 / (h - 1)));
      p.push_back(static_cast<uint8_t>((x + y) * 255 / (w + h - 2)));
    }
  return p;
}

struct Case {
  const char* file;
  uint32_t width, height;
  const char* sha256;
};
// serve-photo-*: DRAW_COPY JPEG images (--image-compression quic --jpeg-wan always);
// serve-video-mjpeg-frame: a STREAM_DATA frame of the video scenario's MJPEG stream.
const Case kCases[] = {
    {"serve-photo-160x121.jpeg", 160, 121, "6f9add13ed05807a8bbf89af276cbec63f98fcaca6176f81b4a3839971015dbb"},
    {"serve-photo-crop-61x45.jpeg", 61, 45, "cfef238c317c11821a6a03dbb65fae2a75bd0341ad9e95f15f68beabd3cb77ab"},
    {"serve-video-mjpeg-frame.jpeg", 320, 240, "ae77b114166cde148bace78cd991c349b4c7bd11a58b72e2ca82559092701801"},
};

struct AlphaCase {
  const char* file;
  const char* rgb_sha256;   // the JPEG part alone
  const char* full_sha256;  // with the alpha plane
};
const AlphaCase kAlphaCases[] = {
    {"serve-photo-crop-61x45-bottom-up.jpeg_alpha", "cfef238c317c11821a6a03dbb65fae2a75bd0341ad9e95f15f68beabd3cb77ab",
     "0f41b5f91782ae1edaab65a369f120b238023869341264a29579f3ece7d863b9"},
    {"serve-photo-crop-61x45-top-down.jpeg_alpha", "ac99ee8eb4b515f2ca5f557939330ccf4fc3f3400b4a9f750aecf3cab42ccc26",
     "bd1f912367a95ab7a8867e6033bd1bd529e06f3b15ff0b783b87899af71c94b2"},
    // Taller than wide.
    {"serve-photo-crop-40x57-bottom-up.jpeg_alpha", "e0dde1859193d2cc8e1907fef4f58991259405aa1e9027374518ff7c061df1e2",
     "224975650d317f967a56efbeac37f2150e8be803aecf620baaa3b6cdbb948f70"},
};

TEST(JpegDecode, RealPayloadsEqualLibjpeg) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.file);
    auto px = decode_jpeg(fixture(c.file));
    ASSERT_TRUE(px.ok()) << px.error().code << ": " << px.error().text;
    EXPECT_EQ(px->width, c.width);
    EXPECT_EQ(px->height, c.height);
    EXPECT_FALSE(px->has_alpha);
    EXPECT_EQ(digest(*px), c.sha256);
    for (uint32_t v : px->data) ASSERT_EQ(v >> 24, 0xffu);
  }
}

TEST(JpegDecode, TurboJpegPicturesComeBackClose) {
  const int w = 37, h = 23;  // not a multiple of any MCU
  const auto rgb = gradient_rgb(w, h);
  for (int subsampling : {TJSAMP_444, TJSAMP_422, TJSAMP_420}) {
    auto px = decode_jpeg(compress(rgb, w, h, TJPF_RGB, subsampling, 100));
    ASSERT_TRUE(px.ok()) << px.error().text;
    ASSERT_EQ(px->width, uint32_t(w));
    ASSERT_EQ(px->height, uint32_t(h));
    int worst = 0;
    for (int i = 0; i < w * h; ++i) {
      const uint32_t v = px->data[i];
      ASSERT_EQ(v >> 24, 0xffu);
      worst = std::max({worst, std::abs(int((v >> 16) & 0xff) - rgb[3 * i]),
                        std::abs(int((v >> 8) & 0xff) - rgb[3 * i + 1]), std::abs(int(v & 0xff) - rgb[3 * i + 2])});
    }
    EXPECT_LE(worst, 24) << "subsampling " << subsampling;
  }
  // Grayscale JPEGs become R = G = B.
  std::vector<uint8_t> gray(w * h);
  for (int i = 0; i < w * h; ++i) gray[i] = static_cast<uint8_t>(i * 7);
  auto px = decode_jpeg(compress(gray, w, h, TJPF_GRAY, TJSAMP_GRAY));
  ASSERT_TRUE(px.ok()) << px.error().text;
  for (uint32_t v : px->data) ASSERT_EQ(v, 0xff000000u | (v & 0xff) * 0x010101u);
}

TEST(JpegDecode, CmykIsUnsupported) {
  std::vector<uint8_t> cmyk(16 * 16 * 4, 0x40);
  auto px = decode_jpeg(compress(cmyk, 16, 16, TJPF_CMYK, TJSAMP_444));
  ASSERT_FALSE(px.ok());
  EXPECT_EQ(px.error().code, "unsupported");
}

TEST(JpegDecodeTruncated, EveryCutIsAFault) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.file);
    const Bytes p = fixture(c.file);
    for (size_t cut = 0; cut < p.size(); cut += 64) {
      auto px = decode_jpeg(std::span(p).first(cut));
      ASSERT_FALSE(px.ok()) << cut;
      EXPECT_EQ(px.error().code, "truncated") << cut << ": " << px.error().text;
    }
    for (size_t cut : {p.size() - 1, p.size() - 2}) {
      auto px = decode_jpeg(std::span(p).first(cut));
      ASSERT_FALSE(px.ok()) << cut;
      EXPECT_EQ(px.error().code, "truncated") << cut;
    }
  }
}

TEST(JpegDecodeHostile, HeaderFaults) {
  EXPECT_EQ(decode_jpeg({}).error().code, "truncated");
  const Bytes not_jpeg = {0x89, 'P', 'N', 'G', 0, 0};
  EXPECT_EQ(decode_jpeg(not_jpeg).error().code, "bad_magic");
  // SOI, EOI and nothing between: no frame.
  const Bytes empty = {0xff, 0xd8, 0xff, 0xd9};
  EXPECT_EQ(decode_jpeg(empty).error().code, "bad_header");

  // The frame header (SOF0) says 65535 x 65535, or 0 lines.
  const Bytes real = fixture("serve-photo-crop-61x45.jpeg");
  size_t sof = 0;
  for (size_t i = 2; i + 9 < real.size(); ++i)
    if (real[i] == 0xff && real[i + 1] == 0xc0) {
      sof = i;
      break;
    }
  ASSERT_NE(sof, 0u);
  Bytes huge = real;
  for (size_t i : {sof + 5, sof + 7}) huge[i] = 0xea;  // 60000: libjpeg's own cap is 65500
  for (size_t i : {sof + 6, sof + 8}) huge[i] = 0x60;
  auto px = decode_jpeg(huge);
  ASSERT_FALSE(px.ok());
  EXPECT_EQ(px.error().code, "too_large") << px.error().text;
  Bytes no_lines = real;
  no_lines[sof + 5] = no_lines[sof + 6] = 0;
  px = decode_jpeg(no_lines);
  ASSERT_FALSE(px.ok());
  EXPECT_EQ(px.error().code, "bad_header") << px.error().text;

  Limits small;
  small.max_side = 60;
  EXPECT_EQ(decode_jpeg(real, small).error().code, "too_large");
}

// Flipped bytes after the headers: the right picture size or a fault, with the
// codes the header promises.
TEST(JpegDecodeHostile, ByteFlipsGiveAnImageOrAFault) {
  std::mt19937 rng(99);
  const std::set<std::string> allowed = {"truncated", "bad_header", "corrupt", "unsupported", "too_large", "bad_magic"};
  std::set<std::string> seen;
  for (const Case& c : kCases) {
    const Bytes clean = fixture(c.file);
    for (int round = 0; round < 100; ++round) {
      Bytes p = clean;
      for (int i = 0; i < 3; ++i) p[2 + rng() % (p.size() - 4)] = static_cast<uint8_t>(rng());
      auto px = decode_jpeg(p);
      if (px.ok()) {
        EXPECT_EQ(px->data.size(), size_t{px->width} * px->height);
        continue;
      }
      seen.insert(px.error().code);
      EXPECT_TRUE(allowed.count(px.error().code)) << px.error().code;
    }
  }
  EXPECT_TRUE(seen.count("corrupt"));
}

// spice-gtk's row order: the JPEG is top-down whatever the flags say; the alpha
// plane follows its LZ header (bottom-up: its first row is the image's last).
TEST(JpegDecodeAlpha, RealPayloadsInBothRowOrders) {
  for (const AlphaCase& c : kAlphaCases) {
    SCOPED_TRACE(c.file);
    const JpegAlpha a = alpha_fixture(c.file);
    ASSERT_LT(a.jpeg_size, a.data.size());
    auto rgb = decode_jpeg(std::span(a.data).first(a.jpeg_size));
    ASSERT_TRUE(rgb.ok());
    EXPECT_EQ(digest(*rgb), c.rgb_sha256);
    auto px = decode_jpeg_alpha(a.data, a.jpeg_size, a.flags);
    ASSERT_TRUE(px.ok()) << px.error().code << ": " << px.error().text;
    EXPECT_TRUE(px->has_alpha);
    EXPECT_EQ(digest(*px), c.full_sha256);
    for (uint32_t y = 0; y < px->height; ++y)
      for (uint32_t x = 0; x < px->width; ++x) {
        ASSERT_EQ(px->at(x, y) >> 24, served_alpha(x, y, px->width, px->height)) << x << "," << y;
        ASSERT_EQ(px->at(x, y) & 0xffffff, rgb->at(x, y) & 0xffffff);
      }
  }
}

TEST(JpegDecodeAlpha, FlagsThatDisagreeWithTheAlphaPlane) {
  for (const AlphaCase& c : kAlphaCases) {
    const JpegAlpha a = alpha_fixture(c.file);
    auto px = decode_jpeg_alpha(a.data, a.jpeg_size, a.flags ^ kJpegAlphaTopDown);
    ASSERT_FALSE(px.ok());
    EXPECT_EQ(px.error().code, "bad_header");
    EXPECT_EQ(px.error().offset, a.jpeg_size + 24u);
  }
}

TEST(JpegDecodeAlpha, SizesThatDoNotFit) {
  const JpegAlpha a = alpha_fixture("serve-photo-crop-61x45-top-down.jpeg_alpha");
  // jpeg_size past the data.
  auto px = decode_jpeg_alpha(a.data, static_cast<uint32_t>(a.data.size() + 1), a.flags);
  ASSERT_FALSE(px.ok());
  EXPECT_EQ(px.error().code, "truncated");
  // jpeg_size short of the JPEG: the JPEG is cut.
  EXPECT_EQ(decode_jpeg_alpha(a.data, a.jpeg_size - 10, a.flags).error().code, "truncated");
  // No alpha plane at all.
  px = decode_jpeg_alpha(std::span(a.data).first(a.jpeg_size), a.jpeg_size, a.flags);
  ASSERT_FALSE(px.ok());
  EXPECT_GE(px.error().offset, a.jpeg_size);
  // An alpha plane of another size than the JPEG's.
  Bytes other = compress(gradient_rgb(10, 10), 10, 10, TJPF_RGB, TJSAMP_420);
  const uint32_t other_size = static_cast<uint32_t>(other.size());
  other.insert(other.end(), a.data.begin() + a.jpeg_size, a.data.end());
  px = decode_jpeg_alpha(other, other_size, a.flags);
  ASSERT_FALSE(px.ok());
  EXPECT_EQ(px.error().code, "bad_header") << px.error().text;
  EXPECT_EQ(px.error().offset, other_size + 12u);
}

TEST(JpegDecodeAlpha, EveryCutIsAFault) {
  for (const AlphaCase& c : kAlphaCases) {
    SCOPED_TRACE(c.file);
    const JpegAlpha a = alpha_fixture(c.file);
    for (size_t cut = 0; cut < a.data.size(); cut += 64) {
      auto px = decode_jpeg_alpha(std::span(a.data).first(cut), a.jpeg_size, a.flags);
      ASSERT_FALSE(px.ok()) << cut;
      EXPECT_EQ(px.error().code, "truncated") << cut << ": " << px.error().text;
      EXPECT_LE(px.error().offset, cut);
    }
  }
}

}  // namespace
