#pragma once
// A command run in the background by a test, for commands that must be signalled
// mid-run (Ctrl-C on an import, SIGKILL on a live capture): its stderr is read as
// it comes, its stdout goes to a file. It runs in a process group of its own (a
// stray Ctrl-C at the terminal does not reach it) and is SIGKILLed by the pid it
// got if the test ends without reaping it.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace sc::test {

class BackgroundCommand {
 public:
  // argv[0] is the program's path.
  explicit BackgroundCommand(std::vector<std::string> argv, const std::string& stdout_path = "/dev/null") {
    int fds[2];
    if (pipe(fds) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      setpgid(0, 0);
      dup2(fds[1], STDERR_FILENO);
      const int out = ::open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(out, STDOUT_FILENO);
      close(fds[0]);
      std::vector<char*> raw;
      for (auto& a : argv) raw.push_back(a.data());
      raw.push_back(nullptr);
      execv(raw[0], raw.data());
      _exit(127);
    }
    close(fds[1]);
    err_ = fds[0];
  }
  ~BackgroundCommand() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (err_ >= 0) close(err_);
  }
  BackgroundCommand(const BackgroundCommand&) = delete;
  BackgroundCommand& operator=(const BackgroundCommand&) = delete;

  // Reads stderr until `needle` shows up (true), the process closes it or the time is up.
  bool wait_for(const std::string& needle, std::chrono::milliseconds timeout = std::chrono::seconds(120)) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    char buf[4096];
    while (stderr_.find(needle) == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{err_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      const ssize_t n = read(err_, buf, sizeof buf);
      if (n <= 0) return false;
      stderr_.append(buf, static_cast<size_t>(n));
    }
    return true;
  }
  void signal(int sig) { kill(pid_, sig); }
  // Waits for the exit (SIGKILL after `timeout`); the exit code, or 128 + signal.
  int finish(std::chrono::seconds timeout = std::chrono::seconds(120)) {
    wait_for("\x01never", timeout);  // drain stderr until EOF
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    reaped_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  const std::string& err() const { return stderr_; }

 private:
  pid_t pid_ = -1;
  int err_ = -1;
  bool reaped_ = false;
  std::string stderr_;
};

}  // namespace sc::test
