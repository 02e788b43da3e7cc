// Messages every channel understands (SPICE_MSG_* / SPICE_MSGC_* below 100).
#include <spice/enums.h>

#include "dissect/proto/spice.hpp"

namespace sc::proto {

using namespace schema;  // NOLINT

ChannelBuilder& describe_base(Builder& b, const Shared& s) {
  const auto* migrate_flags = b.names("migrate_flags", true, "SPICE_MIGRATE_",
                                      {SC_SYM(SPICE_MIGRATE_NEED_FLUSH), SC_SYM(SPICE_MIGRATE_NEED_DATA_TRANSFER)});
  const auto* severity = b.names("notify_severity", false, "SPICE_NOTIFY_SEVERITY_",
                                 {SC_SYM(SPICE_NOTIFY_SEVERITY_INFO), SC_SYM(SPICE_NOTIFY_SEVERITY_WARN),
                                  SC_SYM(SPICE_NOTIFY_SEVERITY_ERROR)});
  const auto* visibility = b.names("notify_visibility", false, "SPICE_NOTIFY_VISIBILITY_",
                                   {SC_SYM(SPICE_NOTIFY_VISIBILITY_LOW), SC_SYM(SPICE_NOTIFY_VISIBILITY_MEDIUM),
                                    SC_SYM(SPICE_NOTIFY_VISIBILITY_HIGH)});

  auto& base = b.abstract_channel("base", {"SPICE_MSG_", "SPICE_MSGC_"});
  base.s2c(SC_SYM(SPICE_MSG_MIGRATE), {b.u32("flags", migrate_flags)})
      .s2c(SC_SYM(SPICE_MSG_MIGRATE_DATA), {b.raw("data", rest())})
      .s2c(SC_SYM(SPICE_MSG_SET_ACK), {b.u32("generation"), b.u32("window")})
      .s2c(SC_SYM(SPICE_MSG_PING), {b.u32("id"), b.u64("timestamp").vol(), b.raw("data", rest())})
      .s2c(SC_SYM(SPICE_MSG_WAIT_FOR_CHANNELS),
           {b.u8("wait_count"), b.list("wait_list", s.channel_wait, by("wait_count"))})
      .s2c(SC_SYM(SPICE_MSG_DISCONNECTING), {b.u64("time_stamp").vol(), b.u32("reason", s.link_err)})
      .s2c(SC_SYM(SPICE_MSG_NOTIFY),
           {b.u64("time_stamp").vol(), b.u32("severity", severity), b.u32("visibility", visibility),
            b.u32("what"), b.u32("message_len"),
            // servers add a NUL that message_len does not count
            b.text("message", rest())})
      // The body of LIST is a SpiceSubMessageList, kept as bytes.
      .s2c(SC_SYM(SPICE_MSG_LIST), {b.raw("data", rest())});

  base.c2s(SC_SYM(SPICE_MSGC_ACK_SYNC), {b.u32("generation")})
      .c2s(SC_SYM(SPICE_MSGC_ACK), {})
      .c2s(SC_SYM(SPICE_MSGC_PONG), {b.u32("id"), b.u64("timestamp").vol()})
      .c2s(SC_SYM(SPICE_MSGC_MIGRATE_FLUSH_MARK), {})
      .c2s(SC_SYM(SPICE_MSGC_MIGRATE_DATA), {b.raw("data", rest())})
      .c2s(SC_SYM(SPICE_MSGC_DISCONNECTING), {b.u64("time_stamp").vol(), b.u32("reason", s.link_err)});
  return base;
}

}  // namespace sc::proto
