#pragma once
// A SpiceCharDeviceInstance (CHAR_DEVICE 1.3) backed by byte queues: the bridge
// between libspice-server and a simulated guest endpoint (the vdagent, an echo
// device behind usbredir or a spiceport, the webdav port).
//
// Bytes the client sends arrive through the receiver callback; bytes for the
// client are queued with send(). The server pulls them in read(), after a
// spice_server_char_device_wakeup() that we schedule from an idle callback so
// it never re-enters the server from inside its own write(). All callbacks run
// on the main thread (verified for 0.15.1).
#include <cstdint>
#include <deque>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include <spice.h>

namespace sc::server {

class CharDevice {
 public:
  using Receiver = std::function<void(std::span<const uint8_t>)>;

  // subtype: "vdagent", "usbredir", "port", ...; portname only for "port".
  CharDevice(std::string subtype, std::string portname = {});
  ~CharDevice();
  CharDevice(const CharDevice&) = delete;
  CharDevice& operator=(const CharDevice&) = delete;

  SpiceBaseInstance* base() { return &slot_.sin.base; }
  SpiceCharDeviceInstance* instance() { return &slot_.sin; }
  const std::string& subtype() const { return subtype_; }
  const std::string& portname() const { return portname_; }

  void set_receiver(Receiver r) { receiver_ = std::move(r); }
  void set_state_listener(std::function<void(bool)> l) { state_listener_ = std::move(l); }
  void set_event_listener(std::function<void(uint8_t)> l) { event_listener_ = std::move(l); }
  void send(std::span<const uint8_t> bytes);
  // For port devices: tell clients the guest side opened/closed the port.
  void port_event(uint8_t event);

  uint64_t bytes_from_client() const { return bytes_in_; }
  uint64_t bytes_to_client() const { return bytes_out_; }

 private:
  struct Slot {
    SpiceCharDeviceInstance sin;  // first member: callbacks cast back to Slot*
    CharDevice* self;
  };
  static CharDevice& from(SpiceCharDeviceInstance* sin) { return *reinterpret_cast<Slot*>(sin)->self; }
  static const SpiceCharDeviceInterface kInterface;
  static void on_state(SpiceCharDeviceInstance* sin, int connected);
  static int on_write(SpiceCharDeviceInstance* sin, const uint8_t* buf, int len);
  static int on_read(SpiceCharDeviceInstance* sin, uint8_t* buf, int len);
  static void on_event(SpiceCharDeviceInstance* sin, uint8_t event);
  static int on_idle_wakeup(void* self);
  void schedule_wakeup();

  Slot slot_;
  std::string subtype_;
  std::string portname_;
  Receiver receiver_;
  std::function<void(bool)> state_listener_;
  std::function<void(uint8_t)> event_listener_;
  std::deque<uint8_t> outgoing_;
  unsigned wakeup_source_ = 0;
  uint64_t bytes_in_ = 0;
  uint64_t bytes_out_ = 0;
};

}  // namespace sc::server
