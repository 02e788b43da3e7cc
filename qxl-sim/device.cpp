#include "qxl-sim/device.hpp"

#include "server/interface_base.hpp"

#include <cstring>

namespace sc::qxl {

const QXLInterface Device::kInterface = [] {
  auto i = server::interface_with_base<QXLInterface>(SPICE_INTERFACE_QXL, "spice-capture simulated qxl", SPICE_INTERFACE_QXL_MAJOR, SPICE_INTERFACE_QXL_MINOR);
  i.attached_worker = &Device::on_attached;
  i.set_compression_level = &Device::on_set_compression_level;
  i.get_init_info = &Device::on_get_init_info;
  i.get_command = &Device::on_get_command;
  i.req_cmd_notification = &Device::on_req_cmd_notification;
  i.release_resource = &Device::on_release_resource;
  i.get_cursor_command = &Device::on_get_cursor_command;
  i.req_cursor_notification = &Device::on_req_cursor_notification;
  i.notify_update = &Device::on_notify_update;
  i.flush_resources = &Device::on_flush_resources;
  i.async_complete = &Device::on_async_complete;
  i.update_area_complete = &Device::on_update_area_complete;
  i.set_client_capabilities = &Device::on_set_client_capabilities;
  i.client_monitors_config = &Device::on_client_monitors_config;
  return i;
}();

Device::Device(EventSink events) : events_(std::move(events)) {
  std::memset(&slot_.qxl, 0, sizeof slot_.qxl);
  slot_.qxl.base.sif = &kInterface.base;
  slot_.qxl.id = 0;
  slot_.self = this;
}

Device::~Device() { shutdown(); }

// ---- worker-facing callbacks ------------------------------------------------

void Device::on_attached(QXLInstance* qin) {
  Device& d = from(qin);
  QXLDevMemSlot slot{};
  slot.slot_group_id = 0;
  slot.slot_id = 0;
  slot.generation = 0;
  slot.virt_start = 0;
  slot.virt_end = ~uintptr_t(0);
  slot.addr_delta = 0;
  slot.qxl_ram_size = ~uint32_t(0);
  spice_qxl_add_memslot(qin, &slot);
  d.attached_ = true;
  emit(d.events_, "qxl.attached");
}

void Device::on_set_compression_level(QXLInstance* qin, int level) {
  emit(from(qin).events_, "qxl.compression_level", {{"level", level}});
}

void Device::on_get_init_info(QXLInstance*, QXLDevInitInfo* info) {
  std::memset(info, 0, sizeof *info);
  info->num_memslots_groups = 1;
  info->num_memslots = 1;
  info->memslot_gen_bits = 1;
  info->memslot_id_bits = 1;
  info->qxl_ram_size = ~uint32_t(0);
  info->internal_groupslot_id = 0;
  info->n_surfaces = kSurfaces;
}

int Device::pop_from(Ring& ring, QXLCommandExt* ext) {
  std::lock_guard lock(mutex_);
  if (ring.queue.empty()) return 0;
  CommandPtr c = std::move(ring.queue.front());
  ring.queue.pop_front();
  *ext = c->ext();
  ++counters_.fetched;
  in_flight_[c->release_id()] = std::move(c);
  return 1;
}

int Device::request_notification(Ring& ring) {
  std::lock_guard lock(mutex_);
  if (!ring.queue.empty()) return 0;  // "poll again": commands are pending
  ring.wants_wakeup = true;
  return 1;
}

int Device::on_get_command(QXLInstance* qin, QXLCommandExt* ext) {
  Device& d = from(qin);
  return d.pop_from(d.display_, ext);
}
int Device::on_req_cmd_notification(QXLInstance* qin) {
  Device& d = from(qin);
  return d.request_notification(d.display_);
}
int Device::on_get_cursor_command(QXLInstance* qin, QXLCommandExt* ext) {
  Device& d = from(qin);
  return d.pop_from(d.cursor_, ext);
}
int Device::on_req_cursor_notification(QXLInstance* qin) {
  Device& d = from(qin);
  return d.request_notification(d.cursor_);
}

void Device::on_release_resource(QXLInstance* qin, QXLReleaseInfoExt info) {
  Device& d = from(qin);
  CommandPtr dead;
  {
    std::lock_guard lock(d.mutex_);
    auto it = d.in_flight_.find(info.info->id);
    if (it == d.in_flight_.end()) return;  // not ours: nothing to free
    dead = std::move(it->second);
    d.in_flight_.erase(it);
    ++d.counters_.released;
  }
  // `dead` is destroyed here, outside the lock (a replay command's free runs then).
}

void Device::on_notify_update(QXLInstance*, uint32_t) {}
int Device::on_flush_resources(QXLInstance*) { return 0; }

void Device::on_async_complete(QXLInstance* qin, uint64_t cookie) {
  emit(from(qin).events_, "qxl.async_complete", {{"cookie", cookie}});
}

void Device::on_update_area_complete(QXLInstance*, uint32_t, QXLRect*, uint32_t) {}

void Device::on_set_client_capabilities(QXLInstance* qin, uint8_t present, uint8_t* caps) {
  emit(from(qin).events_, "qxl.client_capabilities",
       {{"present", present != 0}, {"caps0", present ? caps[0] : 0}});
}

// Returning 0 tells the server this device does not take client monitor
// layouts itself, so it forwards them to the guest agent (which resizes).
int Device::on_client_monitors_config(QXLInstance*, VDAgentMonitorsConfig*) { return 0; }

// ---- main-thread API ----------------------------------------------------------

void Device::push_to(Ring& ring, CommandPtr command, bool cursor) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    ring.queue.push_back(std::move(command));
    ++counters_.pushed;
    if (cursor) ++counters_.cursor_pushed;
    wake = ring.wants_wakeup;
    ring.wants_wakeup = false;
  }
  if (wake && attached_) spice_qxl_wakeup(instance());
}

