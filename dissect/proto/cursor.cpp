// The cursor channel: pointer shape and position as the guest sets them.
#include <spice/enums.h>

#include "dissect/proto/spice.hpp"

namespace sc::proto {

using namespace schema;  // NOLINT

void describe_cursor(Builder& b, const Shared& s, const ChannelBuilder& base) {
  const auto* cursor_type = b.names("cursor_type", false, "SPICE_CURSOR_TYPE_",
                                    {SC_SYM(SPICE_CURSOR_TYPE_ALPHA), SC_SYM(SPICE_CURSOR_TYPE_MONO),
                                     SC_SYM(SPICE_CURSOR_TYPE_COLOR4), SC_SYM(SPICE_CURSOR_TYPE_COLOR8),
                                     SC_SYM(SPICE_CURSOR_TYPE_COLOR16), SC_SYM(SPICE_CURSOR_TYPE_COLOR24),
                                     SC_SYM(SPICE_CURSOR_TYPE_COLOR32)});
  const auto* cursor_flags = b.names("cursor_flags", true, "SPICE_CURSOR_FLAGS_",
                                     {SC_SYM(SPICE_CURSOR_FLAGS_NONE), SC_SYM(SPICE_CURSOR_FLAGS_CACHE_ME),
                                      SC_SYM(SPICE_CURSOR_FLAGS_FROM_CACHE)});
  const Type* header = b.structure("CursorHeader", {b.u64("unique"), b.u8("type", cursor_type), b.u16("width"),
                                                    b.u16("height"), b.u16("hot_spot_x"), b.u16("hot_spot_y")});
  // The shape header is absent when the NONE flag says there is no cursor; the
  // pixels that follow are kept as bytes.
  const Type* cursor = b.structure(
      "Cursor", {b.u16("flags", cursor_flags),
                 b.cases("flags", {unless_bit(SPICE_CURSOR_FLAGS_NONE, {b.field("header", header)})}),
                 b.raw("data", rest())});

  auto& ch = b.channel(SPICE_CHANNEL_CURSOR, "cursor", {"SPICE_MSG_CURSOR_", "SPICE_MSG_", "SPICE_MSGC_"});
  ch.inherit(base);
  ch.s2c(SC_SYM(SPICE_MSG_CURSOR_INIT),
         {b.field("position", s.point16), b.u16("trail_length"), b.u16("trail_frequency"), b.u8("visible"),
          b.field("cursor", cursor)})
      .s2c(SC_SYM(SPICE_MSG_CURSOR_RESET), {})
      .s2c(SC_SYM(SPICE_MSG_CURSOR_SET), {b.field("position", s.point16), b.u8("visible"), b.field("cursor", cursor)})
      .s2c(SC_SYM(SPICE_MSG_CURSOR_MOVE), {b.field("position", s.point16)})
      .s2c(SC_SYM(SPICE_MSG_CURSOR_HIDE), {})
      .s2c(SC_SYM(SPICE_MSG_CURSOR_TRAIL), {b.u16("length"), b.u16("frequency")})
      .s2c(SC_SYM(SPICE_MSG_CURSOR_INVAL_ONE), {b.u64("id")})
      .s2c(SC_SYM(SPICE_MSG_CURSOR_INVAL_ALL), {});
}

}  // namespace sc::proto
