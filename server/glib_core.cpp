#include "server/glib_core.hpp"

#include "server/interface_base.hpp"

#include <memory>
#include <mutex>

#include <glib-unix.h>
#include <glib.h>

// The C API names these opaque structs; we define them as our own types.
struct SpiceTimer {
  SpiceTimerFunc func = nullptr;
  void* opaque = nullptr;
  std::mutex mutex;
  GSource* source = nullptr;  // armed one-shot, or null
};

struct SpiceWatch {
  int fd = -1;
  SpiceWatchFunc func = nullptr;
  void* opaque = nullptr;
  GSource* source = nullptr;
};

namespace sc::server {
namespace {

GlibCore* g_active_core = nullptr;

void drop_source(GSource*& source) {
  if (!source) return;
  g_source_destroy(source);
  g_source_unref(source);
  source = nullptr;
}

gboolean timer_fired(gpointer data) {
  auto* t = static_cast<SpiceTimer*>(data);
  {
    std::lock_guard lock(t->mutex);
    // One-shot: forget the source before running, so the callback may re-arm.
    if (t->source) {
      g_source_unref(t->source);
      t->source = nullptr;
    }
  }
  t->func(t->opaque);
  return G_SOURCE_REMOVE;
}

SpiceTimer* timer_add(SpiceTimerFunc func, void* opaque) {
  auto t = std::make_unique<SpiceTimer>();
  t->func = func;
  t->opaque = opaque;
  return t.release();  // owned by libspice-server until timer_remove
}

void timer_start(SpiceTimer* t, uint32_t ms) {
  std::lock_guard lock(t->mutex);
  drop_source(t->source);
  t->source = g_timeout_source_new(ms);
  g_source_set_callback(t->source, timer_fired, t, nullptr);
  g_source_attach(t->source, nullptr);
}

void timer_cancel(SpiceTimer* t) {
  std::lock_guard lock(t->mutex);
  drop_source(t->source);
}

void timer_remove(SpiceTimer* t) {
  timer_cancel(t);
  std::unique_ptr<SpiceTimer> owned(t);
}

gboolean watch_fired(gint fd, GIOCondition cond, gpointer data) {
  auto* w = static_cast<SpiceWatch*>(data);
  int events = 0;
  if (cond & (G_IO_IN | G_IO_HUP | G_IO_ERR)) events |= SPICE_WATCH_EVENT_READ;
  if (cond & G_IO_OUT) events |= SPICE_WATCH_EVENT_WRITE;
  w->func(fd, events, w->opaque);
  return G_SOURCE_CONTINUE;
}

void watch_arm(SpiceWatch* w, int mask) {
  drop_source(w->source);
  int cond = 0;
  if (mask & SPICE_WATCH_EVENT_READ) cond |= G_IO_IN | G_IO_HUP | G_IO_ERR;
  if (mask & SPICE_WATCH_EVENT_WRITE) cond |= G_IO_OUT;
  if (!cond) return;
  w->source = g_unix_fd_source_new(w->fd, GIOCondition(cond));
  // glib's documented idiom: the fd source calls back with GUnixFDSourceFunc's signature.
  g_source_set_callback(w->source, G_SOURCE_FUNC(watch_fired), w, nullptr);
  g_source_attach(w->source, nullptr);
}

SpiceWatch* watch_add(int fd, int mask, SpiceWatchFunc func, void* opaque) {
  auto w = std::make_unique<SpiceWatch>();
  w->fd = fd;
  w->func = func;
  w->opaque = opaque;
  watch_arm(w.get(), mask);
  return w.release();  // owned by libspice-server until watch_remove
}

void watch_update_mask(SpiceWatch* w, int mask) { watch_arm(w, mask); }

void watch_remove(SpiceWatch* w) {
  drop_source(w->source);
  std::unique_ptr<SpiceWatch> owned(w);
}

}  // namespace

GlibCore::GlibCore(std::function<void(const ChannelEvent&)> on_channel_event)
    : on_channel_event_(std::move(on_channel_event)) {
  core_ = interface_with_base<SpiceCoreInterface>(SPICE_INTERFACE_CORE, "spice-capture glib core",
                                                  SPICE_INTERFACE_CORE_MAJOR, SPICE_INTERFACE_CORE_MINOR);
  core_.timer_add = timer_add;
  core_.timer_start = timer_start;
  core_.timer_cancel = timer_cancel;
  core_.timer_remove = timer_remove;
  core_.watch_add = watch_add;
  core_.watch_update_mask = watch_update_mask;
  core_.watch_remove = watch_remove;
  core_.channel_event = &GlibCore::channel_event;
  g_active_core = this;
}

GlibCore::~GlibCore() {
  if (g_active_core == this) g_active_core = nullptr;
}

void GlibCore::channel_event(int event, SpiceChannelEventInfo* info) {
  GlibCore* core = g_active_core;
  if (!core || !core->on_channel_event_ || !info) return;
  ChannelEvent e;
  e.event = event;
  e.connection_id = info->connection_id;
  e.type = info->type;
  e.id = info->id;
  e.tls = (info->flags & SPICE_CHANNEL_EVENT_FLAG_TLS) != 0;
  core->on_channel_event_(e);
}

}  // namespace sc::server
