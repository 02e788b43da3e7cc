#pragma once
// What `serve` prints on stdout. The first line is always the address to
// connect to ("listening on spice://127.0.0.1:5912"). After that: events (a key
// arrived, a channel connected, a file was saved) and a periodic status line.
// With --json every line after the first is one JSON object with an "event"
// member ("status" for status lines); without it, lines are for people.
// Thread-safe: devices report from the spice worker thread too.
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sc::server {

class Reporter {
 public:
  explicit Reporter(bool json);

  void listening(const std::string& uri, const nlohmann::json& details);
  void event(const char* name, nlohmann::json fields);
  void status(const nlohmann::json& fields);
  double uptime() const;

 private:
  void line(const std::string& text);
  bool json_;
  bool tty_;
  bool status_pending_ = false;  // a "\r" status line is on screen
  bool listening_ = false;       // events wait until the address line is out
  std::vector<std::string> early_;
  std::mutex mutex_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace sc::server
