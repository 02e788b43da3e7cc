#include "cli/stop_signal.hpp"

#include <csignal>

namespace sc::cli {

namespace {
std::atomic<bool> g_stop{false};
extern "C" void set_stop_flag(int) { g_stop.store(true); }
}  // namespace

const std::atomic<bool>& stop_on_signals() {
  static const bool installed = [] {
    std::signal(SIGINT, set_stop_flag);
    std::signal(SIGTERM, set_stop_flag);
    return true;
  }();
  (void)installed;
  return g_stop;
}

}  // namespace sc::cli
