#pragma once
// A stored session's display channels run through a DisplayState again, message by
// message in capture order: what `render`, `images` and `streams` are built on
// (images decoded on demand; import decodes them only with --images). Session
// finding and the message loop are session_replay.hpp's.
#include <cstdint>
#include <functional>

#include "dissect/display/display_state.hpp"
#include "store/session_replay.hpp"

namespace sc::store {

// Finds the session to replay (sel.channel: one display channel; the result's
// channels: the session's display channels); an error names what matched nothing.
Result<SessionChannels> find_display_session(Database& db, const SessionSelection& sel);

// Runs every display message of the session through `state`. `before` sees each
// message before it is applied and may stop the run by returning false.
// Connections are the channels' ids (channels.id) in the state.
Result<void> replay_display(Database& db, const SessionChannels& session, display::DisplayState& state,
                            const std::function<bool(const ReplayStep&)>& before = {});

}  // namespace sc::store
