// QUIC decoding (dissect/image/quic.hpp) on payloads from real traffic and from
// spice-common's own encoder (tests/data/images/quic/README.md says which made
// which); the expected digests are of spice-common's decoder output (as spice-gtk
// decodes), SHA-256 of the 0xAARRGGBB pixel vector. Then cut, flipped and hostile
// payloads: a Fault with the right code, never a crash.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "dissect/image/quic.hpp"
#include "tests/unit/image_fixtures.hpp"

namespace {

using sc::image::decode_quic;
using sc::image::Limits;
using sc::image::Pixels;
using sc::image::QuicType;
using sc::image::read_quic_header;
using sc::test::Bytes;
using sc::test::pixel_digest;

Bytes fixture(const std::string& name) { return sc::test::image_fixture("quic", name); }
std::string digest(const Pixels& p) { return pixel_digest(p); }

struct Case {
  const char* file;
  QuicType type;
  uint32_t width, height;
  const char* sha256;
};

// qemu-*: QEMU 7.2 image-compression=quic (SeaBIOS screen and text updates);
// serve-*: our server's libspice-server 0.15.1 (desktop and photo scenarios; the
// crops are photo images replayed as 32BIT, RGBA, 16BIT and 24BIT bitmaps);
// refenc-*: spice-common's quic_encode, for GRAY (which no server sends) and shapes
// at the edges (1 pixel, narrower than a run can start, rows longer than 2048).
const Case kCases[] = {
    {"qemu-bios-text-720x400.quic", QuicType::Rgb32, 720, 400,
     "41bc02e14296e92ddd38e02c359530de41c237a86caffe58c105b6395de81bfe"},
    {"qemu-text-16x13.quic", QuicType::Rgb32, 16, 13, "db906d35ff3fcdd9e56bc3431a804d73e31fcaae88623c1417409d5b35cf4f42"},
    {"qemu-text-19x10.quic", QuicType::Rgb32, 19, 10, "397e6616722d192b131cb416096c87ec4d9ba2abd2a6199b7aa6fb84527eded8"},
    {"qemu-text-32x10.quic", QuicType::Rgb32, 32, 10, "94348899dd0fb809d5864308aebf97178db63a003d5744e49ec31fea275f13bd"},
    {"serve-desktop-800x600.quic", QuicType::Rgb32, 800, 600,
     "118efa05169de12c750ee12510dcc68ce658b363a141364ff529b92abe6879d6"},
    {"serve-photo-179x140.quic", QuicType::Rgb32, 179, 140,
     "203b9826fb3424a2917cae973e47e4273e129893934dfb752ce41b579c8a4640"},
    {"serve-photo-crop-61x45-rgb16.quic", QuicType::Rgb16, 61, 45,
     "1d15545eea68c291a7cbd0cf8b3431309a26c1db78e2e5dbdd7854c49b2bc286"},
    {"serve-photo-crop-61x45-rgb24.quic", QuicType::Rgb24, 61, 45,
     "d4b9df26cc75e699d75ba0f4f927b7f2a6fcd3818f113bc28b2d3f811b9fc57b"},
    {"serve-photo-crop-61x45-rgb32.quic", QuicType::Rgb32, 61, 45,
     "d4b9df26cc75e699d75ba0f4f927b7f2a6fcd3818f113bc28b2d3f811b9fc57b"},
    {"serve-photo-crop-61x45-rgba.quic", QuicType::Rgba, 61, 45,
     "fb9616a5ef34f2c164b57b3ba97b31217b59daaab2ccff6842dc5fcdb785de13"},
    {"refenc-gray-3x4.quic", QuicType::Gray, 3, 4, "f1a60e6ef194b937e454a3456a2ff9829925d4524350721dfcaab53228ecd5c5"},
    {"refenc-gray-61x45.quic", QuicType::Gray, 61, 45, "1351b33e0e61e7a0f86f6225eda9a605ae58f341518fb92957207db1fc7fcb9d"},
    {"refenc-gray-700x9.quic", QuicType::Gray, 700, 9, "ecd405d49e12b5f6b70c5b67e2e7e8769df4c353f61e8e6b05a495b0431c42aa"},
    {"refenc-rgb16-3x4.quic", QuicType::Rgb16, 3, 4, "bb43edc937606988976a7fedc68973aac87b7a0373b0856e12141d0741e69c66"},
    {"refenc-rgb16-700x9.quic", QuicType::Rgb16, 700, 9,
     "0842bca64ebef25e62f278a1aff554d8ae2fb412d534fd7d2c86e51aca51b0ac"},
    {"refenc-rgb24-3x4.quic", QuicType::Rgb24, 3, 4, "261c391d7c39181feb210ad2033aa32f01d8af7d6eca55384b3d19809653bd0c"},
    {"refenc-rgb24-700x9.quic", QuicType::Rgb24, 700, 9,
     "1b47b9b62300b39f6b5cde028ed81354dae33c1847f49f517ad87ade929a0639"},
    {"refenc-rgb32-1x1.quic", QuicType::Rgb32, 1, 1, "5740f885878ac673a6fc819e5057c7240d371a9299290b9a775bb279d1639682"},
    {"refenc-rgb32-2x5.quic", QuicType::Rgb32, 2, 5, "e2ac3080757bcc244609b1a5c4b4eca84f385f441c98c9a504de14dfbcb8055f"},
    {"refenc-rgb32-3x4.quic", QuicType::Rgb32, 3, 4, "261c391d7c39181feb210ad2033aa32f01d8af7d6eca55384b3d19809653bd0c"},
    {"refenc-rgb32-4x6.quic", QuicType::Rgb32, 4, 6, "33067dfe539d477c0e7773b56a0952bddc61709e71654427ede0017eee3d0783"},
    {"refenc-rgb32-2500x3.quic", QuicType::Rgb32, 2500, 3,
     "765359f30c6724b1c7e8c0427b2e0567218cc45c77c3d40b3f7318249da5f204"},
    {"refenc-rgb32-5x900.quic", QuicType::Rgb32, 5, 900,
     "d8e26f97070f4cf2fe07c80a53b9783f4aa49122afa4e226ea72cf602ed35645"},
    {"refenc-rgba-3x4.quic", QuicType::Rgba, 3, 4, "261c391d7c39181feb210ad2033aa32f01d8af7d6eca55384b3d19809653bd0c"},
    {"refenc-rgba-700x9.quic", QuicType::Rgba, 700, 9,
     "683ba34db336fe5531e8c6bd4063aa01a81992e0c014b03d6a9793793ede4981"},
};

// A header: magic, version, type, width, height as little-endian words, then `body` words.
Bytes header(uint32_t magic, uint32_t version, uint32_t type, uint32_t w, uint32_t h, size_t body_words = 4) {
  Bytes b;
  for (uint32_t v : {magic, version, type, w, h})
    for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
  b.resize(b.size() + body_words * 4, 0);
  return b;
}
constexpr uint32_t kMagic = 0x43495551;

TEST(QuicDecode, RealPayloadsEqualTheReferenceDecoder) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.file);
    const Bytes p = fixture(c.file);
    auto h = read_quic_header(p);
    ASSERT_TRUE(h.ok()) << h.error().text;
    EXPECT_EQ(h->type, c.type);
    EXPECT_EQ(h->width, c.width);
    EXPECT_EQ(h->height, c.height);
    auto px = decode_quic(p);
    ASSERT_TRUE(px.ok()) << px.error().code << ": " << px.error().text;
    EXPECT_EQ(px->width, c.width);
    EXPECT_EQ(px->height, c.height);
    EXPECT_EQ(px->has_alpha, c.type == QuicType::Rgba);
    EXPECT_EQ(digest(*px), c.sha256);
    if (c.type != QuicType::Rgba) {
      for (uint32_t v : px->data) ASSERT_EQ(v >> 24, 0xffu);
    }
  }
}

