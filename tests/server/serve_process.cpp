#include "tests/server/serve_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <regex>

namespace sc::test {
namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

// fork + exec with stdout/stderr into `out_fd`; returns the pid.
pid_t spawn(const std::vector<std::string>& argv, int out_fd, const std::vector<std::string>& extra_env) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);  // own process group: stop() signals just what we started
    dup2(out_fd, STDOUT_FILENO);
    dup2(out_fd, STDERR_FILENO);
    const int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, STDIN_FILENO);
    for (const auto& e : extra_env) putenv(const_cast<char*>(e.c_str()));
    execvp(args[0], args.data());
    _exit(127);
  }
  return pid;
}

int wait_with_timeout(pid_t pid, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (std::chrono::steady_clock::now() < end) {
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::this_thread::sleep_for(20ms);
  }
  return -2;  // still running
}

}  // namespace

std::string source_dir() { return env_or("SC_SOURCE_DIR", "."); }

// Test binaries land in build/bin next to spice-capture, so our own directory
// is the fallback when SC_BIN_DIR is not in the environment.
std::string bin_dir() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return env_or("SC_BIN_DIR", ec ? "." : self.parent_path().string());
}

std::string serve_binary() { return bin_dir() + "/spice-capture"; }

std::string make_temp_dir(const std::string& tag) {
  std::string templ = (std::filesystem::temp_directory_path() / ("sc-" + tag + "-XXXXXX")).string();
  char* made = mkdtemp(templ.data());
  return made ? made : "";
}

RunResult run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
              const std::vector<std::string>& extra_env) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  const pid_t pid = spawn(argv, fds[1], extra_env);
  close(fds[1]);
  RunResult r;
  const auto end = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, int(std::min<long>(left.count(), 200))) > 0) {
      const ssize_t n = read(fds[0], buf, sizeof buf);
      if (n <= 0) break;
      r.output.append(buf, size_t(n));
    }
  }
  close(fds[0]);
  r.exit_code = wait_with_timeout(pid, std::max<std::chrono::milliseconds>(
                                           100ms, std::chrono::duration_cast<std::chrono::milliseconds>(
                                                      end - std::chrono::steady_clock::now())));
  if (r.exit_code == -2) {
    kill(-pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    r.exit_code = -1;
  }
  return r;
}

ServeProcess::ServeProcess(const std::vector<std::string>& args, std::chrono::seconds max_lifetime,
                           const std::vector<std::string>& extra_env) {
  std::vector<std::string> argv = {serve_binary(), "serve", "--json", "--status-interval", "1",
                                   "--duration", std::to_string(max_lifetime.count())};
  argv.insert(argv.end(), args.begin(), args.end());
  int fds[2];
  if (pipe(fds) != 0) return;
  pid_ = spawn(argv, fds[1], extra_env);
  close(fds[1]);
  thread_ = std::thread([this, fd = fds[0]] { reader(fd); });
  std::unique_lock lock(mutex_);
  cv_.wait_for(lock, 15s, [this] { return port_ > 0 || tls_port_ > 0 || eof_; });
}

ServeProcess::~ServeProcess() { stop(); }

void ServeProcess::reader(int fd) {
  std::string pending;
  char buf[8192];
  const std::regex listening(R"(^listening on (spice://[^\s]+))");
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    pending.append(buf, size_t(n));
    size_t nl;
    while ((nl = pending.find('\n')) != std::string::npos) {
      std::string line = pending.substr(0, nl);
      pending.erase(0, nl + 1);
      std::lock_guard lock(mutex_);
      lines_.push_back(line);
      std::smatch m;
      if (uri_.empty() && std::regex_search(line, m, listening)) uri_ = m[1];
      if (!line.empty() && line[0] == '{') {
        Json j = Json::parse(line, nullptr, false);
        if (!j.is_discarded()) {
          if (j.value("event", "") == "listening") {
            port_ = j.value("port", 0);
            tls_port_ = j.value("tls_port", 0);
          }
          events_.push_back(std::move(j));
        }
      }
      cv_.notify_all();
    }
  }
  close(fd);
  std::lock_guard lock(mutex_);
  eof_ = true;
  cv_.notify_all();
}

std::optional<Json> ServeProcess::wait_event(const std::string& name, std::chrono::milliseconds timeout,
                                             const std::function<bool(const Json&)>& pred) {
  std::unique_lock lock(mutex_);
  std::optional<Json> found;
  cv_.wait_for(lock, timeout, [&] {
    for (const Json& e : events_)
      if (e.value("event", "") == name && (!pred || pred(e))) {
        found = e;
        return true;
      }
    return eof_;
  });
  return found;
}

std::vector<Json> ServeProcess::events(const std::string& name) const {
  std::lock_guard lock(mutex_);
  std::vector<Json> out;
  for (const Json& e : events_)
    if (e.value("event", "") == name) out.push_back(e);
  return out;
}

std::string ServeProcess::transcript() const {
  std::lock_guard lock(mutex_);
  std::string t;
  for (const auto& l : lines_) t += l + "\n";
  return t;
}

int ServeProcess::stop() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    exit_status_ = wait_with_timeout(pid_, 10s);
    if (exit_status_ == -2) {
      kill(-pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      exit_status_ = -1;
    }
    pid_ = -1;
  }
  if (thread_.joinable()) thread_.join();
  return exit_status_;
}

}  // namespace sc::test
