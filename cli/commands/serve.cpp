// `spice-capture serve`: a real SPICE server (libspice-server) with a simulated
// guest behind it. This file only maps the command line onto
// sc::server::ServeSettings; the server itself is server/ (library sc_server).
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "qxl-sim/scenario.hpp"
#include "server/host.hpp"
#include "server/settings.hpp"
#include "server/test_ca.hpp"

namespace sc::cli {
namespace {

template <class V>
std::vector<std::string> names_of(std::span<const server::Named<V>> table) {
  std::vector<std::string> out;
  for (const auto& row : table) out.emplace_back(row.name);
  return out;
}

std::vector<std::string> scenario_names() {
  std::vector<std::string> out;
  for (const auto& s : qxl::scenario_table()) out.emplace_back(s.name);
  return out;
}

std::string scenario_help() {
  std::string h = "guest workload:";
  for (const auto& s : qxl::scenario_table()) h += "\n  " + std::string(s.name) + ": " + std::string(s.summary);
  return h;
}

}  // namespace

void register_serve(CLI::App& app) {
  auto* cmd = app.add_subcommand("serve", "Run a SPICE server (libspice-server) with a simulated QXL guest");
  auto s = std::make_shared<server::ServeSettings>();
  auto make_ca = std::make_shared<std::string>();
  auto ticket = std::make_shared<std::string>();

  const std::vector<std::string> wan = {"auto", "always", "never"};
  cmd->add_option("--scenario", s->scenario, scenario_help())
      ->check(CLI::IsMember(scenario_names()))->capture_default_str();
  cmd->add_option("--seed", s->seed, "workload seed: same seed and scenario give the same commands")
      ->capture_default_str();
  cmd->add_option("--duration", s->duration, "seconds to run; 0 = until SIGINT/SIGTERM")->capture_default_str();
  cmd->add_option("--fps", s->fps, "frames per second the guest draws")->check(CLI::Range(0.1, 1000.0))
      ->capture_default_str();
  cmd->add_option("--frames", s->frames, "stop drawing after N frames (the screen then stays still); 0 = never")
      ->capture_default_str();
  cmd->add_option("--size", s->size, "primary surface WxH (default: the scenario's, 800x600)");
  cmd->add_option("--expect-ppm", s->expect_ppm, "when --frames are drawn, write the frame a client must show (PPM)");
  cmd->add_option("--addr", s->addr, "listen address")->capture_default_str();
  cmd->add_option("--port", s->port, "plain TCP port; 0 = pick a free one, -1 = none")->capture_default_str();
  cmd->add_option("--tls-port", s->tls_port, "TLS port; 0 = pick a free one; default none");
  cmd->add_option("--tls-dir", s->tls_dir, "directory with ca-cert.pem, server-cert.pem, server-key.pem");
  cmd->add_option("--secure-channels", s->secure_channels,
                  "comma list of channels that require TLS (main,display,inputs,cursor,playback,record,usbredir,port,webdav or all)");
  auto* ticket_opt = cmd->add_option("--ticket", *ticket, "password clients must give; default: no authentication");
  cmd->add_option("--image-compression", s->image_compression, "image compression")
      ->check(CLI::IsMember(names_of(server::image_compressions())))->capture_default_str();
  cmd->add_option("--jpeg-wan", s->jpeg_wan, "JPEG for photographic images on WAN links")
      ->check(CLI::IsMember(wan))->capture_default_str();
  cmd->add_option("--zlib-glz-wan", s->zlib_glz_wan, "zlib over GLZ on WAN links")
      ->check(CLI::IsMember(wan))->capture_default_str();
  cmd->add_option("--streaming-video", s->streaming_video, "video stream detection")
      ->check(CLI::IsMember(names_of(server::streaming_video_modes())))->capture_default_str();
  cmd->add_option("--video-codecs", s->video_codecs, "encoder list, e.g. spice:mjpeg;gstreamer:h264");
  cmd->add_flag("--agent,!--no-agent", s->agent, "attach the simulated guest agent (vdagent)");
  cmd->add_flag("--agent-mouse,!--no-agent-mouse", s->agent_mouse, "pointer through the agent in client mouse mode");
  cmd->add_flag("--copy-paste,!--no-copy-paste", s->copy_paste, "allow clipboard sharing");
  cmd->add_flag("--file-xfer,!--no-file-xfer", s->file_xfer, "allow file transfer to the guest");
  cmd->add_option("--files-dir", s->files_dir, "where transferred files are stored (default: a temp dir)");
  cmd->add_option("--file-xfer-fail", s->file_xfer_fail, "make the guest refuse transfers")
      ->check(CLI::IsMember({"", "not-enough-space", "error", "disabled", "cancel"}));
  cmd->add_option("--guest-clipboard", s->guest_clipboard,
                  "text the guest copies (grabs text+PNG) when a client connects");
  cmd->add_flag("--audio,!--no-audio", s->audio, "playback tone and record device");
  cmd->add_option("--name", s->name, "VM name shown to clients")->capture_default_str();
  cmd->add_option("--uuid", s->uuid, "VM UUID (8-4-4-4-12)");
  cmd->add_option("--qxl-replay", s->qxl_replay, "replay a libspice-server record file instead of a scenario");
  cmd->add_option("--replay-speed", s->replay_speed, "as-recorded | N.x (e.g. 2x, 0.5x) | fast")
      ->capture_default_str();
  cmd->add_flag("--json", s->json, "machine-readable events and status (one JSON object per line)");
  cmd->add_option("--status-interval", s->status_interval, "seconds between status lines; 0 = none")
      ->capture_default_str();
  cmd->add_option("--make-test-ca", *make_ca,
                  "create a private CA and server certificate in DIR (for --tls-dir) and exit");

  cmd->callback([s, make_ca, ticket, ticket_opt] {
    if (!make_ca->empty()) {
      const Result<void> st = server::make_test_ca(*make_ca);
      if (!st) {
        std::fprintf(stderr, "spice-capture serve: %s\n", st.error().message.c_str());
        throw CLI::RuntimeError(server::kServeFailure);
      }
      std::printf("test CA and server certificate written to %s\n", make_ca->c_str());
      return;
    }
    if (ticket_opt->count() > 0) s->ticket = *ticket;
    if (s->tls_port >= 0 && s->tls_dir.empty()) {
      std::fprintf(stderr, "spice-capture serve: --tls-port needs --tls-dir\n");
      throw CLI::RuntimeError(server::kServeUsage);
    }
    const int rc = server::run_serve(*s);
    if (rc != server::kServeOk) throw CLI::RuntimeError(rc);
  });
}

}  // namespace sc::cli
