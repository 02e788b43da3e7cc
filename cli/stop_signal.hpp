#pragma once
// SIGINT and SIGTERM as a flag: the long-running commands (import, record,
// capture) stop at the next point where what they did so far is consistent,
// keep it, and report how they ended.
#include <atomic>

namespace sc::cli {

// Installs the handlers (once; later calls only return the flag).
const std::atomic<bool>& stop_on_signals();

}  // namespace sc::cli
