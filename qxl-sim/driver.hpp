#pragma once
// The simulated guest display driver. On the host's glib main loop it asks the
// scenario for one frame every 1/fps seconds, draws the frame's ops into its
// software canvas (the frame a client should end up showing) and turns them into
// QXL commands for the device. Resizes are barriers: they wait until the rings
// are drained, then destroy and re-create the primary surface.
//
// When the ring backlog grows (no client, slow worker) the driver skips ticks
// instead of frames, so the command sequence depends only on scenario and seed.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "qxl-sim/canvas.hpp"
#include "qxl-sim/command_builder.hpp"
#include "qxl-sim/device.hpp"
#include "qxl-sim/events.hpp"
#include "qxl-sim/scenario.hpp"

namespace sc::qxl {

class Driver {
 public:
  struct Options {
    double fps = 25;
    uint64_t frames = 0;          // stop drawing after this many frames; 0 = never
    size_t max_backlog = 512;     // ring entries before the driver holds back
  };
  struct Stats {
    uint64_t frame = 0;           // frames completed
    uint64_t ops = 0;
    uint64_t commands = 0;
    uint64_t image_bytes = 0;     // bitmap bytes handed to the server
    uint64_t skipped_ticks = 0;
    bool finished = false;
  };

  Driver(Device& device, std::unique_ptr<Scenario> scenario, Options options, EventSink events);
  ~Driver();
  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;

  // Creates the primary surface and starts the frame timer. The device must be attached.
  void start();
  void stop();

  // Called once when `frames` frames are drawn and the rings are drained.
  void on_finished(std::function<void()> cb) { on_finished_ = std::move(cb); }
  // A client asked (through the agent) for another screen size.
  void request_resize(Size size);

  const Canvas& canvas() const { return canvas_; }
  Stats stats() const { return stats_; }
  // Renders the primary through the server (update_area) and counts pixels that
  // differ from the software canvas. Only meaningful when backlog() == 0.
  struct SelfCheck {
    uint64_t differing_pixels = UINT64_MAX;  // UINT64_MAX: no comparable primary
    std::vector<uint32_t> server_pixels;     // what the server rendered
  };
  SelfCheck self_check();

 private:
  static int on_tick(void* self);
  void tick();
  // Applies pending ops; false if a resize barrier must wait for the rings.
  bool run_pending();
  void apply(const Op& op);

  Device& device_;
  std::unique_ptr<Scenario> scenario_;
  Options options_;
  EventSink events_;
  Canvas canvas_;
  CommandBuilder builder_;
  std::vector<Op> pending_;
  size_t pending_pos_ = 0;
  bool in_progress_ = false;  // a frame's ops are partly applied
  std::optional<Size> resize_request_;
  unsigned timer_ = 0;
  Stats stats_;
  bool finished_reported_ = false;
  std::function<void()> on_finished_;
};

}  // namespace sc::qxl
