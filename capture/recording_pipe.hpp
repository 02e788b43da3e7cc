#pragma once
// The recorder's hand-over from the network to the decode stage: what the relay
// reads (capture::Relay, on its thread) is queued and, on a thread of its own,
// framed per connection (capture::FramedConnection) and given to a ConnectionSink
// (the decode fan-out into the store), exactly as `import` gives it.
//
// Contract: events reach the sink in the order the relay saw them. The queue is
// bounded in bytes; when it is full the relay thread waits in on_bytes, which
// holds relaying up rather than dropping or buffering without bound. Every
// `tick` (also when no traffic comes) the pipe calls its tick function on the
// decode thread, where the store writer is flushed.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "capture/framed_connection.hpp"
#include "capture/relay.hpp"

namespace sc::capture {

struct RecordingPipeOptions {
  size_t max_queued_bytes = 32u << 20;
  std::chrono::milliseconds tick{250};
  framing::FramerOptions framer;
};

struct Refusal {
  Endpoint client;
  uint64_t ts_ns = 0;
  std::string why;
};

class RecordingPipe : public RelayObserver {
 public:
  RecordingPipe(ConnectionSink& sink, RecordingPipeOptions options, std::function<void()> tick);
  ~RecordingPipe() override;
  RecordingPipe(const RecordingPipe&) = delete;
  RecordingPipe& operator=(const RecordingPipe&) = delete;

  // RelayObserver: called on the relay thread.
  void on_open(const RelayedConnection& c, uint64_t ts_ns) override;
  void on_bytes(uint32_t id, schema::Direction dir, std::span<const uint8_t> bytes, uint64_t ts_ns) override;
  void on_close(uint32_t id, uint64_t ts_ns, const std::string& how,
                std::optional<schema::Direction> abrupt_from) override;
  void on_refused(const Endpoint& client, uint64_t ts_ns, const std::string& why) override;

  // Decodes what is queued, closes the connections still open, stops the thread.
  // Call once the relay has stopped.
  void finish();

  std::vector<Refusal> refusals() const;
  size_t peak_queued_bytes() const;
  // Connections that ended abruptly (a reset or error on either side).
  uint64_t abrupt_ends() const;

 private:
  struct Event {
    enum Kind : uint8_t { kOpen, kBytes, kClose } kind = kBytes;
    uint32_t id = 0;
    schema::Direction dir = schema::Direction::C2S;
    uint64_t ts_ns = 0;
    std::vector<uint8_t> bytes;
    std::unique_ptr<RelayedConnection> opened;
    std::string how;
    std::optional<schema::Direction> abrupt_from;
  };
  struct Open {
    std::unique_ptr<FramedConnection> framed;
    TlsInfo tls;  // the client leg's TLS; its byte counts (kept for every connection) are the stream offsets
    bool client_tls = false;
  };
  void push(Event e);
  void run();
  void apply(Event& e);

  ConnectionSink& sink_;
  RecordingPipeOptions options_;
  std::function<void()> tick_;

  mutable std::mutex mutex_;
  std::condition_variable ready_, room_;
  std::deque<Event> queue_;
  size_t queued_bytes_ = 0, peak_queued_ = 0;
  bool done_ = false;
  std::vector<Refusal> refusals_;

  // Decode thread only.
  std::unordered_map<uint32_t, Open> open_;
  std::atomic<uint64_t> abrupt_{0};
  std::thread thread_;
};

}  // namespace sc::capture
