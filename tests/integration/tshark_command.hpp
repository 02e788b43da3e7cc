#pragma once
// How tests run Debian's tshark: as nobody when we are root (started as root,
// tshark ignores WIRESHARK_PLUGIN_DIR), with HOME set to a directory of the test's
// own, and either with our plugin from the build tree (SC_WS_PLUGIN_DIR; in the
// ASan+UBSan tree with the sanitizer runtimes preloaded, SC_WS_PRELOAD) or with
// no plugin at all (the built-in dissector alone).
#include <unistd.h>

#include <string>

namespace sc::test {

// The command line up to and including "tshark ", ready for its arguments.
inline std::string tshark_command(const std::string& home, bool with_plugin) {
  std::string cmd = geteuid() == 0 ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : "";
  cmd += "env HOME=" + home;
  if (!with_plugin) return cmd + " WIRESHARK_PLUGIN_DIR=/nonexistent tshark ";
#ifdef SC_WS_PLUGIN_DIR
  cmd += " WIRESHARK_PLUGIN_DIR=" SC_WS_PLUGIN_DIR;
#endif
#ifdef SC_WS_PRELOAD
  cmd += " LD_PRELOAD=" SC_WS_PRELOAD " ASAN_OPTIONS=detect_leaks=0:abort_on_error=1";
#endif
  return cmd + " tshark ";
}

}  // namespace sc::test
