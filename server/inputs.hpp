#pragma once
// Simulated keyboard, relative mouse and tablet (absolute pointer), registered
// with libspice-server. They only report what arrives: scancodes (PC AT set 1,
// 0xe0-prefixed keys combined into one code), motions, positions and buttons.
// In client mouse mode with agent-mouse on and an agent attached, pointer input
// goes to the agent instead of the tablet (server behaviour, not ours).
#include <cstdint>

#include <spice.h>

#include "qxl-sim/events.hpp"

namespace sc::server {

class Inputs {
 public:
  struct Counters {
    uint64_t keys = 0;
    uint64_t motions = 0;
    uint64_t positions = 0;
    uint64_t buttons = 0;
  };

  explicit Inputs(qxl::EventSink events);
  Inputs(const Inputs&) = delete;
  Inputs& operator=(const Inputs&) = delete;

  SpiceBaseInstance* keyboard() { return &kbd_.sin.base; }
  SpiceBaseInstance* mouse() { return &mouse_.sin.base; }
  SpiceBaseInstance* tablet() { return &tablet_.sin.base; }
  Counters counters() const { return counters_; }

 private:
  template <class Instance>
  struct Slot {
    Instance sin;  // first member: callbacks cast back to Slot*
    Inputs* self;
  };
  template <class Instance>
  static Inputs& from(Instance* sin) { return *reinterpret_cast<Slot<Instance>*>(sin)->self; }

  static void on_scancode(SpiceKbdInstance* sin, uint8_t frag);
  static uint8_t on_get_leds(SpiceKbdInstance* sin);
  static void on_motion(SpiceMouseInstance* sin, int dx, int dy, int dz, uint32_t buttons);
  static void on_mouse_buttons(SpiceMouseInstance* sin, uint32_t buttons);
  static void on_logical_size(SpiceTabletInstance* sin, int w, int h);
  static void on_position(SpiceTabletInstance* sin, int x, int y, uint32_t buttons);
  static void on_wheel(SpiceTabletInstance* sin, int dz, uint32_t buttons);
  static void on_tablet_buttons(SpiceTabletInstance* sin, uint32_t buttons);
  void buttons_changed(const char* device, uint32_t buttons);

  static const SpiceKbdInterface kKeyboard;
  static const SpiceMouseInterface kMouse;
  static const SpiceTabletInterface kTablet;

  Slot<SpiceKbdInstance> kbd_{};
  Slot<SpiceMouseInstance> mouse_{};
  Slot<SpiceTabletInstance> tablet_{};
  qxl::EventSink events_;
  bool extended_prefix_ = false;
  uint32_t last_buttons_ = 0;
  Counters counters_;
};

}  // namespace sc::server
