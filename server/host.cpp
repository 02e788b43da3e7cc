#include "server/host.hpp"

#include <glib-unix.h>
#include <glib.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <memory>
#include <sstream>

#include <spice.h>
#include <spice/protocol.h>

#include "qxl-sim/agent.hpp"
#include "qxl-sim/device.hpp"
#include "qxl-sim/driver.hpp"
#include "qxl-sim/replay.hpp"
#include "qxl-sim/scenario.hpp"
#include "server/audio.hpp"
#include "server/char_device.hpp"
#include "server/glib_core.hpp"
#include "server/inputs.hpp"
#include "server/ports.hpp"
#include "server/reporter.hpp"

namespace sc::server {
namespace {

constexpr const char* kEchoPortName = "org.spice-space.capture.echo.0";
constexpr const char* kWebdavPortName = "org.spice-space.webdav.0";

// SPICE_CHANNEL_* numbers to names, for events and --secure-channels.
const std::map<int, std::string>& channel_names() {
  static const std::map<int, std::string> names = {
      {SPICE_CHANNEL_MAIN, "main"},         {SPICE_CHANNEL_DISPLAY, "display"},
      {SPICE_CHANNEL_INPUTS, "inputs"},     {SPICE_CHANNEL_CURSOR, "cursor"},
      {SPICE_CHANNEL_PLAYBACK, "playback"}, {SPICE_CHANNEL_RECORD, "record"},
      {SPICE_CHANNEL_TUNNEL, "tunnel"},     {SPICE_CHANNEL_SMARTCARD, "smartcard"},
      {SPICE_CHANNEL_USBREDIR, "usbredir"}, {SPICE_CHANNEL_PORT, "port"},
      {SPICE_CHANNEL_WEBDAV, "webdav"},
  };
  return names;
}

std::string channel_name(int type) {
  auto it = channel_names().find(type);
  return it == channel_names().end() ? std::to_string(type) : it->second;
}

struct Deleter {
  void operator()(SpiceServer* s) const { spice_server_destroy(s); }
  void operator()(GMainLoop* l) const { g_main_loop_unref(l); }
};

class Host {
 public:
  explicit Host(ServeSettings s) : settings_(std::move(s)), reporter_(settings_.json) {}
  int run();

 private:
  int configure_and_start();
  Result<void> apply_server_settings();
  void add(SpiceBaseInstance* sin, const char* what);
  void on_channel_event(const ChannelEvent& e);
  void print_status();
  void on_workload_finished();
  void teardown();
  qxl::EventSink sink() {
    return [this](const char* name, qxl::Json fields) { reporter_.event(name, std::move(fields)); };
  }

