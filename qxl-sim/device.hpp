#pragma once
// The simulated QXL PCI device as libspice-server sees it (QXLInterface 3.3).
//
// Memory: one slot group with one "identity" slot covering the whole address
// space (id and generation bits 1, delta 0), so every QXLPHYSICAL is a host
// pointer. Rings: the command and cursor rings are locked queues; the spice
// worker thread pops them in get_command/get_cursor_command and hands commands
// back through release_resource, which frees them. Commands the server still
// holds at shutdown are freed by shutdown(); counters prove nothing leaked.
//
// Threads: push*, primary surface calls, update_area and monitors config are for
// the main (host loop) thread only. The spice_qxl_* calls they make block until
// the worker handled them, so they must never run inside a worker callback.
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <spice.h>

#include "qxl-sim/command.hpp"
#include "qxl-sim/events.hpp"
#include "qxl-sim/geometry.hpp"

namespace sc::qxl {

class Device {
 public:
  struct Counters {
    uint64_t pushed = 0;          // commands put on either ring
    uint64_t fetched = 0;         // taken by the worker
    uint64_t released = 0;        // given back through release_resource
    uint64_t freed_at_shutdown = 0;
    uint64_t cursor_pushed = 0;
    uint64_t primary_creates = 0;
    uint64_t in_flight = 0;       // fetched, not yet released
    uint64_t queued = 0;          // pushed, not yet fetched
  };

  static constexpr uint32_t kSurfaces = 1024;  // QEMU's default; replay expects it

  explicit Device(EventSink events = {});
  ~Device();
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  QXLInstance* instance() { return &slot_.qxl; }
  bool attached() const { return attached_; }

  void create_primary(Size size);
  void destroy_primary();
  bool has_primary() const { return !primary_.empty(); }
  Size primary_size() const { return primary_size_; }

  void push(CommandPtr command);
  void push_cursor(CommandPtr command);
  // Commands waiting on the rings (the driver throttles on this).
  size_t backlog() const;

  // Asks the worker to render `area` of the primary into device memory and
  // returns the primary's pixels (top-down, tightly packed).
  std::vector<uint32_t> read_primary(const Rect& area);
  // Announces heads on the primary (async; completion is an event).
  void set_monitors(const std::vector<Rect>& heads);

  // Frees whatever the server did not release. Call after spice_server_destroy.
  void shutdown();
  Counters counters() const;

 private:
  struct Slot {
    QXLInstance qxl;  // first member: callbacks cast QXLInstance* back to Slot*
    Device* self;
  };
  static Device& from(QXLInstance* qin) { return *reinterpret_cast<Slot*>(qin)->self; }
  static const QXLInterface kInterface;

  static void on_attached(QXLInstance* qin);
  static void on_set_compression_level(QXLInstance* qin, int level);
  static void on_get_init_info(QXLInstance* qin, QXLDevInitInfo* info);
  static int on_get_command(QXLInstance* qin, QXLCommandExt* ext);
  static int on_req_cmd_notification(QXLInstance* qin);
  static void on_release_resource(QXLInstance* qin, QXLReleaseInfoExt info);
  static int on_get_cursor_command(QXLInstance* qin, QXLCommandExt* ext);
  static int on_req_cursor_notification(QXLInstance* qin);
  static void on_notify_update(QXLInstance* qin, uint32_t update_id);
  static int on_flush_resources(QXLInstance* qin);
  static void on_async_complete(QXLInstance* qin, uint64_t cookie);
  static void on_update_area_complete(QXLInstance* qin, uint32_t surface_id, QXLRect* rects,
                                      uint32_t n);
  static void on_set_client_capabilities(QXLInstance* qin, uint8_t present, uint8_t* caps);
  static int on_client_monitors_config(QXLInstance* qin, VDAgentMonitorsConfig* config);

  struct Ring {
    std::deque<CommandPtr> queue;
    bool wants_wakeup = false;  // the worker said "empty, wake me"
  };
  void push_to(Ring& ring, CommandPtr command, bool cursor);
  int pop_from(Ring& ring, QXLCommandExt* ext);
  int request_notification(Ring& ring);

  Slot slot_;
  EventSink events_;
  std::atomic<bool> attached_{false};

  mutable std::mutex mutex_;  // guards the rings, in_flight_ and counters_
  Ring display_;
  Ring cursor_;
  std::unordered_map<uint64_t, CommandPtr> in_flight_;
  Counters counters_;

  std::vector<uint32_t> primary_;
  Size primary_size_;
  std::vector<std::unique_ptr<std::byte[]>> monitors_configs_;  // kept: the worker reads them async
};

}  // namespace sc::qxl
