#include "server/inputs.hpp"

#include "server/interface_base.hpp"

namespace sc::server {

const SpiceKbdInterface Inputs::kKeyboard = [] {
  auto i = interface_with_base<SpiceKbdInterface>(SPICE_INTERFACE_KEYBOARD, "spice-capture keyboard",
                                      SPICE_INTERFACE_KEYBOARD_MAJOR, SPICE_INTERFACE_KEYBOARD_MINOR);
  i.push_scan_freg = &Inputs::on_scancode;
  i.get_leds = &Inputs::on_get_leds;
  return i;
}();

const SpiceMouseInterface Inputs::kMouse = [] {
  auto i = interface_with_base<SpiceMouseInterface>(SPICE_INTERFACE_MOUSE, "spice-capture mouse",
                                        SPICE_INTERFACE_MOUSE_MAJOR, SPICE_INTERFACE_MOUSE_MINOR);
  i.motion = &Inputs::on_motion;
  i.buttons = &Inputs::on_mouse_buttons;
  return i;
}();

const SpiceTabletInterface Inputs::kTablet = [] {
  auto i = interface_with_base<SpiceTabletInterface>(SPICE_INTERFACE_TABLET, "spice-capture tablet",
                                         SPICE_INTERFACE_TABLET_MAJOR, SPICE_INTERFACE_TABLET_MINOR);
  i.set_logical_size = &Inputs::on_logical_size;
  i.position = &Inputs::on_position;
  i.wheel = &Inputs::on_wheel;
  i.buttons = &Inputs::on_tablet_buttons;
  return i;
}();

Inputs::Inputs(qxl::EventSink events) : events_(std::move(events)) {
  kbd_.sin.base.sif = &kKeyboard.base;
  kbd_.self = this;
  mouse_.sin.base.sif = &kMouse.base;
  mouse_.self = this;
  tablet_.sin.base.sif = &kTablet.base;
  tablet_.self = this;
}

void Inputs::on_scancode(SpiceKbdInstance* sin, uint8_t frag) {
  Inputs& in = from(sin);
  if (frag == 0xe0) {
    in.extended_prefix_ = true;
    return;
  }
  const bool down = (frag & 0x80) == 0;
  const unsigned code = (in.extended_prefix_ ? 0xe000u : 0u) | (frag & 0x7fu);
  in.extended_prefix_ = false;
  ++in.counters_.keys;
  qxl::emit(in.events_, "input.key", {{"scancode", code}, {"down", down}});
}

uint8_t Inputs::on_get_leds(SpiceKbdInstance*) { return 0; }

void Inputs::on_motion(SpiceMouseInstance* sin, int dx, int dy, int dz, uint32_t buttons) {
  Inputs& in = from(sin);
  ++in.counters_.motions;
  qxl::emit(in.events_, "input.motion", {{"dx", dx}, {"dy", dy}, {"dz", dz}, {"buttons", buttons}});
  in.buttons_changed("mouse", buttons);
}

void Inputs::on_mouse_buttons(SpiceMouseInstance* sin, uint32_t buttons) {
  from(sin).buttons_changed("mouse", buttons);
}

void Inputs::on_logical_size(SpiceTabletInstance* sin, int w, int h) {
  qxl::emit(from(sin).events_, "input.tablet_size", {{"width", w}, {"height", h}});
}

void Inputs::on_position(SpiceTabletInstance* sin, int x, int y, uint32_t buttons) {
  Inputs& in = from(sin);
  ++in.counters_.positions;
  qxl::emit(in.events_, "input.position", {{"x", x}, {"y", y}, {"buttons", buttons}});
  in.buttons_changed("tablet", buttons);
}

void Inputs::on_wheel(SpiceTabletInstance* sin, int dz, uint32_t buttons) {
  Inputs& in = from(sin);
  if (dz) qxl::emit(in.events_, "input.wheel", {{"dz", dz}});
  in.buttons_changed("tablet", buttons);
}

void Inputs::on_tablet_buttons(SpiceTabletInstance* sin, uint32_t buttons) {
  from(sin).buttons_changed("tablet", buttons);
}

void Inputs::buttons_changed(const char* device, uint32_t buttons) {
  if (buttons == last_buttons_) return;
  last_buttons_ = buttons;
  ++counters_.buttons;
  qxl::emit(events_, "input.buttons", {{"device", device}, {"buttons", buttons}});
}

}  // namespace sc::server
