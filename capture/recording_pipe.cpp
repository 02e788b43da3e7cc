#include "capture/recording_pipe.hpp"

namespace sc::capture {

namespace {
constexpr size_t kWakeBytes = 1u << 20;
constexpr std::chrono::milliseconds kPoll{5};
}  // namespace

RecordingPipe::RecordingPipe(ConnectionSink& sink, RecordingPipeOptions options, std::function<void()> tick)
    : sink_(sink), options_(options), tick_(std::move(tick)), thread_([this] { run(); }) {}

RecordingPipe::~RecordingPipe() { finish(); }

void RecordingPipe::push(Event e) {
  std::unique_lock lock(mutex_);
  const size_t n = e.bytes.size();
  // A block larger than the whole bound still goes through once the queue is empty.
  room_.wait(lock, [&] { return queued_bytes_ == 0 || queued_bytes_ + n <= options_.max_queued_bytes; });
  queued_bytes_ += n;
  peak_queued_ = std::max(peak_queued_, queued_bytes_);
  queue_.push_back(std::move(e));
  // The decode thread looks every few milliseconds anyway; waking it for each
  // block would cost the relay a context switch per read (latency, and CPU the
  // relay needs on a small machine). Only a filling queue is worth a wake-up.
  const bool wake = queued_bytes_ >= kWakeBytes;
  lock.unlock();
  if (wake) ready_.notify_one();
}

void RecordingPipe::on_open(const RelayedConnection& c, uint64_t ts_ns) {
  Event e;
  e.kind = Event::kOpen;
  e.id = c.id;
  e.ts_ns = ts_ns;
  e.opened = std::make_unique<RelayedConnection>(c);
  push(std::move(e));
}

void RecordingPipe::on_bytes(uint32_t id, schema::Direction dir, std::span<const uint8_t> bytes, uint64_t ts_ns) {
  Event e;
  e.id = id;
  e.dir = dir;
  e.ts_ns = ts_ns;
  e.bytes.assign(bytes.begin(), bytes.end());
  push(std::move(e));
}

void RecordingPipe::on_close(uint32_t id, uint64_t ts_ns, const std::string& how,
                             std::optional<schema::Direction> abrupt_from) {
  Event e;
  e.kind = Event::kClose;
  e.id = id;
  e.ts_ns = ts_ns;
  e.how = how;
  e.abrupt_from = abrupt_from;
  push(std::move(e));
}

void RecordingPipe::on_refused(const Endpoint& client, uint64_t ts_ns, const std::string& why) {
  std::lock_guard lock(mutex_);
  if (refusals_.size() < 1000) refusals_.push_back({client, ts_ns, why});
}

void RecordingPipe::run() {
  auto next_tick = std::chrono::steady_clock::now() + options_.tick;
  std::deque<Event> batch;
  for (;;) {
    bool done = false;
    {
      std::unique_lock lock(mutex_);
      const auto wake = std::min(next_tick, std::chrono::steady_clock::now() + kPoll);
      ready_.wait_until(lock, wake, [&] { return queued_bytes_ >= kWakeBytes || done_; });
      batch.swap(queue_);
      queued_bytes_ = 0;
      done = done_;
    }
    room_.notify_all();
    for (Event& e : batch) apply(e);
    batch.clear();
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_tick || done) {
      if (tick_) tick_();
      next_tick = now + options_.tick;
    }
    if (done) return;
  }
}

void RecordingPipe::apply(Event& e) {
  switch (e.kind) {
    case Event::kOpen: {
      const RelayedConnection& r = *e.opened;
      ConnectionInfo info;
      info.id = r.id;
      info.client = r.client;
      info.server = r.server;
      info.first_ts_ns = e.ts_ns;
      Open& o = open_[r.id];
      o.client_tls = r.client_tls;
      o.tls.version = r.client_tls_version;
      o.tls.sni = r.client_sni;
      o.tls.negotiated = r.client_tls;
      o.framed = std::make_unique<FramedConnection>(sink_, info, options_.framer);
      sink_.on_open(info);
      break;
    }
    case Event::kBytes: {
      auto it = open_.find(e.id);
      if (it == open_.end()) return;
      Open& o = it->second;
      o.tls.bytes[e.dir == schema::Direction::C2S ? 0 : 1] += e.bytes.size();
      o.tls.last_ts_ns = e.ts_ns;
      o.framed->feed(e.dir, e.bytes, e.ts_ns);
      break;
    }
    case Event::kClose: {
      auto it = open_.find(e.id);
      if (it == open_.end()) return;
      Open& o = it->second;
      const ConnectionInfo& info = o.framed->info();
      if (e.abrupt_from) {
        ++abrupt_;
        framing::Problem p;
        p.severity = decode::Severity::Warning;
        p.code = "relay_abrupt_end";
        p.dir = *e.abrupt_from;
        p.stream_offset = o.tls.bytes[p.dir == schema::Direction::C2S ? 0 : 1];
        p.ts_ns = e.ts_ns;
        p.text = e.how;
        sink_.on_problem(info, p, o.framed->state());
      }
      // The client leg's TLS (the bytes stored are the decrypted ones).
      if (o.client_tls) sink_.on_tls(info, o.tls);
      o.framed->close(e.ts_ns);
      open_.erase(it);
      break;
    }
  }
}

void RecordingPipe::finish() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    done_ = true;
  }
  ready_.notify_one();
  thread_.join();
  // Connections the relay never reported closed (it always does once stopped; this
  // is for a pipe finished early).
  const uint64_t now = wall_clock_ns();
  for (auto& [id, o] : open_) o.framed->close(now);
  open_.clear();
}

std::vector<Refusal> RecordingPipe::refusals() const {
  std::lock_guard lock(mutex_);
  return refusals_;
}

size_t RecordingPipe::peak_queued_bytes() const {
  std::lock_guard lock(mutex_);
  return peak_queued_;
}

uint64_t RecordingPipe::abrupt_ends() const { return abrupt_; }

}  // namespace sc::capture
