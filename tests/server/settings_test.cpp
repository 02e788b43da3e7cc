// The option tables and parsers behind `serve`.
#include <gtest/gtest.h>

#include <set>

#include "server/settings.hpp"

namespace sc::server {
namespace {

TEST(Settings, EveryImageCompressionValueHasAName) {
  std::set<int> values;
  for (const auto& row : image_compressions()) values.insert(row.value);
  for (int v = SPICE_IMAGE_COMPRESSION_OFF; v < SPICE_IMAGE_COMPRESSION_ENUM_END; ++v) EXPECT_TRUE(values.count(v)) << v;
  EXPECT_EQ(lookup(image_compressions(), "lz4"), SPICE_IMAGE_COMPRESSION_LZ4);
  EXPECT_EQ(lookup(wan_compressions(), "never"), SPICE_WAN_COMPRESSION_NEVER);
  EXPECT_EQ(lookup(streaming_video_modes(), "filter"), SPICE_STREAM_VIDEO_FILTER);
  EXPECT_FALSE(lookup(image_compressions(), "jpeg"));
}

TEST(Settings, ParsesSizesUuidsAndReplaySpeeds) {
  uint32_t w = 0, h = 0;
  EXPECT_TRUE(parse_size("1024x768", w, h));
  EXPECT_EQ(w, 1024u);
  EXPECT_FALSE(parse_size("1024x", w, h));
  EXPECT_FALSE(parse_size("10x10", w, h));
  EXPECT_FALSE(parse_size("800x600x", w, h));
  uint8_t u[16];
  EXPECT_TRUE(parse_uuid("01234567-89ab-cdef-0123-456789abcdef", u));
  EXPECT_EQ(u[0], 0x01);
  EXPECT_EQ(u[15], 0xef);
  EXPECT_FALSE(parse_uuid("0123456789abcdef0123456789abcdef", u));
  EXPECT_EQ(parse_replay_speed("as-recorded"), 1.0);
  EXPECT_EQ(parse_replay_speed("fast"), 0.0);
  EXPECT_EQ(parse_replay_speed("2x"), 2.0);
  EXPECT_EQ(parse_replay_speed("0.5x"), 0.5);
  EXPECT_FALSE(parse_replay_speed("-1x"));
  EXPECT_FALSE(parse_replay_speed("slow"));
}

}  // namespace
}  // namespace sc::server
