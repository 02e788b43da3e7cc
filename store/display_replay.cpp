#include "store/display_replay.hpp"

#include <spice/enums.h>

#include <array>

namespace sc::store {

Result<SessionChannels> find_display_session(Database& db, const SessionSelection& sel) {
  static constexpr std::array<uint8_t, 1> kTypes = {SPICE_CHANNEL_DISPLAY};
  return find_session(db, sel, kTypes, "display", "display");
}

Result<void> replay_display(Database& db, const SessionChannels& session, display::DisplayState& state,
                            const std::function<bool(const ReplayStep&)>& before) {
  return replay_messages(db, session.channels, before, [&](const ReplayStep& step, const LoadedMessage& m) {
    state.apply_frame(static_cast<uint32_t>(step.channel), step.ts_ns, m.frame);
  });
}

}  // namespace sc::store
