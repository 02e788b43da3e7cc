// A real SpiceClientGLib client (tests/server/spice_client.py via python3-gi)
// against `serve`: file transfer, clipboard both ways, keys and pointer,
// playback, the echo spiceport and a client-requested resize, each checked on
// both sides (client observations and the server's JSON event log). Also
// remote-viewer under Xvfb.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <glib.h>

#include "tests/server/serve_process.hpp"

namespace sc::test {
namespace {

std::string sha256_file(const std::string& path) {
  gchar* data = nullptr;
  gsize len = 0;
  if (!g_file_get_contents(path.c_str(), &data, &len, nullptr)) return "";
  gchar* sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, reinterpret_cast<const guchar*>(data), len);
  std::string out = sum;
  g_free(sum);
  g_free(data);
  return out;
}

std::string write_random_file(const std::string& path, size_t size) {
  std::mt19937 gen(42);
  std::string bytes(size, '\0');
  for (char& c : bytes) c = char(gen() & 0xff);
  std::ofstream(path, std::ios::binary) << bytes;
  return sha256_file(path);
}

Json run_client(const ServeProcess& serve, const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {"/usr/bin/python3", source_dir() + "/tests/server/spice_client.py", "--uri",
                                   serve.uri()};
  argv.insert(argv.end(), extra.begin(), extra.end());
  const RunResult r = run(argv, 90s);
  // The JSON result is the last line that parses.
  std::string last;
  std::istringstream lines(r.output);
  for (std::string l; std::getline(lines, l);)
    if (!l.empty() && l[0] == '{') last = l;
  Json j = Json::parse(last, nullptr, false);
  if (j.is_discarded()) return Json{{"client_output", r.output}};
  return j;
}

bool has_key(const ServeProcess& s, unsigned code, bool down) {
  for (const Json& e : s.events("input.key"))
    if (e["scancode"] == code && e["down"] == down) return true;
  return false;
}

TEST(Client, AgentInputsAudioPortsAndResize) {
  const std::string dir = make_temp_dir("client");
  const std::string files = dir + "/received", payload = dir + "/payload.bin";
  const std::string sha = write_random_file(payload, 300000);
  ServeProcess serve({"--scenario", "office", "--fps", "10", "--guest-clipboard", "text from the guest",
                      "--files-dir", files},
                     90s);
  ASSERT_TRUE(serve.started()) << serve.transcript();
  const Json r = run_client(serve, {"--file", payload, "--client-text", "text from the client"});
  SCOPED_TRACE(r.dump());
  ASSERT_EQ(r.value("connected", false), true) << serve.transcript();
  EXPECT_EQ(r.value("agent", false), true);
  EXPECT_TRUE(r["errors"].empty());

  // File transfer: the client reports success and the bytes on disk match.
  EXPECT_EQ(r["file"].value("ok", false), true);
  EXPECT_EQ(sha256_file(files + "/payload.bin"), sha);
  auto saved = serve.wait_event("agent.file_saved", 5s);
  ASSERT_TRUE(saved);
  EXPECT_EQ((*saved)["sha256"], sha);

  // Clipboard, guest to client (text and PNG) and client to guest.
  EXPECT_EQ(r.value("clipboard_from_guest", ""), "text from the guest");
  EXPECT_EQ(r["png_from_guest"].value("is_png", false), true);
  auto pasted = serve.wait_event("agent.clipboard_received", 5s);
  ASSERT_TRUE(pasted);
  EXPECT_EQ((*pasted)["text"], "text from the client");

  // Keys arrive as scancodes; with agent mouse the pointer goes to the agent.
  EXPECT_TRUE(has_key(serve, 0x1e, true) && has_key(serve, 0x1e, false));
  EXPECT_TRUE(has_key(serve, 0x30, true) && has_key(serve, 0x30, false));
  EXPECT_TRUE(serve.wait_event("agent.mouse", 2s, [](const Json& e) { return e["x"] == 300 && e["y"] == 310; }));
  EXPECT_TRUE(serve.wait_event("agent.mouse", 2s, [](const Json& e) { return e["buttons"] != 0; }));

  // Playback paced at 48 kHz stereo S16 (192000 B/s); allow slack for timing.
  EXPECT_GT(r.value("playback_bytes_per_s", 0), 120000);
  EXPECT_LT(r.value("playback_bytes_per_s", 0), 260000);
  EXPECT_EQ(r.value("port_opened", false), true);
  EXPECT_EQ(r.value("port_echo_ok", false), true);

  // The client's monitors config reached the agent and the guest resized.
  EXPECT_TRUE(serve.wait_event("qxl.primary_created", 5s, [](const Json& e) { return e["width"] == 1024; }))
      << serve.transcript();
  EXPECT_EQ(serve.stop(), 0);
  std::filesystem::remove_all(dir);
}

TEST(Client, TabletWithoutAgentMouseAndRefusedTransfer) {
  const std::string dir = make_temp_dir("client2");
  const std::string payload = dir + "/payload.bin";
  write_random_file(payload, 20000);
  ServeProcess serve({"--no-agent-mouse", "--file-xfer-fail", "not-enough-space", "--files-dir", dir + "/recv",
                      "--fps", "5"},
                     60s);
  ASSERT_TRUE(serve.started()) << serve.transcript();
  const Json r = run_client(serve, {"--file", payload, "--steps", "file,input"});
  SCOPED_TRACE(r.dump());
  ASSERT_EQ(r.value("connected", false), true);
  EXPECT_EQ(r["file"].value("ok", true), false);
  EXPECT_TRUE(serve.wait_event("agent.file_refused", 3s, [](const Json& e) { return e["reason"] == "not-enough-space"; }));
  EXPECT_FALSE(std::filesystem::exists(dir + "/recv/payload.bin"));
  // Without agent mouse, absolute positions reach the tablet device.
  EXPECT_TRUE(serve.wait_event("input.position", 3s, [](const Json& e) { return e["x"] == 300 && e["y"] == 310; }))
      << serve.transcript();
  EXPECT_TRUE(serve.events("agent.mouse").empty());
  EXPECT_EQ(serve.stop(), 0);
  std::filesystem::remove_all(dir);
}

// remote-viewer (virt-viewer) under a private Xvfb connects every channel.
TEST(Client, RemoteViewerUnderXvfb) {
  if (access("/usr/bin/Xvfb", X_OK) != 0 || access("/usr/bin/remote-viewer", X_OK) != 0)
    GTEST_SKIP() << "Xvfb or remote-viewer not installed";
  ServeProcess serve({"--scenario", "desktop", "--fps", "20"}, 60s);
  ASSERT_TRUE(serve.started());

  // Xvfb picks a free display and writes its number to our pipe.
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t xvfb = fork();
  if (xvfb == 0) {
    setpgid(0, 0);
    dup2(fds[1], 3);
    const int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    dup2(devnull, 2);
    execl("/usr/bin/Xvfb", "Xvfb", "-displayfd", "3", "-screen", "0", "1024x768x24", "-nolisten", "tcp",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  std::string display;
  char c;
  while (read(fds[0], &c, 1) == 1 && c != '\n') display.push_back(c);
  close(fds[0]);
  ASSERT_FALSE(display.empty()) << "Xvfb did not start";

  const pid_t viewer = fork();
  if (viewer == 0) {
    setpgid(0, 0);
    setenv("DISPLAY", (":" + display).c_str(), 1);
    const int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    dup2(devnull, 2);
    execl("/usr/bin/remote-viewer", "remote-viewer", serve.uri().c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  for (const char* ch : {"main", "display", "inputs", "cursor"})
    EXPECT_TRUE(serve.wait_event("channel.initialized", 20s, [ch](const Json& e) { return e["channel"] == ch; }))
        << ch << "\n" << serve.transcript();
  for (pid_t p : {viewer, xvfb}) {
    kill(-p, SIGTERM);
    waitpid(p, nullptr, 0);
  }
  EXPECT_TRUE(serve.wait_event("channel.disconnected", 10s, [](const Json& e) { return e["channel"] == "main"; }));
  EXPECT_EQ(serve.stop(), 0);
}

}  // namespace
}  // namespace sc::test
