#include "server/reporter.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace sc::server {

Reporter::Reporter(bool json)
    : json_(json), tty_(isatty(STDOUT_FILENO) == 1), start_(std::chrono::steady_clock::now()) {}

double Reporter::uptime() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Reporter::line(const std::string& text) {
  if (!listening_) {
    // The address must be the first line on stdout: hold device events until then.
    early_.push_back(text);
    return;
  }
  if (status_pending_) {
    std::fputc('\n', stdout);
    status_pending_ = false;
  }
  std::fputs(text.c_str(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

void Reporter::listening(const std::string& uri, const nlohmann::json& details) {
  std::lock_guard lock(mutex_);
  listening_ = true;
  line("listening on " + uri);
  if (json_) {
    nlohmann::json j = details;
    j["event"] = "listening";
    j["uri"] = uri;
    line(j.dump());
  }
  for (const std::string& e : early_) line(e);
  early_.clear();
}

void Reporter::event(const char* name, nlohmann::json fields) {
  std::lock_guard lock(mutex_);
  if (json_) {
    fields["event"] = name;
    fields["t"] = std::round(uptime() * 1000) / 1000;
    line(fields.dump());
    return;
  }
  char stamp[32];
  std::snprintf(stamp, sizeof stamp, "[%8.3f] ", uptime());
  std::string text = std::string(stamp) + name;
  for (auto it = fields.begin(); it != fields.end(); ++it)
    text += " " + it.key() + "=" + (it->is_string() ? it->get<std::string>() : it->dump());
  line(text);
}

void Reporter::status(const nlohmann::json& fields) {
  std::lock_guard lock(mutex_);
  if (json_) {
    nlohmann::json j = fields;
    j["event"] = "status";
    j["t"] = std::round(uptime() * 1000) / 1000;
    line(j.dump());
    return;
  }
  std::string text = "status";
  for (auto it = fields.begin(); it != fields.end(); ++it)
    text += " " + it.key() + "=" + (it->is_string() ? it->get<std::string>() : it->dump());
  if (tty_) {
    // A live line: overwrite in place until an event line pushes it up.
    std::fputs(("\r\033[K" + text).c_str(), stdout);
    std::fflush(stdout);
    status_pending_ = true;
  } else {
    line(text);
  }
}

}  // namespace sc::server
