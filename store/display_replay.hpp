#pragma once
// A stored session's display channels run through a DisplayState again, message by
// message in capture order: what `render`, `images` and `streams` are built on.
// Images are decoded here, on demand, not at import.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "dissect/display/display_state.hpp"
#include "store/database.hpp"

namespace sc::store {

struct DisplaySelection {
  std::optional<int64_t> capture;   // captures.id
  std::optional<int64_t> session;   // SPICE session id; default: the first session with a display channel
  std::optional<int64_t> channel;   // one display channel (channels.id)
};

struct DisplaySessionInfo {
  int64_t capture = 0;
  int64_t session_row = 0;          // sessions.id (0: channels not joined to a session)
  int64_t session_id = 0;           // SPICE session id
  uint64_t capture_first_ts = 0;    // times are given relative to this, as the query commands do
  uint64_t first_ts = 0, last_ts = 0;
  std::vector<int64_t> channels;    // display channels (channels.id)
  size_t sessions_with_display = 0; // in the capture(s) selected: more than one means a choice was made
};

// Finds the session to replay; an error names what matched nothing.
Result<DisplaySessionInfo> find_display_session(Database& db, const DisplaySelection& sel);

struct DisplayStep {
  int64_t message = 0;  // message_rows.id
  int64_t channel = 0;
  uint64_t ts_ns = 0;
};

// Runs every display message of the session through `state`. `before` sees each
// message before it is applied and may stop the run by returning false.
// Connections are the channels' ids (channels.id) in the state.
Result<void> replay_display(Database& db, const DisplaySessionInfo& session, display::DisplayState& state,
                            const std::function<bool(const DisplayStep&)>& before = {});

}  // namespace sc::store