// Our replayed RGBA bitmaps carry a known alpha plane: an opaque band on the left,
// a transparent strip on top, a vertical gradient (xor x) elsewhere.
TEST(QuicDecode, RgbaAlphaPlaneIsTheOneServed) {
  auto px = decode_quic(fixture("serve-photo-crop-61x45-rgba.quic"));
  ASSERT_TRUE(px.ok());
  const uint32_t w = px->width, h = px->height;
  for (uint32_t y = 0; y < h; ++y)
    for (uint32_t x = 0; x < w; ++x) {
      const uint32_t a = x < w / 4 ? 255 : y < h / 8 ? 0 : ((y * 255 / (h - 1)) ^ (x & 0x1f));
      ASSERT_EQ(px->at(x, y) >> 24, a) << x << "," << y;
    }
  // The colours are those of the same bitmap sent as RGB32.
  auto rgb = decode_quic(fixture("serve-photo-crop-61x45-rgb32.quic"));
  ASSERT_TRUE(rgb.ok());
  for (size_t i = 0; i < rgb->data.size(); ++i) ASSERT_EQ(px->data[i] & 0xffffff, rgb->data[i] & 0xffffff);
}

TEST(QuicDecode, Rgb16ChannelsAreWidenedAndGrayIsReplicated) {
  auto rgb16 = decode_quic(fixture("serve-photo-crop-61x45-rgb16.quic"));
  ASSERT_TRUE(rgb16.ok());
  for (uint32_t v : rgb16->data)
    for (int shift : {0, 8, 16}) {
      const uint32_t byte = (v >> shift) & 0xff, five = byte >> 3;
      ASSERT_EQ(byte, (five << 3) | (five >> 2));
    }
  auto gray = decode_quic(fixture("refenc-gray-61x45.quic"));
  ASSERT_TRUE(gray.ok());
  for (uint32_t v : gray->data) ASSERT_EQ(v, 0xff000000u | (v & 0xff) * 0x010101u);
}

