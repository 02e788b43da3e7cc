#pragma once
// Everything `spice-capture serve` can be told, independent of CLI11, plus the
// name tables that map option words to libspice-server enums. The CLI builds its
// choices from these tables, so a new value is one table row.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <spice.h>

namespace sc::server {

template <class V>
struct Named {
  std::string_view name;
  V value;
};

// Every SpiceImageCompression value a user can pick.
std::span<const Named<SpiceImageCompression>> image_compressions();
std::span<const Named<spice_wan_compression_t>> wan_compressions();
std::span<const Named<int>> streaming_video_modes();
enum class ReplayPacing { kAsRecorded, kScaled, kFast };

template <class V>
std::optional<V> lookup(std::span<const Named<V>> table, std::string_view name) {
  for (const auto& row : table)
    if (row.name == name) return row.value;
  return std::nullopt;
}

struct ServeSettings {
  // What the guest does.
  std::string scenario = "desktop";
  uint64_t seed = 1;
  double fps = 25;
  uint64_t frames = 0;            // 0 = draw forever
  std::string size;               // "WxH"; empty = scenario default
  double duration = 0;            // seconds; 0 = until SIGINT/SIGTERM
  std::string expect_ppm;         // write the expected frame when the workload finishes
  std::string qxl_replay;         // a SPICE_WORKER_RECORD_FILENAME file instead of a scenario
  std::string replay_speed = "as-recorded";  // as-recorded | N.x | fast

  // Where and how clients connect.
  std::string addr = "127.0.0.1";
  int port = 0;                   // 0 = pick a free port; -1 = no plain port
  int tls_port = -1;              // -1 = no TLS; 0 = pick a free port
  std::string tls_dir;            // ca-cert.pem, server-cert.pem, server-key.pem
  std::string secure_channels;    // comma list of channels that require TLS ("all" ok)
  std::optional<std::string> ticket;  // unset = no authentication

  // Server policy.
  std::string image_compression = "auto_glz";
  std::string jpeg_wan = "auto";
  std::string zlib_glz_wan = "auto";
  std::string streaming_video = "filter";
  std::string video_codecs;       // e.g. "spice:mjpeg;gstreamer:h264"; empty = library default
  bool agent = true;
  bool agent_mouse = true;
  bool copy_paste = true;
  bool file_xfer = true;
  std::string files_dir;          // where received files go; empty = a temp dir
  std::string file_xfer_fail;     // "" | "not-enough-space" | "error" | "cancel"
  std::string guest_clipboard;    // text the guest copies when a client connects; empty = none
  std::string name = "spice-capture";
  std::string uuid;               // 8-4-4-4-12 hex; empty = none
  bool audio = true;

  // Output.
  bool json = false;
  double status_interval = 1.0;   // seconds between status lines
};

// Parses "WxH"; false if malformed or out of range.
bool parse_size(std::string_view text, uint32_t& width, uint32_t& height);
// Parses a UUID in 8-4-4-4-12 form.
bool parse_uuid(std::string_view text, uint8_t out[16]);
// "as-recorded" -> 1.0, "2x"/"0.5x"/"2" -> factor, "fast" -> 0.
std::optional<double> parse_replay_speed(std::string_view text);

}  // namespace sc::server