void Device::push(CommandPtr command) { push_to(display_, std::move(command), false); }
void Device::push_cursor(CommandPtr command) { push_to(cursor_, std::move(command), true); }

size_t Device::backlog() const {
  std::lock_guard lock(mutex_);
  return display_.queue.size() + cursor_.queue.size();
}

void Device::create_primary(Size size) {
  primary_size_ = size;
  primary_.assign(size_t(size.width) * size.height, 0);
  QXLDevSurfaceCreate s{};
  s.width = size.width;
  s.height = size.height;
  s.stride = int32_t(size.width * 4);  // positive: top-down
  s.format = SPICE_SURFACE_FMT_32_xRGB;
  s.position = 0;
  s.mouse_mode = 1;  // the device can do client (absolute) mouse mode
  s.flags = 0;
  s.type = QXL_SURF_TYPE_PRIMARY;
  s.mem = physical(primary_.data());
  s.group_id = 0;
  spice_qxl_create_primary_surface(instance(), 0, &s);
  {
    std::lock_guard lock(mutex_);
    ++counters_.primary_creates;
  }
  emit(events_, "qxl.primary_created", {{"width", size.width}, {"height", size.height}});
  spice_qxl_wakeup(instance());
}

void Device::destroy_primary() {
  if (primary_.empty()) return;
  spice_qxl_destroy_primary_surface(instance(), 0);
  // The worker no longer touches the old memory once the call returned.
  primary_.clear();
  primary_.shrink_to_fit();
  emit(events_, "qxl.primary_destroyed");
}

std::vector<uint32_t> Device::read_primary(const Rect& area) {
  if (primary_.empty()) return {};
  QXLRect r = to_qxl(area.intersect(Rect::of(primary_size_)));
  spice_qxl_update_area(instance(), 0, &r, nullptr, 0, 1);
  return primary_;
}

void Device::set_monitors(const std::vector<Rect>& heads) {
  if (heads.empty()) return;
  const size_t bytes = sizeof(QXLMonitorsConfig) + heads.size() * sizeof(QXLHead);
  auto block = std::make_unique<std::byte[]>(bytes);
  auto* cfg = reinterpret_cast<QXLMonitorsConfig*>(block.get());
  cfg->count = uint16_t(heads.size());
  cfg->max_allowed = uint16_t(heads.size());
  for (size_t i = 0; i < heads.size(); ++i) {
    QXLHead& h = cfg->heads[i];
    h.id = uint32_t(i);
    h.surface_id = 0;
    h.width = uint32_t(heads[i].w);
    h.height = uint32_t(heads[i].h);
    h.x = uint32_t(heads[i].x);
    h.y = uint32_t(heads[i].y);
    h.flags = 0;
  }
  spice_qxl_monitors_config_async(instance(), physical(cfg), 0, monitors_configs_.size() + 1);
  monitors_configs_.push_back(std::move(block));
  // Keep only a few: the worker has copied older ones long before.
  if (monitors_configs_.size() > 8) monitors_configs_.erase(monitors_configs_.begin());
  emit(events_, "qxl.monitors_config", {{"heads", heads.size()}});
}

void Device::shutdown() {
  std::unordered_map<uint64_t, CommandPtr> in_flight;
  std::deque<CommandPtr> display, cursor;
  {
    std::lock_guard lock(mutex_);
    counters_.freed_at_shutdown += in_flight_.size() + display_.queue.size() + cursor_.queue.size();
    in_flight.swap(in_flight_);
    display.swap(display_.queue);
    cursor.swap(cursor_.queue);
  }
}

Device::Counters Device::counters() const {
  std::lock_guard lock(mutex_);
  Counters c = counters_;
  c.in_flight = in_flight_.size();
  c.queued = display_.queue.size() + cursor_.queue.size();
  return c;
}

}  // namespace sc::qxl