TEST(QuicDecode, BytesAfterTheImageAreIgnored) {
  Bytes p = fixture("serve-photo-crop-61x45-rgb32.quic");
  auto clean = decode_quic(p);
  ASSERT_TRUE(clean.ok());
  const std::string want = digest(*clean);
  p.insert(p.end(), {1, 2, 3, 4, 5, 6, 7});
  auto px = decode_quic(p);
  ASSERT_TRUE(px.ok());
  EXPECT_EQ(digest(*px), want);
}

// Cut at every 64th byte: always "truncated". A cut in the last 8 bytes may still
// decode (the encoder pads with zeros the decoder only peeks at), and then right.
TEST(QuicDecodeTruncated, EveryCutIsAFault) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.file);
    const Bytes p = fixture(c.file);
    for (size_t cut = 0; cut < p.size(); cut += 64) {
      auto px = decode_quic(std::span(p).first(cut));
      if (px.ok()) {
        EXPECT_LE(p.size() - cut, 8u) << cut;
        EXPECT_EQ(digest(*px), c.sha256) << cut;
        continue;
      }
      EXPECT_EQ(px.error().code, "truncated") << cut << ": " << px.error().text;
      EXPECT_LE(px.error().offset, cut);
    }
    // Byte by byte near the end, where the padding is.
    for (size_t cut = p.size() >= 16 ? p.size() - 16 : 0; cut < p.size(); ++cut) {
      auto px = decode_quic(std::span(p).first(cut));
      if (px.ok()) {
        EXPECT_EQ(digest(*px), c.sha256) << cut;
      } else {
        EXPECT_EQ(px.error().code, "truncated") << cut;
      }
    }
  }
}

