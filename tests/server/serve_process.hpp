#pragma once
// Test-side helpers for driving real programs: start `spice-capture serve` (or
// the dev binary) as a child with a bounded lifetime, read its JSON event lines,
// run clients with a timeout, and stop everything by the pid we started.
#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace sc::test {

using Json = nlohmann::json;
using namespace std::chrono_literals;

// The spice-capture binary beside the test (or in $SC_BIN_DIR).
std::string serve_binary();
std::string source_dir();
// A fresh directory under the system temp dir, removed by the caller if wanted.
std::string make_temp_dir(const std::string& tag);

struct RunResult {
  int exit_code = -1;      // -1: killed after the timeout
  std::string output;      // stdout and stderr, interleaved
};
RunResult run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
              const std::vector<std::string>& extra_env = {});

class ServeProcess {
 public:
  // Starts `<binary> serve --json --status-interval 1 <args>` plus a safety
  // --duration (the child never outlives `max_lifetime`) and waits for the
  // "listening on" line.
  explicit ServeProcess(const std::vector<std::string>& args, std::chrono::seconds max_lifetime = 60s,
                        const std::vector<std::string>& extra_env = {});
  ~ServeProcess();
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  bool started() const { return port_ > 0 || tls_port_ > 0; }
  int port() const { return port_; }
  int tls_port() const { return tls_port_; }
  const std::string& uri() const { return uri_; }
  pid_t pid() const { return pid_; }

  // Waits until an event named `name` satisfying `pred` has been seen.
  std::optional<Json> wait_event(const std::string& name, std::chrono::milliseconds timeout,
                                 const std::function<bool(const Json&)>& pred = {});
  std::vector<Json> events(const std::string& name) const;
  std::string transcript() const;
  // SIGTERM, wait up to 10 s, then SIGKILL. Returns the exit status (-1 if killed).
  int stop();

 private:
  void reader(int fd);
  pid_t pid_ = -1;
  int port_ = 0;
  int tls_port_ = 0;
  std::string uri_;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
  std::vector<Json> events_;
  bool eof_ = false;
  int exit_status_ = -2;
};

}  // namespace sc::test
