#include "store/audio_replay.hpp"

#include <spice/enums.h>

#include <array>
#include <set>

#include "dissect/decode/field_view.hpp"
#include "dissect/framing/frame.hpp"

namespace sc::store {

namespace {

constexpr std::array<uint8_t, 2> kAudioTypes = {SPICE_CHANNEL_PLAYBACK, SPICE_CHANNEL_RECORD};
constexpr std::array<uint8_t, 1> kMainType = {SPICE_CHANNEL_MAIN};

struct Loss {
  int64_t channel = 0;
  uint64_t ts_ns = 0;
};

// Where the capture lost bytes of these channels, in time order.
Result<std::vector<Loss>> losses(Database& db, std::span<const int64_t> channels) {
  std::vector<Loss> out;
  if (channels.empty()) return out;
  std::string in;
  for (int64_t c : channels) in += (in.empty() ? "" : ",") + std::to_string(c);
  auto rows = db.query("SELECT channel, coalesce(ts_ns, 0) FROM problems WHERE code = ? AND channel IN (" + in +
                           ") ORDER BY coalesce(ts_ns, 0), id",
                       {Cell{std::string(framing::kGapCode)}});
  if (!rows) return rows.error();
  for (const auto& r : rows->rows) {
    out.push_back({std::get<int64_t>(r[0]), static_cast<uint64_t>(std::get<int64_t>(r[1]))});
  }
  return out;
}

// The message's own payload is a secret of the audio class that the import blanked.
bool audio_redacted(const LoadedMessage& m) {
  if (!(m.redacted & schema::kSecretAudio)) return false;
  const auto data = decode::FieldView::root(m.frame.own, m.frame.own_body).get("data");
  return data && schema::Registry::spice().node(data.value().node).is_secret(schema::kSecretAudio);
}

}  // namespace

Result<SessionChannels> find_audio_session(Database& db, const SessionSelection& sel) {
  return find_session(db, sel, kAudioTypes, "playback or record", "playback");
}

Result<void> replay_audio(Database& db, const SessionChannels& session, audio::AudioState& state,
                          const std::function<bool(const ReplayStep&)>& before) {
  auto lost = losses(db, session.channels);
  if (!lost) return lost.error();
  auto mains = session_channels(db, session, kMainType);
  if (!mains) return mains.error();
  std::vector<int64_t> channels = session.channels;
  channels.insert(channels.end(), mains->begin(), mains->end());

  size_t next_loss = 0;
  std::set<int64_t> redacted;
  auto replayed = replay_messages(
      db, channels,
      [&](const ReplayStep& step) {
        for (; next_loss < lost->size() && (*lost)[next_loss].ts_ns <= step.ts_ns; ++next_loss) {
          state.capture_lost(static_cast<uint32_t>((*lost)[next_loss].channel), (*lost)[next_loss].ts_ns);
        }
        return !before || before(step);
      },
      [&](const ReplayStep& step, const LoadedMessage& m) {
        const auto conn = static_cast<uint32_t>(step.channel);
        if (audio_redacted(m) && redacted.insert(step.channel).second) state.redacted(conn);
        for_each_decoded(m, [&](const decode::DecodedMessage& d, std::span<const uint8_t> body) {
          state.apply(conn, step.ts_ns, d, body, static_cast<uint64_t>(step.message));
        });
      });
  if (!replayed) return replayed;
  state.finish();
  return {};
}

}  // namespace sc::store
