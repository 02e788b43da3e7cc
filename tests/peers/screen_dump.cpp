// spice-screen-dump: a real SPICE client (SpiceClientGLib, the library behind
// remote-viewer and spicy) that saves what its display shows while it is
// connected, for tests that compare `render` at intermediate moments with what a
// client really showed then.
//
//   spice-screen-dump --host H --port P --out DIR [--every S] [--duration S]
//
// Every S seconds after the primary surface appears, the primary surface is
// written as DIR/shot-N.png, and DIR/shots.json lists each with the wall-clock
// time (CLOCK_REALTIME, the clock tcpdump stamps packets with) at which it was
// taken. The dumps run on the GLib main loop, between the display channel's
// message handlers, so each picture is the canvas after some whole message.
// Exits 0 after --duration with at least one shot, 1 otherwise.
#include <spice-client.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "util/png.hpp"

namespace {

struct Shot {
  std::string file;
  uint64_t realtime_ns = 0;
  int width = 0, height = 0;
};

struct Client {
  std::string out;
  double every = 0.25;
  SpiceSession* session = nullptr;
  SpiceChannel* display = nullptr;
  GMainLoop* loop = nullptr;
  std::vector<Shot> shots;
  bool primary_seen = false;
  std::string error;
};

uint64_t realtime_ns() {
  timespec t{};
  clock_gettime(CLOCK_REALTIME, &t);
  return static_cast<uint64_t>(t.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(t.tv_nsec);
}

// The primary surface as top-down RGB (xRGB in memory, little-endian: B G R x).
bool dump(Client& c) {
  SpiceDisplayPrimary p{};
  if (!c.display || !spice_display_channel_get_primary(c.display, 0, &p) || !p.data) return false;
  if (p.format != SPICE_SURFACE_FMT_32_xRGB && p.format != SPICE_SURFACE_FMT_32_ARGB) {
    c.error = "primary surface format " + std::to_string(p.format) + " is not 32-bit";
    return false;
  }
  const uint64_t when = realtime_ns();
  std::vector<uint32_t> pixels(static_cast<size_t>(p.width) * p.height);
  for (int y = 0; y < p.height; ++y) {
    const uint8_t* row = p.data + static_cast<size_t>(y) * p.stride;
    for (int x = 0; x < p.width; ++x) {
      const uint8_t* px = row + 4 * x;
      pixels[static_cast<size_t>(y) * p.width + x] = 0xff000000u | uint32_t{px[2]} << 16 | uint32_t{px[1]} << 8 | px[0];
    }
  }
  const std::string file = c.out + "/shot-" + std::to_string(c.shots.size()) + ".png";
  if (auto ok = sc::util::write_png(file, static_cast<uint32_t>(p.width), static_cast<uint32_t>(p.height), pixels);
      !ok) {
    c.error = ok.error().message;
    return false;
  }
  c.shots.push_back({file, when, p.width, p.height});
  return true;
}

gboolean on_tick(gpointer data) {
  auto& c = *static_cast<Client*>(data);
  if (c.primary_seen) dump(c);
  if (!c.error.empty()) {
    g_main_loop_quit(c.loop);
    return G_SOURCE_REMOVE;
  }
  return G_SOURCE_CONTINUE;
}

gboolean on_end(gpointer data) {
  g_main_loop_quit(static_cast<Client*>(data)->loop);
  return G_SOURCE_REMOVE;
}

void on_primary_create(SpiceChannel*, gint, gint, gint, gint, gint, gpointer, gpointer data) {
  static_cast<Client*>(data)->primary_seen = true;
}

void on_channel_event(SpiceChannel*, SpiceChannelEvent event, gpointer data) {
  auto& c = *static_cast<Client*>(data);
  if (event == SPICE_CHANNEL_ERROR_CONNECT || event == SPICE_CHANNEL_ERROR_LINK || event == SPICE_CHANNEL_ERROR_IO ||
      event == SPICE_CHANNEL_ERROR_AUTH || event == SPICE_CHANNEL_ERROR_TLS) {
    c.error = "channel error " + std::to_string(static_cast<int>(event));
    g_main_loop_quit(c.loop);
  }
}

void on_channel_new(SpiceSession*, SpiceChannel* channel, gpointer data) {
  auto& c = *static_cast<Client*>(data);
  g_signal_connect(channel, "channel-event", G_CALLBACK(on_channel_event), &c);
  if (SPICE_IS_DISPLAY_CHANNEL(channel) && !c.display) {
    c.display = channel;
    g_signal_connect(channel, "display-primary-create", G_CALLBACK(on_primary_create), &c);
    spice_channel_connect(channel);
  }
}

bool write_index(const Client& c) {
  std::ofstream f(c.out + "/shots.json");
  f << "[";
  for (size_t i = 0; i < c.shots.size(); ++i) {
    const auto& s = c.shots[i];
    f << (i ? ",\n " : "\n ") << "{\"file\": \"" << s.file << "\", \"realtime_ns\": " << s.realtime_ns
      << ", \"width\": " << s.width << ", \"height\": " << s.height << "}";
  }
  f << "\n]\n";
  return static_cast<bool>(f);
}

int usage() {
  std::fprintf(stderr, "usage: spice-screen-dump --host H --port P --out DIR [--every SECONDS] [--duration SECONDS]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1", port;
  double duration = 3;
  Client c;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return usage();
    const std::string v = argv[++i];
    if (a == "--host") host = v;
    else if (a == "--port") port = v;
    else if (a == "--out") c.out = v;
    else if (a == "--every") c.every = std::atof(v.c_str());
    else if (a == "--duration") duration = std::atof(v.c_str());
    else return usage();
  }
  if (port.empty() || c.out.empty() || c.every <= 0 || duration <= 0) return usage();
  std::error_code ec;
  std::filesystem::create_directories(c.out, ec);
  if (ec) {
    std::fprintf(stderr, "spice-screen-dump: %s: %s\n", c.out.c_str(), ec.message().c_str());
    return 1;
  }

  c.loop = g_main_loop_new(nullptr, FALSE);
  c.session = spice_session_new();
  // Only the display matters here; audio would need GStreamer elements a test
  // machine may lack.
  g_object_set(c.session, "host", host.c_str(), "port", port.c_str(), "enable-audio", FALSE, "enable-usbredir", FALSE,
               nullptr);
  g_signal_connect(c.session, "channel-new", G_CALLBACK(on_channel_new), &c);
  if (!spice_session_connect(c.session)) {
    std::fprintf(stderr, "spice-screen-dump: cannot connect to %s:%s\n", host.c_str(), port.c_str());
    return 1;
  }
  g_timeout_add(static_cast<guint>(c.every * 1000), on_tick, &c);
  g_timeout_add(static_cast<guint>(duration * 1000), on_end, &c);
  g_main_loop_run(c.loop);
  spice_session_disconnect(c.session);
  g_object_unref(c.session);
  g_main_loop_unref(c.loop);

  if (!write_index(c)) {
    std::fprintf(stderr, "spice-screen-dump: cannot write %s/shots.json\n", c.out.c_str());
    return 1;
  }
  if (!c.error.empty()) {
    std::fprintf(stderr, "spice-screen-dump: %s\n", c.error.c_str());
    return 1;
  }
  if (c.shots.empty()) {
    std::fprintf(stderr, "spice-screen-dump: no primary surface was shown within %.1f s\n", duration);
    return 1;
  }
  std::fprintf(stderr, "spice-screen-dump: %zu shots in %s\n", c.shots.size(), c.out.c_str());
  return 0;
}
