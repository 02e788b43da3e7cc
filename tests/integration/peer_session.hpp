#pragma once
// Helpers for integration tests that run real peers: a real SPICE session
// captured once per test binary, running commands with a time limit, and
// rewriting pcaps to make damaged captures from real ones.
#include <pcap/pcap.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace sc::test {

inline std::string source_dir() { return std::getenv("SC_SOURCE_DIR") ? std::getenv("SC_SOURCE_DIR") : "."; }
// The test binaries sit beside the tools they run (build/bin or build-asan/bin).
inline std::string bin_dir() {
  if (const char* env = std::getenv("SC_BIN_DIR")) return env;
  return std::filesystem::read_symlink("/proc/self/exe").parent_path().string();
}
inline std::string spice_capture() { return bin_dir() + "/spice-capture"; }

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs a shell command under `timeout`, so a hung peer cannot hang the suite.
// stderr joins the output unless `keep_stderr_apart` (for parsing stdout).
inline CommandResult run(const std::string& cmd, int timeout_s = 120, bool keep_stderr_apart = false) {
  const std::string full =
      "timeout -k 5 " + std::to_string(timeout_s) + " " + cmd + (keep_stderr_apart ? " 2>/dev/null" : " 2>&1");
  CommandResult r;
  FILE* p = popen(full.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

inline std::filesystem::path temp_dir(const std::string& name) {
  auto d = std::filesystem::temp_directory_path() / ("spice-capture-" + name + "-" + std::to_string(getpid()));
  std::filesystem::create_directories(d);
  return d;
}

// A real session: QEMU with every channel, spicy-screenshot, then the GLib client.
struct RecordedSession {
  std::filesystem::path dir, pcap, meta_path;
  nlohmann::json meta;
  int port = 0;
  std::string error;
};

inline RecordedSession record_qemu_session(const std::string& name, int duration_s = 4) {
  RecordedSession s;
  s.dir = temp_dir(name);
  s.pcap = s.dir / "session.pcap";
  s.meta_path = s.dir / "session.json";
  auto r = run("/usr/bin/python3 " + source_dir() + "/tests/peers/make_capture.py --out " + s.pcap.string() +
                   " --meta " + s.meta_path.string() + " --clients screenshot,glib --duration " +
                   std::to_string(duration_s),
               120);
  if (r.exit_code != 0) {
    s.error = "make_capture.py failed (" + std::to_string(r.exit_code) + "): " + r.output;
    return s;
  }
  std::ifstream in(s.meta_path);
  s.meta = nlohmann::json::parse(in);
  s.port = s.meta["server"]["port"].get<int>();
  return s;
}

// The session CTest's fixture records once per run (tests/integration/CMakeLists.txt)
// in <build>/test-sessions/qemu, beside the test binaries' bin/; a test binary run
// on its own, without that, records one of its own on first use and removes it at exit.
inline const RecordedSession& shared_qemu_session() {
  struct Owner {
    RecordedSession s;
    bool owned = false;
    Owner() {
      const auto dir = std::filesystem::path(bin_dir()).parent_path() / "test-sessions" / "qemu";
      if (std::filesystem::exists(dir / "session.json") && std::filesystem::exists(dir / "session.pcap")) {
        s.dir = dir;
        s.pcap = dir / "session.pcap";
        s.meta_path = dir / "session.json";
        std::ifstream in(s.meta_path);
        s.meta = nlohmann::json::parse(in, nullptr, false);
        if (!s.meta.is_discarded() && s.meta.contains("server")) {
          s.port = s.meta["server"]["port"].get<int>();
          return;
        }
      }
      s = record_qemu_session("shared");
      owned = true;
    }
    ~Owner() {
      if (owned) std::filesystem::remove_all(s.dir);
    }
  };
  static Owner owner;
  return owner.s;
}

// Copies a capture, keeping the packets `keep(index, header, data)` accepts.
inline bool rewrite_pcap(const std::string& in, const std::string& out,
                         const std::function<bool(size_t, const pcap_pkthdr&, const u_char*)>& keep) {
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* src = pcap_open_offline(in.c_str(), err);
  if (!src) return false;
  pcap_dumper_t* dst = pcap_dump_open(src, out.c_str());
  if (!dst) {
    pcap_close(src);
    return false;
  }
  pcap_pkthdr* h;
  const u_char* d;
  size_t i = 0;
  while (pcap_next_ex(src, &h, &d) == 1) {
    if (keep(i++, *h, d)) pcap_dump(reinterpret_cast<u_char*>(dst), h, d);
  }
  pcap_dump_close(dst);
  pcap_close(src);
  return true;
}

}  // namespace sc::test