  ServeSettings settings_;
  Reporter reporter_;
  int port_ = -1;
  int tls_port_ = -1;
  std::unique_ptr<GMainLoop, Deleter> loop_;
  std::unique_ptr<GlibCore> core_;
  std::unique_ptr<SpiceServer, Deleter> server_;
  std::unique_ptr<qxl::Device> device_;
  std::unique_ptr<qxl::Driver> driver_;
  std::unique_ptr<qxl::Replayer> replayer_;
  std::unique_ptr<Inputs> inputs_;
  std::unique_ptr<Audio> audio_;
  std::unique_ptr<CharDevice> agent_port_;
  std::unique_ptr<qxl::GuestAgent> agent_;
  std::unique_ptr<CharDevice> usbredir_;
  std::unique_ptr<CharDevice> echo_port_;
  std::unique_ptr<CharDevice> webdav_;
  std::map<int, int> open_channels_;  // SPICE_CHANNEL_* -> connected count
  uint64_t clients_seen_ = 0;
  std::vector<guint> sources_;
};

void Host::add(SpiceBaseInstance* sin, const char* what) {
  if (spice_server_add_interface(server_.get(), sin) != 0)
    reporter_.event("server.warning", {{"message", std::string("could not add ") + what}});
}

Result<void> Host::apply_server_settings() {
  SpiceServer* s = server_.get();
  const auto comp = lookup(image_compressions(), settings_.image_compression);
  const auto jpeg = lookup(wan_compressions(), settings_.jpeg_wan);
  const auto zlib = lookup(wan_compressions(), settings_.zlib_glz_wan);
  const auto streaming = lookup(streaming_video_modes(), settings_.streaming_video);
  if (!comp) return Error{"unknown --image-compression '" + settings_.image_compression + "'"};
  if (!jpeg) return Error{"unknown --jpeg-wan '" + settings_.jpeg_wan + "'"};
  if (!zlib) return Error{"unknown --zlib-glz-wan '" + settings_.zlib_glz_wan + "'"};
  if (!streaming) return Error{"unknown --streaming-video '" + settings_.streaming_video + "'"};

  const bool v6 = settings_.addr.find(':') != std::string::npos;
  spice_server_set_addr(s, settings_.addr.c_str(), v6 ? SPICE_ADDR_FLAG_IPV6_ONLY : SPICE_ADDR_FLAG_IPV4_ONLY);
  if (port_ > 0) spice_server_set_port(s, port_);
  if (tls_port_ > 0) {
    const std::filesystem::path dir(settings_.tls_dir);
    const std::string ca = dir / "ca-cert.pem", cert = dir / "server-cert.pem", key = dir / "server-key.pem";
    for (const std::string& f : {ca, cert, key})
      if (access(f.c_str(), R_OK) != 0) return Error{"cannot read " + f};
    if (spice_server_set_tls(s, tls_port_, ca.c_str(), cert.c_str(), key.c_str(), nullptr, nullptr, nullptr) != 0)
      return Error{"libspice-server refused the TLS settings"};
  }
  if (!settings_.secure_channels.empty()) {
    std::stringstream list(settings_.secure_channels);
    for (std::string ch; std::getline(list, ch, ',');) {
      const char* name = ch == "all" ? nullptr : ch.c_str();
      if (spice_server_set_channel_security(s, name, SPICE_CHANNEL_SECURITY_SSL) != 0)
        return Error{"unknown channel '" + ch + "' in --secure-channels"};
    }
  }
  if (settings_.ticket)
    spice_server_set_ticket(s, settings_.ticket->c_str(), 0, 0, 0);
  else
    spice_server_set_noauth(s);
  spice_server_set_image_compression(s, *comp);
  spice_server_set_jpeg_compression(s, *jpeg);
  spice_server_set_zlib_glz_compression(s, *zlib);
  spice_server_set_streaming_video(s, *streaming);
  if (!settings_.video_codecs.empty() && spice_server_set_video_codecs(s, settings_.video_codecs.c_str()) != 0)
    return Error{"libspice-server rejected --video-codecs '" + settings_.video_codecs + "'"};
  spice_server_set_agent_mouse(s, settings_.agent_mouse);
  spice_server_set_agent_copypaste(s, settings_.copy_paste);
  spice_server_set_agent_file_xfer(s, settings_.file_xfer);
  spice_server_set_playback_compression(s, 1);
  spice_server_set_name(s, settings_.name.c_str());
  if (!settings_.uuid.empty()) {
    uint8_t uuid[16];
    if (!parse_uuid(settings_.uuid, uuid)) return Error{"--uuid must look like 8-4-4-4-12 hex digits"};
    spice_server_set_uuid(s, uuid);
  }
  return {};
}

int Host::configure_and_start() {
  // Validate what can be checked before opening sockets.
  qxl::Size size{};
  if (!settings_.size.empty() && !parse_size(settings_.size, size.width, size.height)) {
    reporter_.event("error", {{"message", "--size must be WxH between 64x64 and 4096x4096"}});
    return kServeUsage;
  }
  if (settings_.qxl_replay.empty() && !qxl::find_scenario(settings_.scenario)) {
    reporter_.event("error", {{"message", "unknown scenario '" + settings_.scenario + "'"}});
    return kServeUsage;
  }
  std::optional<double> speed = parse_replay_speed(settings_.replay_speed);
  if (!speed) {
    reporter_.event("error", {{"message", "--replay-speed must be as-recorded, fast or a factor like 2x"}});
    return kServeUsage;
  }
  if (settings_.port < 0 && settings_.tls_port < 0) {
    reporter_.event("error", {{"message", "nothing to listen on: give --port or --tls-port"}});
    return kServeUsage;
  }
  std::unique_ptr<qxl::RecordFile> record;
  if (!settings_.qxl_replay.empty()) {
    auto opened = qxl::RecordFile::open(settings_.qxl_replay);
    if (!opened.file) {
      reporter_.event("error", {{"message", opened.error}});
      return kServeInput;
    }
    record = std::move(opened.file);
  }

  // A port picked free can be taken by another process before libspice-server
  // binds it (tests start many servers at once): picked ports get a few tries.
  const bool picked_any = settings_.port == 0 || settings_.tls_port == 0;
  for (int attempt = 1;; ++attempt) {
    for (auto [want, out] : {std::pair{settings_.port, &port_}, std::pair{settings_.tls_port, &tls_port_}}) {
      if (want < 0) continue;
      if (want > 0) {
        *out = want;
        continue;
      }
      auto picked = pick_free_port(settings_.addr);
      if (!picked) {
        reporter_.event("error", {{"message", picked.error().message}});
        return kServeFailure;
      }
      *out = picked.value();
    }

    // A failed server still uses its core while it is destroyed: server first.
    server_.reset();
    core_ = std::make_unique<GlibCore>([this](const ChannelEvent& e) { on_channel_event(e); });
    server_.reset(spice_server_new());
    if (Result<void> st = apply_server_settings(); !st) {
      reporter_.event("error", {{"message", st.error().message}});
      return st.error().message.rfind("cannot read", 0) == 0 ? kServeInput : kServeUsage;
    }
    if (spice_server_init(server_.get(), core_->interface()) == 0) break;
    if (picked_any && attempt < 5) continue;
    reporter_.event("error", {{"message", "spice_server_init failed (port " + std::to_string(port_) +
                                              (tls_port_ > 0 ? ", tls port " + std::to_string(tls_port_) : "") +
                                              " taken, or bad TLS files?)"}});
    return kServeFailure;
  }

  // Devices, in the order a VM would bring them up.
  device_ = std::make_unique<qxl::Device>(sink());
  add(&device_->instance()->base, "qxl");
  inputs_ = std::make_unique<Inputs>(sink());
  add(inputs_->keyboard(), "keyboard");
  add(inputs_->mouse(), "mouse");
  add(inputs_->tablet(), "tablet");
  if (settings_.audio) {
    audio_ = std::make_unique<Audio>(sink());
    add(audio_->playback(), "playback");
    add(audio_->record(), "record");
    audio_->start();
  }
  usbredir_ = std::make_unique<CharDevice>("usbredir");
  echo_port_ = std::make_unique<CharDevice>("port", kEchoPortName);
  webdav_ = std::make_unique<CharDevice>("port", kWebdavPortName);
  // usbredir and the generic port echo, so their channels carry data both ways.
  for (CharDevice* d : {usbredir_.get(), echo_port_.get()}) {
    d->set_receiver([d](std::span<const uint8_t> bytes) { d->send(bytes); });
  }
  // The webdav port has no phodav server behind it: it only counts bytes.
  webdav_->set_event_listener([this](uint8_t ev) { reporter_.event("webdav.port_event", {{"event", ev}}); });
  echo_port_->set_event_listener([this](uint8_t ev) { reporter_.event("port.event", {{"event", ev}}); });
  add(usbredir_->base(), "usbredir");
  add(echo_port_->base(), "spiceport");
  add(webdav_->base(), "webdav");
  echo_port_->port_event(SPICE_PORT_EVENT_OPENED);
  webdav_->port_event(SPICE_PORT_EVENT_OPENED);

  spice_server_vm_start(server_.get());

  if (record) {
    replayer_ = std::make_unique<qxl::Replayer>(*device_, std::move(record), *speed, sink());
    replayer_->start();
  } else {
    qxl::Driver::Options o;
    o.fps = settings_.fps;
    o.frames = settings_.frames;
    driver_ = std::make_unique<qxl::Driver>(
        *device_, qxl::make_scenario(settings_.scenario, settings_.seed, size), o, sink());
    driver_->on_finished([this] { on_workload_finished(); });
    driver_->start();
  }

  if (settings_.agent) {
    qxl::GuestAgent::Options ao;
    ao.files_dir = settings_.files_dir;
    if (ao.files_dir.empty()) {
      ao.files_dir = (std::filesystem::temp_directory_path() / ("spice-capture-files-" + std::to_string(getpid()))).string();
    }
    ao.fail = settings_.file_xfer_fail;
    ao.clipboard_text = settings_.guest_clipboard;
    agent_port_ = std::make_unique<CharDevice>("vdagent");
    agent_ = std::make_unique<qxl::GuestAgent>(
        ao, sink(), [this](std::vector<uint8_t> bytes) { agent_port_->send(bytes); });
    agent_port_->set_receiver([this](std::span<const uint8_t> b) { agent_->on_bytes(b); });
    agent_->on_resize = [this](qxl::Size s) {
      if (driver_) driver_->request_resize(s);
    };
    add(agent_port_->base(), "vdagent");
    agent_->start();
  }

  std::string host = settings_.addr.find(':') != std::string::npos ? "[" + settings_.addr + "]" : settings_.addr;
  std::string uri = "spice://" + host;
  if (port_ > 0) uri += ":" + std::to_string(port_);
  if (tls_port_ > 0) uri += "?tls-port=" + std::to_string(tls_port_);
  nlohmann::json details = {{"addr", settings_.addr}, {"port", port_ > 0 ? port_ : 0},
                            {"tls_port", tls_port_ > 0 ? tls_port_ : 0},
                            {"scenario", record ? "replay" : settings_.scenario},
                            {"seed", settings_.seed}, {"image_compression", settings_.image_compression},
                            {"pid", getpid()}};
  reporter_.listening(uri, details);
  return kServeOk;
}

void Host::on_channel_event(const ChannelEvent& e) {
  static const char* const kNames[] = {"", "channel.connected", "channel.initialized", "channel.disconnected"};
  if (e.event < 1 || e.event > 3) return;
  if (e.event == SPICE_CHANNEL_EVENT_INITIALIZED) {
    ++open_channels_[e.type];
    if (e.type == SPICE_CHANNEL_MAIN) ++clients_seen_;
  } else if (e.event == SPICE_CHANNEL_EVENT_DISCONNECTED && open_channels_[e.type] > 0) {
    --open_channels_[e.type];
  }
  reporter_.event(kNames[e.event], {{"channel", channel_name(e.type)}, {"id", e.id},
                                    {"connection", e.connection_id}, {"tls", e.tls}});
  // A client's main channel is up: let the guest copy something, as a user would.
  if (e.event == SPICE_CHANNEL_EVENT_INITIALIZED && e.type == SPICE_CHANNEL_MAIN && agent_ &&
      !settings_.guest_clipboard.empty()) {
    sources_.push_back(g_timeout_add(500, [](void* self) -> int {
      static_cast<Host*>(self)->agent_->grab_clipboard();
      return G_SOURCE_REMOVE;
    }, this));
  }
}

void Host::on_workload_finished() {
  if (!driver_) return;
  const auto check = driver_->self_check();
  reporter_.event("workload.selfcheck", {{"differing_pixels", check.differing_pixels},
                                         {"frame_hash", driver_->canvas().primary().hash()}});
  if (check.differing_pixels != 0 && check.differing_pixels != UINT64_MAX && !settings_.expect_ppm.empty()) {
    // Keep the server's rendering next to the expectation for diagnosis.
    qxl::Framebuffer server_view(driver_->canvas().primary().size());
    server_view.blit(server_view.bounds(), check.server_pixels.data(), server_view.size().width);
    server_view.write_ppm(settings_.expect_ppm + ".server.ppm");
  }
  if (!settings_.expect_ppm.empty()) {
    const bool ok = driver_->canvas().primary().write_ppm(settings_.expect_ppm);
    reporter_.event("workload.expected_frame", {{"path", settings_.expect_ppm}, {"written", ok}});
  }
}

void Host::print_status() {
  nlohmann::json j;
  const auto c = device_->counters();
  if (driver_) {
    const auto s = driver_->stats();
    j["frame"] = s.frame;
    j["commands"] = s.commands;
    if (s.finished) j["finished"] = true;
  }
  if (replayer_) {
    const auto r = replayer_->stats();
    j["replayed"] = r.commands;
    if (r.finished) j["finished"] = true;
  }
  j["fetched"] = c.fetched;
  j["released"] = c.released;
  j["queued"] = c.queued;
  j["clients"] = open_channels_[SPICE_CHANNEL_MAIN];
  j["display"] = open_channels_[SPICE_CHANNEL_DISPLAY];
  if (inputs_) {
    const auto in = inputs_->counters();
    j["keys"] = in.keys;
    j["pointer"] = in.motions + in.positions;
  }
  if (audio_) j["audio_frames"] = audio_->counters().playback_frames;
  if (agent_) j["agent_msgs"] = agent_->counters().messages_in;
  j["port_bytes"] = echo_port_->bytes_from_client() + usbredir_->bytes_from_client();
  reporter_.status(j);
}

void Host::teardown() {
  // One-shot sources may have fired and gone already; remove only live ones.
  for (guint id : sources_)
    if (g_main_context_find_source_by_id(nullptr, id)) g_source_remove(id);
  sources_.clear();
  if (driver_) driver_->stop();
  if (replayer_) replayer_->stop();
  // The server must go before the devices whose instances it references; it
  // releases what it still holds on the way out.
  server_.reset();
  const auto c = device_ ? device_->counters() : qxl::Device::Counters{};
  if (device_) device_->shutdown();
  const auto after = device_ ? device_->counters() : c;
  reporter_.event("shutdown", {{"pushed", after.pushed}, {"fetched", after.fetched}, {"released", after.released},
                               {"freed_at_shutdown", after.freed_at_shutdown}});
  agent_.reset();
  agent_port_.reset();
  replayer_.reset();
  driver_.reset();
  device_.reset();
  core_.reset();
}

int Host::run() {
  loop_.reset(g_main_loop_new(nullptr, FALSE));
  const int rc = configure_and_start();
  if (rc != kServeOk) {
    server_.reset();
    return rc;
  }
  auto quit = [](void* loop) -> int {
    g_main_loop_quit(static_cast<GMainLoop*>(loop));
    return G_SOURCE_REMOVE;
  };
  sources_.push_back(g_unix_signal_add(SIGINT, quit, loop_.get()));
  sources_.push_back(g_unix_signal_add(SIGTERM, quit, loop_.get()));
  if (settings_.duration > 0)
    sources_.push_back(g_timeout_add(guint(settings_.duration * 1000), quit, loop_.get()));
  if (settings_.status_interval > 0)
    sources_.push_back(g_timeout_add(guint(settings_.status_interval * 1000), [](void* self) -> int {
      static_cast<Host*>(self)->print_status();
      return G_SOURCE_CONTINUE;
    }, this));
  g_main_loop_run(loop_.get());
  print_status();
  teardown();
  return kServeOk;
}

}  // namespace

int run_serve(const ServeSettings& settings) {
  // A client vanishing mid-write must not kill the server.
  signal(SIGPIPE, SIG_IGN);
  Host host(settings);
  return host.run();
}

}  // namespace sc::server
