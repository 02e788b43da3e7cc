// QXL-level replay: libspice-server's own record (SPICE_WORKER_RECORD_FILENAME)
// of a session, played back by `serve --qxl-replay`, must put the same picture
// in front of a client: first for a record of our own simulator (exact match,
// paced as recorded), then for a record QEMU made while showing SeaBIOS.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "qxl-sim/framebuffer.hpp"
#include "tests/server/serve_process.hpp"

namespace sc::test {
namespace {

int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

struct Picture {
  qxl::Size size;
  std::vector<uint32_t> pixels;
};

std::optional<Picture> screenshot(int port, const std::string& path) {
  const RunResult r = run({"spicy-screenshot", "-h", "127.0.0.1", "-p", std::to_string(port), "-o", path}, 30s);
  Picture p;
  if (r.exit_code != 0 || !qxl::read_ppm(path, p.size, p.pixels)) return std::nullopt;
  return p;
}

size_t differing(const Picture& a, const Picture& b) {
  size_t n = 0;
  for (size_t i = 0; i < a.pixels.size() && i < b.pixels.size(); ++i) n += a.pixels[i] != b.pixels[i];
  return n;
}

TEST(Replay, OwnRecordReproducesTheExpectedFrameAtRecordedPace) {
  const std::string dir = make_temp_dir("replay");
  const std::string rec = dir + "/desktop.rec", expected = dir + "/expected.ppm";
  {
    ServeProcess recorder({"--scenario", "desktop", "--seed", "3", "--frames", "60", "--fps", "40", "--no-audio",
                           "--expect-ppm", expected},
                          30s, {"SPICE_WORKER_RECORD_FILENAME=" + rec});
    ASSERT_TRUE(recorder.started()) << recorder.transcript();
    ASSERT_TRUE(recorder.wait_event("workload.expected_frame", 20s));
    EXPECT_EQ(recorder.stop(), 0);
  }
  ServeProcess replay({"--qxl-replay", rec, "--replay-speed", "as-recorded", "--no-audio"}, 30s);
  ASSERT_TRUE(replay.started()) << replay.transcript();
  auto started = replay.wait_event("replay.started", 5s);
  auto finished = replay.wait_event("replay.finished", 20s);
  ASSERT_TRUE(started && finished) << replay.transcript();
  EXPECT_GT((*started)["commands"].get<int>(), 60);
  // Paced by the recorded timestamps: the replay lasts about as long as the recording.
  const double recorded = (*started)["duration_s"], took = (*finished)["t"].get<double>() - (*started)["t"].get<double>();
  EXPECT_GT(took, recorded * 0.8) << "recorded " << recorded << " s, replayed in " << took << " s";

  Picture want;
  ASSERT_TRUE(qxl::read_ppm(expected, want.size, want.pixels));
  auto got = screenshot(replay.port(), dir + "/replayed.ppm");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->size, want.size);
  EXPECT_EQ(differing(*got, want), 0u);
  EXPECT_EQ(replay.stop(), 0);
  auto bye = replay.events("shutdown");
  ASSERT_EQ(bye.size(), 1u);
  EXPECT_EQ(bye[0]["pushed"].get<uint64_t>(),
            bye[0]["released"].get<uint64_t>() + bye[0]["freed_at_shutdown"].get<uint64_t>());
  std::filesystem::remove_all(dir);
}

TEST(Replay, QemuRecordReproducesQemuScreenshot) {
  if (access("/usr/bin/qemu-system-x86_64", X_OK) != 0) GTEST_SKIP() << "qemu-system-x86_64 not installed";
  const std::string dir = make_temp_dir("qemu");
  const std::string rec = dir + "/qemu.rec";
  const int port = free_port();
  const pid_t qemu = fork();
  if (qemu == 0) {
    setpgid(0, 0);
    setenv("SPICE_WORKER_RECORD_FILENAME", rec.c_str(), 1);
    const std::string spice = "port=" + std::to_string(port) + ",addr=127.0.0.1,disable-ticketing=on";
    freopen("/dev/null", "w", stdout);
    freopen("/dev/null", "w", stderr);
    execl("/usr/bin/qemu-system-x86_64", "qemu-system-x86_64", "-accel", "tcg", "-machine", "q35", "-m", "128",
          "-display", "none", "-vga", "qxl", "-spice", spice.c_str(), "-monitor", "none", "-serial", "none",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  // SeaBIOS ends in 720x400 text mode ("No bootable device"); wait for two equal shots of it.
  std::optional<Picture> live, previous;
  for (int i = 0; i < 20; ++i) {
    std::this_thread::sleep_for(1500ms);
    live = screenshot(port, dir + "/qemu.ppm");
    if (live && previous && live->size == qxl::Size{720, 400} && previous->size == live->size &&
        differing(*live, *previous) < 64)
      break;
    previous = live;
  }
  kill(qemu, SIGTERM);
  waitpid(qemu, nullptr, 0);
  ASSERT_TRUE(live) << "no screenshot from QEMU";
  ASSERT_EQ(live->size, (qxl::Size{720, 400}));

  ServeProcess replay({"--qxl-replay", rec, "--replay-speed", "fast", "--no-audio"}, 60s);
  ASSERT_TRUE(replay.started()) << replay.transcript();
  ASSERT_TRUE(replay.wait_event("replay.finished", 40s)) << replay.transcript();
  auto got = screenshot(replay.port(), dir + "/replayed.ppm");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->size, live->size);
  // The text cursor blinks: allow that glyph cell to differ, nothing more.
  EXPECT_LE(differing(*got, *live), 64u);
  EXPECT_EQ(replay.stop(), 0);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sc::test
