#pragma once
// SpiceCoreInterface (CORE 1.3) on the default glib main context: libspice-server
// asks its host for timers and fd watches through it, and reports channel
// connections with channel_event. One instance per process: channel_event has
// no opaque pointer, so the active core is process-global.
//
// Timers may be started from the spice worker thread (upstream's own test host
// does that), so timer state is locked; glib sources are thread-safe to attach
// and destroy.
#include <functional>

#include <spice.h>

namespace sc::server {

struct ChannelEvent {
  int event = 0;          // SPICE_CHANNEL_EVENT_*
  int connection_id = 0;
  int type = 0;           // SPICE_CHANNEL_*
  int id = 0;
  bool tls = false;
};

class GlibCore {
 public:
  explicit GlibCore(std::function<void(const ChannelEvent&)> on_channel_event);
  ~GlibCore();
  GlibCore(const GlibCore&) = delete;
  GlibCore& operator=(const GlibCore&) = delete;

  SpiceCoreInterface* interface() { return &core_; }

 private:
  static void channel_event(int event, SpiceChannelEventInfo* info);
  SpiceCoreInterface core_{};
  std::function<void(const ChannelEvent&)> on_channel_event_;
};

}  // namespace sc::server
