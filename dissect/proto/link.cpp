// The link stage: everything before the first data-stage message of a connection.
// Each step is one stored message; the link header travels with its message.
#include <spice/protocol.h>

#include "dissect/proto/spice.hpp"

namespace sc::proto {

using namespace schema;  // NOLINT

void describe_link(Builder& b, const Shared& s) {
  b.common_caps({SC_SYM(SPICE_COMMON_CAP_PROTOCOL_AUTH_SELECTION), SC_SYM(SPICE_COMMON_CAP_AUTH_SPICE),
                 SC_SYM(SPICE_COMMON_CAP_AUTH_SASL), SC_SYM(SPICE_COMMON_CAP_MINI_HEADER)},
                "SPICE_COMMON_CAP_");

  const auto* auth = b.names("auth_mechanism", false, "SPICE_COMMON_CAP_",
                             {SC_SYM(SPICE_COMMON_CAP_AUTH_SPICE), SC_SYM(SPICE_COMMON_CAP_AUTH_SASL)});

  const Type* header = b.structure("LinkHeader", {b.u32("magic"), b.u32("major_version"),
                                                  b.u32("minor_version"), b.u32("size")});
  // Capabilities are reached through caps_offset, counted from the start of the
  // SpiceLinkMess/SpiceLinkReply (not of the link header).
  const Type* caps = b.structure("LinkCaps", {b.list("common_caps", b.integer(IntRep::U32), by("num_common_caps")),
                                              b.list("channel_caps", b.integer(IntRep::U32), by("num_channel_caps"))});
  const Type* mess = b.structure("LinkMess",
                                 {b.u32("connection_id").vol(), b.u8("channel_type", s.channel_type),
                                  b.u8("channel_id"), b.u32("num_common_caps"), b.u32("num_channel_caps"),
                                  b.ptr("caps", caps)},
                                 /*pointer_base=*/true);
  const Type* reply = b.structure("LinkReply",
                                  {b.u32("error", s.link_err), b.raw("pub_key", fixed(SPICE_TICKET_PUBKEY_BYTES)).vol(),
                                   b.u32("num_common_caps"), b.u32("num_channel_caps"), b.ptr("caps", caps)},
                                  true);

  b.link_message(LinkStep::Mess, "mess", Direction::C2S,
                 b.structure("link.mess", {b.field("header", header), b.field("mess", mess)}));
  b.link_message(LinkStep::Reply, "reply", Direction::S2C,
                 b.structure("link.reply", {b.field("header", header), b.field("reply", reply)}));
  b.link_message(LinkStep::AuthMechanism, "auth_mechanism", Direction::C2S,
                 b.structure("link.auth_mechanism", {b.u32("auth_mechanism", auth)}));
  b.link_message(LinkStep::Ticket, "ticket", Direction::C2S,
                 b.structure("link.ticket", {b.raw("encrypted_data", fixed(SPICE_TICKET_KEY_PAIR_LENGTH / 8)).vol().secret(kSecretCredentials)}));
  b.link_message(LinkStep::Result, "result", Direction::S2C,
                 b.structure("link.result", {b.u32("error", s.link_err)}));

  // SASL (spice-server reds-sasl, spice-gtk): length-prefixed strings and blobs.
  b.link_message(LinkStep::SaslMechList, "sasl_mechlist", Direction::S2C,
                 b.structure("link.sasl_mechlist", {b.u32("length"), b.text("mechanisms", by("length"))}));
  b.link_message(LinkStep::SaslStart, "sasl_start", Direction::C2S,
                 b.structure("link.sasl_start", {b.u32("mechanism_length"), b.text("mechanism", by("mechanism_length")),
                                                 b.u32("data_length"), b.raw("data", by("data_length")).secret(kSecretCredentials)}));
  b.link_message(LinkStep::SaslStartReply, "sasl_start_reply", Direction::S2C,
                 b.structure("link.sasl_start_reply",
                             {b.u32("data_length"), b.raw("data", by("data_length")), b.u8("complete")}));
  b.link_message(LinkStep::SaslStep, "sasl_step", Direction::C2S,
                 b.structure("link.sasl_step", {b.u32("data_length"), b.raw("data", by("data_length")).secret(kSecretCredentials)}));
  b.link_message(LinkStep::SaslStepReply, "sasl_step_reply", Direction::S2C,
                 b.structure("link.sasl_step_reply",
                             {b.u32("data_length"), b.raw("data", by("data_length")), b.u8("complete")}));
}

}  // namespace sc::proto
