#include "store/display_replay.hpp"

#include <spice/enums.h>

#include <array>

namespace sc::store {

Result<DisplaySessionInfo> find_display_session(Database& db, const DisplaySelection& sel) {
  static constexpr std::array<uint8_t, 1> kTypes = {SPICE_CHANNEL_DISPLAY};
  return find_session(db, sel, kTypes, "display", "display");
}

Result<void> replay_display(Database& db, const DisplaySessionInfo& session, display::DisplayState& state,
                            const std::function<bool(const DisplayStep&)>& before) {
  return replay_messages(db, session.channels, before, [&](const ReplayStep& step, const LoadedMessage& m) {
    for_each_decoded(m, [&](const decode::DecodedMessage& d, std::span<const uint8_t> body) {
      state.apply(static_cast<uint32_t>(step.channel), step.ts_ns, d, body);
    });
  });
}

}  // namespace sc::store
