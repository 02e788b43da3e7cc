// Structures and value names shared by several channels.
#include <spice/enums.h>
#include <spice/protocol.h>

#include "dissect/proto/spice.hpp"

namespace sc::proto {

using namespace schema;  // NOLINT: description files read as a DSL

Shared describe_shared(Builder& b) {
  Shared s{};
  s.link_err = b.names("link_err", false, "SPICE_LINK_ERR_",
                       {SC_SYM(SPICE_LINK_ERR_OK), SC_SYM(SPICE_LINK_ERR_ERROR),
                        SC_SYM(SPICE_LINK_ERR_INVALID_MAGIC), SC_SYM(SPICE_LINK_ERR_INVALID_DATA),
                        SC_SYM(SPICE_LINK_ERR_VERSION_MISMATCH), SC_SYM(SPICE_LINK_ERR_NEED_SECURED),
                        SC_SYM(SPICE_LINK_ERR_NEED_UNSECURED), SC_SYM(SPICE_LINK_ERR_PERMISSION_DENIED),
                        SC_SYM(SPICE_LINK_ERR_BAD_CONNECTION_ID),
                        SC_SYM(SPICE_LINK_ERR_CHANNEL_NOT_AVAILABLE)});
  s.mouse_mode = b.names("mouse_mode", true, "SPICE_MOUSE_MODE_",
                         {SC_SYM(SPICE_MOUSE_MODE_SERVER), SC_SYM(SPICE_MOUSE_MODE_CLIENT)});
  s.image_compression = b.names(
      "image_compression", false, "SPICE_IMAGE_COMPRESSION_",
      {SC_SYM(SPICE_IMAGE_COMPRESSION_INVALID), SC_SYM(SPICE_IMAGE_COMPRESSION_OFF),
       SC_SYM(SPICE_IMAGE_COMPRESSION_AUTO_GLZ), SC_SYM(SPICE_IMAGE_COMPRESSION_AUTO_LZ),
       SC_SYM(SPICE_IMAGE_COMPRESSION_QUIC), SC_SYM(SPICE_IMAGE_COMPRESSION_GLZ),
       SC_SYM(SPICE_IMAGE_COMPRESSION_LZ), SC_SYM(SPICE_IMAGE_COMPRESSION_LZ4)});
  s.video_codec = b.names("video_codec_type", false, "SPICE_VIDEO_CODEC_TYPE_",
                          {SC_SYM(SPICE_VIDEO_CODEC_TYPE_MJPEG), SC_SYM(SPICE_VIDEO_CODEC_TYPE_VP8),
                           SC_SYM(SPICE_VIDEO_CODEC_TYPE_H264), SC_SYM(SPICE_VIDEO_CODEC_TYPE_VP9),
                           SC_SYM(SPICE_VIDEO_CODEC_TYPE_H265)});
  // CELT is deprecated in the header but still has its number on the wire.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  s.audio_data_mode = b.names("audio_data_mode", false, "SPICE_AUDIO_DATA_MODE_",
                              {SC_SYM(SPICE_AUDIO_DATA_MODE_INVALID), SC_SYM(SPICE_AUDIO_DATA_MODE_RAW),
                               SC_SYM(SPICE_AUDIO_DATA_MODE_CELT_0_5_1), SC_SYM(SPICE_AUDIO_DATA_MODE_OPUS)});
#pragma GCC diagnostic pop
  s.audio_fmt = b.names("audio_fmt", false, "SPICE_AUDIO_FMT_",
                        {SC_SYM(SPICE_AUDIO_FMT_INVALID), SC_SYM(SPICE_AUDIO_FMT_S16)});

  s.point = b.structure("Point", {b.i32("x"), b.i32("y")});
  s.point16 = b.structure("Point16", {b.i16("x"), b.i16("y")});
  // On the wire a rectangle is top, left, bottom, right.
  s.rect = b.structure("Rect", {b.i32("top"), b.i32("left"), b.i32("bottom"), b.i32("right")});

  const auto* clip_type = b.names("clip_type", false, "SPICE_CLIP_TYPE_",
                                  {SC_SYM(SPICE_CLIP_TYPE_NONE), SC_SYM(SPICE_CLIP_TYPE_RECTS)});
  const Type* clip_rects =
      b.structure("ClipRects", {b.u32("num_rects"), b.list("rects", s.rect, by("num_rects"))});
  s.clip = b.structure("Clip", {b.u8("type", clip_type),
                                b.cases("type", {when(SPICE_CLIP_TYPE_RECTS, {b.field("rects", clip_rects)})})});

  s.channel_type = b.names(
      "channel_type", false, "SPICE_CHANNEL_",
      {SC_SYM(SPICE_CHANNEL_MAIN), SC_SYM(SPICE_CHANNEL_DISPLAY), SC_SYM(SPICE_CHANNEL_INPUTS),
       SC_SYM(SPICE_CHANNEL_CURSOR), SC_SYM(SPICE_CHANNEL_PLAYBACK), SC_SYM(SPICE_CHANNEL_RECORD),
       SC_SYM(SPICE_CHANNEL_TUNNEL), SC_SYM(SPICE_CHANNEL_SMARTCARD), SC_SYM(SPICE_CHANNEL_USBREDIR),
       SC_SYM(SPICE_CHANNEL_PORT), SC_SYM(SPICE_CHANNEL_WEBDAV)});
  s.channel_wait = b.structure("ChannelWait", {b.u8("channel_type", s.channel_type), b.u8("channel_id"),
                                               b.u64("message_serial")});
  return s;
}

void describe_spice(Builder& b) {
  const Shared s = describe_shared(b);
  describe_link(b, s);
  const ChannelBuilder& base = describe_base(b, s);
  describe_main(b, s, base);
  describe_display(b, s, base);
  describe_inputs(b, s, base);
  describe_cursor(b, s, base);
  describe_audio(b, s, base);
  describe_vmc(b, s, base);
  describe_agent(b, s);
}

}  // namespace sc::proto
