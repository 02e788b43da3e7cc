#pragma once
// A stored session's messages run through per-session consumers again, message
// by message in capture order: what the display commands (display_replay.hpp)
// and the audio commands (audio_replay.hpp) are built on. Finding the session
// a command means, from the selection every such command takes, is here too.
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "store/database.hpp"
#include "store/message_loader.hpp"

namespace sc::store {

struct SessionSelection {
  std::optional<int64_t> capture;   // captures.id
  std::optional<int64_t> session;   // SPICE session id; default: the first session with a matching channel
  std::optional<int64_t> channel;   // one channel (channels.id)
};

struct SessionChannels {
  int64_t capture = 0;
  int64_t session_row = 0;          // sessions.id (0: channels not joined to a session)
  int64_t session_id = 0;           // SPICE session id
  uint64_t capture_first_ts = 0;    // times are given relative to this, as the query commands do
  uint64_t first_ts = 0, last_ts = 0;
  std::vector<int64_t> channels;    // the matching channels (channels.id)
  size_t sessions_matching = 0;     // in the capture(s) selected: more than one means a choice was made
};

// The first session (by capture, then session) with a channel of one of
// `types` (SPICE_CHANNEL_*) that `sel` selects, and those channels of it.
// `what` names such channels in the error ("display", "playback or record"),
// `type_name` is the `channels --type` value that lists them.
Result<SessionChannels> find_session(Database& db, const SessionSelection& sel, std::span<const uint8_t> types,
                                     std::string_view what, std::string_view type_name);

// The session's other channels of `types` (channels.id, in id order); none when
// the session's channels are not joined to a session.
Result<std::vector<int64_t>> session_channels(Database& db, const SessionChannels& session,
                                              std::span<const uint8_t> types);

struct ReplayStep {
  int64_t message = 0;  // message_rows.id
  int64_t channel = 0;
  uint64_t ts_ns = 0;
};

// Every stored message of `channels` in capture order (time, then id), loaded
// and decoded. `before` sees each step first and may stop the run by returning
// false; `apply` gets the loaded message (skipped: messages with no stored
// bytes or no layout).
Result<void> replay_messages(Database& db, std::span<const int64_t> channels,
                             const std::function<bool(const ReplayStep&)>& before,
                             const std::function<void(const ReplayStep&, const LoadedMessage&)>& apply);

// A loaded message as consumers take it: its own fields, then each sub-message.
template <typename Fn>
void for_each_decoded(const LoadedMessage& m, Fn&& fn) {
  fn(m.frame.own, m.frame.own_body);
  for (const auto& sub : m.frame.subs.items) fn(sub.decoded, sub.body);
}

}  // namespace sc::store
