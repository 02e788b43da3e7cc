#pragma once
// A stored session's display channels run through a DisplayState again, message by
// message in capture order: what `render`, `images` and `streams` are built on.
// Images are decoded here, on demand, not at import. Session finding and the
// message loop are session_replay.hpp's.
#include <cstdint>
#include <functional>

#include "dissect/display/display_state.hpp"
#include "store/session_replay.hpp"

namespace sc::store {

using DisplaySelection = SessionSelection;   // channel: one display channel
using DisplaySessionInfo = SessionChannels;  // channels: the session's display channels
using DisplayStep = ReplayStep;

// Finds the session to replay; an error names what matched nothing.
Result<DisplaySessionInfo> find_display_session(Database& db, const DisplaySelection& sel);

// Runs every display message of the session through `state`. `before` sees each
// message before it is applied and may stop the run by returning false.
// Connections are the channels' ids (channels.id) in the state.
Result<void> replay_display(Database& db, const DisplaySessionInfo& session, display::DisplayState& state,
                            const std::function<bool(const DisplayStep&)>& before = {});

}  // namespace sc::store