TEST(QuicDecodeHostile, HeaderFaults) {
  struct Bad {
    Bytes payload;
    const char* code;
    uint64_t offset;
  };
  const Bad bad[] = {
      {{}, "truncated", 0},
      {{'Q', 'U', 'I'}, "truncated", 3},
      {header(0x44495551, 0, 4, 8, 8), "bad_magic", 0},  // "QUID"
      {{'Q', 'U', 'I', 'C', 0, 0, 0}, "truncated", 7},
      {header(kMagic, 1, 4, 8, 8), "unsupported", 4},
      {header(kMagic, 0x10000, 4, 8, 8), "unsupported", 4},
      {header(kMagic, 0, 0, 8, 8), "bad_header", 8},
      {header(kMagic, 0, 6, 8, 8), "bad_header", 8},
      {header(kMagic, 0, 0xffffffff, 8, 8), "bad_header", 8},
      {header(kMagic, 0, 4, 0, 8), "bad_header", 12},
      {header(kMagic, 0, 4, 8, 0), "bad_header", 12},
      {header(kMagic, 0, 4, 0x7fffffff, 8), "too_large", 12},
      {header(kMagic, 0, 4, 0xffffffff, 0xffffffff), "too_large", 12},
      {header(kMagic, 0, 5, 16385, 1), "too_large", 12},
      {header(kMagic, 0, 4, 16384, 16384), "too_large", 12},  // 256 Mpx, over max_pixels
      // Plausible sizes the payload is far too short for: refused before allocating.
      {header(kMagic, 0, 4, 16384, 4096, 16), "truncated", 84},
      {header(kMagic, 0, 1, 1000, 1000, 16), "truncated", 84},
  };
  for (const Bad& b : bad) {
    auto px = decode_quic(b.payload);
    ASSERT_FALSE(px.ok());
    EXPECT_EQ(px.error().code, b.code) << px.error().text;
    EXPECT_EQ(px.error().offset, b.offset) << px.error().text;
    EXPECT_FALSE(px.error().text.empty());
  }
  // Limits are the caller's.
  Limits small;
  small.max_side = 100;
  auto px = decode_quic(fixture("serve-photo-179x140.quic"), small);
  ASSERT_FALSE(px.ok());
  EXPECT_EQ(px.error().code, "too_large");
  small = Limits{};
  small.max_pixels = 179 * 140 - 1;
  EXPECT_EQ(decode_quic(fixture("serve-photo-179x140.quic"), small).error().code, "too_large");
}

// Random bit flips in real payloads: an image of the header's size, or "truncated"
// or "corrupt" (codes and runs no encoder writes), never anything else.
TEST(QuicDecodeHostile, BitFlipsGiveAnImageOrAFault) {
  std::mt19937 rng(1234);
  std::set<std::string> codes;
  for (const char* name :
       {"serve-photo-crop-61x45-rgba.quic", "serve-photo-crop-61x45-rgb16.quic", "refenc-gray-700x9.quic",
        "qemu-text-32x10.quic", "serve-desktop-800x600.quic"}) {
    const Bytes clean = fixture(name);
    for (int round = 0; round < 150; ++round) {
      Bytes p = clean;
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int i = 0; i < flips; ++i) {
        const size_t at = 20 + rng() % (p.size() - 20);  // the header has its own test
        p[at] ^= static_cast<uint8_t>(1u << (rng() % 8));
      }
      auto px = decode_quic(p);
      if (px.ok()) {
        EXPECT_EQ(px->data.size(), size_t{px->width} * px->height);
        continue;
      }
      codes.insert(px.error().code);
      EXPECT_LE(px.error().offset, p.size());
    }
  }
  for (const auto& c : codes) EXPECT_TRUE(c == "truncated" || c == "corrupt") << c;
  EXPECT_TRUE(codes.count("corrupt")) << "no flip was caught as corrupt";
}

}  // namespace
