#include "qxl-sim/driver.hpp"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include <glib.h>

namespace sc::qxl {

Driver::Driver(Device& device, std::unique_ptr<Scenario> scenario, Options options,
               EventSink events)
    : device_(device),
      scenario_(std::move(scenario)),
      options_(options),
      events_(std::move(events)),
      canvas_(scenario_->initial_size()),
      builder_(scenario_->initial_size()) {}

Driver::~Driver() { stop(); }

void Driver::start() {
  if (!device_.has_primary()) device_.create_primary(scenario_->initial_size());
  const double fps = std::clamp(options_.fps, 0.1, 1000.0);
  timer_ = g_timeout_add(guint(std::lround(1000.0 / fps)), &Driver::on_tick, this);
}

void Driver::stop() {
  if (timer_) g_source_remove(timer_);
  timer_ = 0;
}

int Driver::on_tick(void* self) {
  static_cast<Driver*>(self)->tick();
  return G_SOURCE_CONTINUE;
}

void Driver::request_resize(Size size) {
  if (size.width < 64 || size.height < 64 || size.width > 4096 || size.height > 4096) return;
  resize_request_ = size;
}

void Driver::tick() {
  if (in_progress_) {
    if (!run_pending()) return;
    in_progress_ = false;
    ++stats_.frame;
  }
  if (resize_request_) {
    // Client-requested sizes go between frames, behind the same ring barrier.
    if (device_.backlog() > 0) return;
    apply(ResizeOp{*resize_request_});
    resize_request_.reset();
  }
  const bool done = options_.frames && stats_.frame >= options_.frames;
  if (done) {
    stats_.finished = true;
    if (!finished_reported_ && device_.backlog() == 0) {
      finished_reported_ = true;
      emit(events_, "workload.finished", {{"frames", stats_.frame}, {"commands", stats_.commands}});
      if (on_finished_) on_finished_();
    }
    return;
  }
  if (device_.backlog() > options_.max_backlog) {
    ++stats_.skipped_ticks;
    return;
  }
  pending_.clear();
  pending_pos_ = 0;
  scenario_->frame(stats_.frame, pending_);
  in_progress_ = true;
  if (run_pending()) {
    in_progress_ = false;
    ++stats_.frame;
  }
}

bool Driver::run_pending() {
  while (pending_pos_ < pending_.size()) {
    const Op& op = pending_[pending_pos_];
    if (std::holds_alternative<ResizeOp>(op) && device_.backlog() > 0) return false;
    apply(op);
    ++pending_pos_;
  }
  pending_.clear();
  pending_pos_ = 0;
  return true;
}

void Driver::apply(const Op& op) {
  ++stats_.ops;
  canvas_.apply(op);
  if (const auto* r = std::get_if<ResizeOp>(&op)) {
    device_.destroy_primary();
    device_.create_primary(r->size);
    builder_.set_primary_size(r->size);
    return;
  }
  if (const auto* m = std::get_if<MonitorsOp>(&op)) {
    device_.set_monitors(m->heads);
    return;
  }
  if (const auto* b = std::get_if<BlitOp>(&op)) stats_.image_bytes += b->image->pixels.size() * 4;
  BuiltCommand built = builder_.build(op);
  if (!built.command) return;
  ++stats_.commands;
  if (built.cursor_ring)
    device_.push_cursor(std::move(built.command));
  else
    device_.push(std::move(built.command));
}

Driver::SelfCheck Driver::self_check() {
  SelfCheck r;
  const Framebuffer& expected = canvas_.primary();
  if (device_.primary_size() != expected.size()) return r;
  r.server_pixels = device_.read_primary(expected.bounds());
  if (r.server_pixels.empty()) return r;
  r.differing_pixels = expected.diff(r.server_pixels.data(), int32_t(expected.size().width));
  return r;
}

}  // namespace sc::qxl
