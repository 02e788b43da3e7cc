// Playback (server to client) and record (client to server) audio channels.
#include <spice/enums.h>
#include <spice/protocol.h>

#include "dissect/proto/spice.hpp"

namespace sc::proto {

using namespace schema;  // NOLINT

void describe_audio(Builder& b, const Shared& s, const ChannelBuilder& base) {
  auto volume = [&] {
    return std::vector<Field>{b.u8("nchannels"), b.list("volume", b.integer(IntRep::U16), by("nchannels"))};
  };
  auto& playback = b.channel(SPICE_CHANNEL_PLAYBACK, "playback", {"SPICE_MSG_PLAYBACK_", "SPICE_MSG_", "SPICE_MSGC_"});
  playback.inherit(base);
  playback.caps({SC_SYM(SPICE_PLAYBACK_CAP_CELT_0_5_1), SC_SYM(SPICE_PLAYBACK_CAP_VOLUME),
                 SC_SYM(SPICE_PLAYBACK_CAP_LATENCY), SC_SYM(SPICE_PLAYBACK_CAP_OPUS)},
                "SPICE_PLAYBACK_CAP_");
  playback.s2c(SC_SYM(SPICE_MSG_PLAYBACK_DATA), {b.u32("time").vol(), b.raw("data", rest())})
      .s2c(SC_SYM(SPICE_MSG_PLAYBACK_MODE), {b.u32("time").vol(), b.u16("mode", s.audio_data_mode), b.raw("data", rest())})
      .s2c(SC_SYM(SPICE_MSG_PLAYBACK_START),
           {b.u32("channels"), b.u16("format", s.audio_fmt), b.u32("frequency"), b.u32("time").vol()})
      .s2c(SC_SYM(SPICE_MSG_PLAYBACK_STOP), {})
      .s2c(SC_SYM(SPICE_MSG_PLAYBACK_VOLUME), volume())
      .s2c(SC_SYM(SPICE_MSG_PLAYBACK_MUTE), {b.u8("mute")})
      .s2c(SC_SYM(SPICE_MSG_PLAYBACK_LATENCY), {b.u32("latency_ms")});

  auto& record = b.channel(SPICE_CHANNEL_RECORD, "record",
                           {"SPICE_MSG_RECORD_", "SPICE_MSGC_RECORD_", "SPICE_MSG_", "SPICE_MSGC_"});
  record.inherit(base);
  record.caps({SC_SYM(SPICE_RECORD_CAP_CELT_0_5_1), SC_SYM(SPICE_RECORD_CAP_VOLUME), SC_SYM(SPICE_RECORD_CAP_OPUS)},
              "SPICE_RECORD_CAP_");
  record.s2c(SC_SYM(SPICE_MSG_RECORD_START), {b.u32("channels"), b.u16("format", s.audio_fmt), b.u32("frequency")})
      .s2c(SC_SYM(SPICE_MSG_RECORD_STOP), {})
      .s2c(SC_SYM(SPICE_MSG_RECORD_VOLUME), volume())
      .s2c(SC_SYM(SPICE_MSG_RECORD_MUTE), {b.u8("mute")});
  // What the microphone heard.
  record.c2s(SC_SYM(SPICE_MSGC_RECORD_DATA), {b.u32("time").vol(), b.raw("data", rest()).secret(kSecretAudio)})
      .c2s(SC_SYM(SPICE_MSGC_RECORD_MODE), {b.u32("time").vol(), b.u16("mode", s.audio_data_mode), b.raw("data", rest())})
      .c2s(SC_SYM(SPICE_MSGC_RECORD_START_MARK), {b.u32("time").vol()});
}

}  // namespace sc::proto
