#include "server/char_device.hpp"

#include "server/interface_base.hpp"

#include <algorithm>
#include <cstring>

#include <glib.h>

namespace sc::server {

const SpiceCharDeviceInterface CharDevice::kInterface = [] {
  auto i = interface_with_base<SpiceCharDeviceInterface>(SPICE_INTERFACE_CHAR_DEVICE, "spice-capture char device", SPICE_INTERFACE_CHAR_DEVICE_MAJOR, SPICE_INTERFACE_CHAR_DEVICE_MINOR);
  i.state = &CharDevice::on_state;
  i.write = &CharDevice::on_write;
  i.read = &CharDevice::on_read;
  i.event = &CharDevice::on_event;
  return i;
}();

CharDevice::CharDevice(std::string subtype, std::string portname)
    : subtype_(std::move(subtype)), portname_(std::move(portname)) {
  std::memset(&slot_.sin, 0, sizeof slot_.sin);
  slot_.sin.base.sif = &kInterface.base;
  slot_.sin.subtype = subtype_.c_str();
  slot_.sin.portname = portname_.empty() ? nullptr : portname_.c_str();
  slot_.self = this;
}

CharDevice::~CharDevice() {
  if (wakeup_source_) g_source_remove(wakeup_source_);
}

void CharDevice::on_state(SpiceCharDeviceInstance* sin, int connected) {
  CharDevice& d = from(sin);
  if (d.state_listener_) d.state_listener_(connected != 0);
}

int CharDevice::on_write(SpiceCharDeviceInstance* sin, const uint8_t* buf, int len) {
  CharDevice& d = from(sin);
  if (len <= 0) return 0;
  d.bytes_in_ += uint64_t(len);
  if (d.receiver_) d.receiver_(std::span<const uint8_t>(buf, size_t(len)));
  return len;  // simulated endpoints always take everything
}

int CharDevice::on_read(SpiceCharDeviceInstance* sin, uint8_t* buf, int len) {
  CharDevice& d = from(sin);
  const size_t n = std::min(d.outgoing_.size(), size_t(std::max(len, 0)));
  std::copy_n(d.outgoing_.begin(), n, buf);
  d.outgoing_.erase(d.outgoing_.begin(), d.outgoing_.begin() + ptrdiff_t(n));
  d.bytes_out_ += n;
  return int(n);
}

void CharDevice::on_event(SpiceCharDeviceInstance* sin, uint8_t event) {
  CharDevice& d = from(sin);
  if (d.event_listener_) d.event_listener_(event);
}

void CharDevice::send(std::span<const uint8_t> bytes) {
  if (bytes.empty()) return;
  outgoing_.insert(outgoing_.end(), bytes.begin(), bytes.end());
  schedule_wakeup();
}

void CharDevice::schedule_wakeup() {
  if (!wakeup_source_) wakeup_source_ = g_idle_add(&CharDevice::on_idle_wakeup, this);
}

int CharDevice::on_idle_wakeup(void* self) {
  auto* d = static_cast<CharDevice*>(self);
  d->wakeup_source_ = 0;
  // Only after add_interface gave the instance its state.
  if (d->slot_.sin.st) spice_server_char_device_wakeup(&d->slot_.sin);
  return G_SOURCE_REMOVE;
}

void CharDevice::port_event(uint8_t event) {
  if (slot_.sin.st) spice_server_port_event(&slot_.sin, event);
}

}  // namespace sc::server
