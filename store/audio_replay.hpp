#pragma once
// A stored session's audio run through an AudioState again: its playback and
// record channels, and its main channel for the multimedia clock, message by
// message in capture order (session_replay.hpp). What `audio` and `audio
// export` are built on. The capture's losses on those channels (the framing's
// `gap` problems) are told to the state where they happened, and audio data
// imported with --redact is declared redacted rather than decoded as zeros.
#include <functional>

#include "dissect/audio/audio_state.hpp"
#include "store/session_replay.hpp"

namespace sc::store {

// The session to replay (channel: one playback or record channel); its
// `channels` are the session's playback and record channels.
Result<SessionChannels> find_audio_session(Database& db, const SessionSelection& sel);

// Runs the session's audio and main messages through `state`, then finish().
// Connections are the channels' ids (channels.id). `before` as in replay_messages.
Result<void> replay_audio(Database& db, const SessionChannels& session, audio::AudioState& state,
                          const std::function<bool(const ReplayStep&)>& before = {});

}  // namespace sc::store
