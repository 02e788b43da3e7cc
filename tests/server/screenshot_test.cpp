// The frame a real client shows equals, pixel for pixel, the frame the
// simulator drew in software: spicy-screenshot against `serve` for several
// scenarios and every lossless image compression setting.
#include <gtest/gtest.h>

#include <filesystem>

#include "qxl-sim/framebuffer.hpp"
#include "tests/server/serve_process.hpp"

namespace sc::test {
namespace {

struct Case {
  const char* scenario;
  const char* compression;
  int frames;
};

// Readable parameter text in ctest's test names.
[[maybe_unused]] void PrintTo(const Case& c, std::ostream* os) {
  *os << c.scenario << "/" << c.compression << "/" << c.frames << "frames";
}

std::string case_name(const testing::TestParamInfo<Case>& info) {
  return std::string(info.param.scenario) + "_" + info.param.compression;
}

class Screenshot : public testing::TestWithParam<Case> {};

// Compares two PPM files; returns the number of differing pixels (or -1).
int64_t ppm_diff(const std::string& a, const std::string& b, std::string& why) {
  qxl::Size sa, sb;
  std::vector<uint32_t> pa, pb;
  if (!qxl::read_ppm(a, sa, pa)) return why = "cannot read " + a, -1;
  if (!qxl::read_ppm(b, sb, pb)) return why = "cannot read " + b, -1;
  if (sa != sb) {
    why = "sizes differ: " + std::to_string(sa.width) + "x" + std::to_string(sa.height) + " vs " +
          std::to_string(sb.width) + "x" + std::to_string(sb.height);
    return -1;
  }
  int64_t n = 0;
  for (size_t i = 0; i < pa.size(); ++i) n += pa[i] != pb[i];
  return n;
}

TEST_P(Screenshot, ClientShowsExpectedFrame) {
  const Case c = GetParam();
  const std::string dir = make_temp_dir("shot");
  const std::string expected = dir + "/expected.ppm", shot = dir + "/shot.ppm";
  ServeProcess serve({"--scenario", c.scenario, "--seed", "7", "--frames", std::to_string(c.frames), "--fps", "60",
                      "--image-compression", c.compression, "--jpeg-wan", "never", "--zlib-glz-wan", "never",
                      "--streaming-video", "off", "--expect-ppm", expected},
                     40s);
  ASSERT_TRUE(serve.started()) << serve.transcript();
  auto written = serve.wait_event("workload.expected_frame", 30s);
  ASSERT_TRUE(written) << serve.transcript();
  auto check = serve.wait_event("workload.selfcheck", 1s);
  ASSERT_TRUE(check);
  EXPECT_EQ((*check)["differing_pixels"], 0) << "server rendering differs from the simulator's canvas";

  const RunResult r = run({"spicy-screenshot", "-h", "127.0.0.1", "-p", std::to_string(serve.port()), "-o", shot}, 20s);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string why;
  const int64_t diff = ppm_diff(expected, shot, why);
  EXPECT_EQ(diff, 0) << why << " (files kept in " << dir << ")";
  EXPECT_EQ(serve.stop(), 0) << serve.transcript();
  // Every command the simulator pushed was released by the server or freed at shutdown.
  auto bye = serve.events("shutdown");
  ASSERT_EQ(bye.size(), 1u);
  EXPECT_EQ(bye[0]["pushed"].get<uint64_t>(),
            bye[0]["released"].get<uint64_t>() + bye[0]["freed_at_shutdown"].get<uint64_t>());
  if (diff == 0) std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(
    LosslessCompressions, Screenshot,
    testing::Values(Case{"desktop", "off", 120}, Case{"desktop", "auto_glz", 120}, Case{"desktop", "auto_lz", 120},
                    Case{"desktop", "quic", 120}, Case{"desktop", "glz", 120}, Case{"desktop", "lz", 120},
                    Case{"desktop", "lz4", 120}),
    case_name);

INSTANTIATE_TEST_SUITE_P(
    Scenarios, Screenshot,
    testing::Values(Case{"office", "auto_glz", 150}, Case{"photo", "quic", 40}, Case{"photo", "glz", 40},
                    Case{"video", "lz", 40}, Case{"cursor", "auto_lz", 30}, Case{"resize", "auto_glz", 60}),
    case_name);

}  // namespace
}  // namespace sc::test
