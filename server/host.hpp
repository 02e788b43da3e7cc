#pragma once
// The host application around libspice-server: what QEMU is to a real VM.
// It owns the glib main loop and core interface, configures and starts the
// server (addresses, TLS, ticket, compression, streaming, agent switches, name,
// UUID), registers every simulated device (QXL, vdagent, keyboard, mouse,
// tablet, playback, record, usbredir, a spiceport and the webdav port), drives
// the QXL device from a scenario or a replay file, and reports on stdout.
//
// run() blocks until --duration expires or SIGINT/SIGTERM arrives, then tears
// down in the order the library needs and returns a process exit code.
#include "server/settings.hpp"

namespace sc::server {

// Exit codes of `serve` (documented in docs/server.md).
enum ServeExit : int {
  kServeOk = 0,
  kServeFailure = 1,   // the server could not start (port taken, bad TLS files...)
  kServeUsage = 2,     // inconsistent options
  kServeInput = 3,     // --qxl-replay or --tls-dir files missing/unreadable
};

int run_serve(const ServeSettings& settings);

}  // namespace sc::server
