#pragma once
// Joins channel connections into SPICE sessions, from decoded messages only.
//
// A session is named by the id the server gives in main.init (session_id); every
// other channel of it names that id in its link message (connection_id). The
// tracker also notes what display channels share within a session (the pixmap
// cache and GLZ dictionary ids of display.init), holds per-session state for
// consumers (agent reassembly, GLZ dictionary, surfaces...) and tells its listener
// when a channel joins a session and when a session's last channel closes.
// It knows nothing of files or databases: import, the recorder, replay and the
// Wireshark plugin can all drive it.
#include <any>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <typeindex>
#include <unordered_map>

#include "dissect/decode/frame_decode.hpp"
#include "dissect/framing/frame.hpp"

namespace sc::session {

struct DisplayCaches {
  std::optional<uint8_t> pixmap_cache_id;
  std::optional<int64_t> pixmap_cache_size;
  std::optional<uint8_t> glz_dictionary_id;
  std::optional<int64_t> glz_dictionary_window;
};

struct Session {
  uint32_t session_id = 0;
  std::string server;                                  // address:port of the server the main channel used
  std::string client_ip, server_ip;                    // of the channel that started the session
  uint64_t first_ts_ns = 0, last_ts_ns = 0;
  std::set<uint32_t> channels;                         // connections joined, open or closed
  std::set<uint32_t> open_channels;
  std::map<uint32_t, DisplayCaches> display_caches;    // by connection

  // Per-session state of one consumer type, made on first use and dropped with the session.
  template <typename T>
  T& state() {
    auto& slot = states_[std::type_index(typeid(T))];
    if (!slot.has_value()) slot = std::make_shared<T>();
    return *std::any_cast<std::shared_ptr<T>&>(slot);
  }

 private:
  std::unordered_map<std::type_index, std::any> states_;
};

class SessionListener {
 public:
  virtual ~SessionListener() = default;
  virtual void on_channel_joined(uint32_t /*connection*/, Session&) {}
  virtual void on_session_end(Session&) {}
};

class SessionTracker {
 public:
  explicit SessionTracker(SessionListener* listener = nullptr) : listener_(listener) {}

  void channel_opened(uint32_t connection, std::string client_ip, std::string server_ip, std::string server,
                      uint64_t ts_ns);
  // A TLS channel shows nothing of its session: it joins the newest live session
  // between the same client and server addresses (SPICE's tls-port is another port
  // of the same server), if there is one.
  void tls_channel_opened(uint32_t connection, uint64_t ts_ns);
  // The link stage finished (or the channel was inferred mid-stream).
  void channel_known(uint32_t connection, const framing::ChannelState& state);
  void frame(uint32_t connection, const framing::Frame& frame, const framing::ChannelState& state,
             const decode::DecodedFrame& decoded);
  void channel_closed(uint32_t connection, uint64_t ts_ns);
  // Ends every session still open (end of the capture).
  void finish();

  Session* session_of(uint32_t connection);
  size_t live_sessions() const { return sessions_.size(); }

 private:
  struct Conn {
    std::string client_ip, server_ip, server;
    uint64_t first_ts_ns = 0;
    std::optional<uint32_t> session;
  };
  void join(uint32_t connection, uint32_t session_id, uint64_t ts_ns);
  void end(uint32_t session_id);

  SessionListener* listener_;
  std::unordered_map<uint32_t, Conn> conns_;
  std::unordered_map<uint32_t, Session> sessions_;
};

}  // namespace sc::session
