// The main channel: session set-up, mouse modes, agent transport, migration.
#include <spice/enums.h>
#include <spice/protocol.h>

#include "dissect/proto/spice.hpp"

namespace sc::proto {

using namespace schema;  // NOLINT

void describe_main(Builder& b, const Shared& s, const ChannelBuilder& base) {
  // Host and certificate subject are reached through offsets from the message start.
  auto migration_target = [&](std::string name) {
    return b.structure(std::move(name),
                       {b.u16("port"), b.u16("sport"), b.u32("host_size"),
                        b.ptr("host_data", b.bytes(by("host_size"), true)), b.u32("cert_subject_size"),
                        b.ptr("cert_subject_data", b.bytes(by("cert_subject_size"), true))});
  };
  const Type* dst_info = migration_target("DstInfo");
  const Type* channel_id = b.structure("ChannelId", {b.u8("type", s.channel_type), b.u8("id")});

  auto& main = b.channel(SPICE_CHANNEL_MAIN, "main", {"SPICE_MSG_MAIN_", "SPICE_MSGC_MAIN_", "SPICE_MSG_", "SPICE_MSGC_"});
  main.inherit(base);
  main.caps({SC_SYM(SPICE_MAIN_CAP_SEMI_SEAMLESS_MIGRATE), SC_SYM(SPICE_MAIN_CAP_NAME_AND_UUID),
             SC_SYM(SPICE_MAIN_CAP_AGENT_CONNECTED_TOKENS), SC_SYM(SPICE_MAIN_CAP_SEAMLESS_MIGRATE)},
            "SPICE_MAIN_CAP_");

  main.s2c(SC_SYM(SPICE_MSG_MAIN_MIGRATE_BEGIN), {b.field("dst_info", dst_info)})
      .s2c(SC_SYM(SPICE_MSG_MAIN_MIGRATE_CANCEL), {})
      .s2c(SC_SYM(SPICE_MSG_MAIN_INIT),
           {b.u32("session_id").vol(), b.u32("display_channels_hint"),
            b.u32("supported_mouse_modes", s.mouse_mode), b.u32("current_mouse_mode", s.mouse_mode),
            b.u32("agent_connected"), b.u32("agent_tokens"), b.u32("multi_media_time").vol(),
            b.u32("ram_hint")})
      .s2c(SC_SYM(SPICE_MSG_MAIN_CHANNELS_LIST),
           {b.u32("num_of_channels"), b.list("channels", channel_id, by("num_of_channels"))})
      .s2c(SC_SYM(SPICE_MSG_MAIN_MOUSE_MODE),
           {b.u16("supported_modes", s.mouse_mode), b.u16("current_mode", s.mouse_mode)})
      .s2c(SC_SYM(SPICE_MSG_MAIN_MULTI_MEDIA_TIME), {b.u32("time").vol()})
      .s2c(SC_SYM(SPICE_MSG_MAIN_AGENT_CONNECTED), {})
      .s2c(SC_SYM(SPICE_MSG_MAIN_AGENT_DISCONNECTED), {b.u32("error_code", s.link_err)})
      .s2c(SC_SYM(SPICE_MSG_MAIN_AGENT_DATA), {b.raw("data", rest()).secret(kSecretClipboard | kSecretFiles)})
      .s2c(SC_SYM(SPICE_MSG_MAIN_AGENT_TOKEN), {b.u32("num_tokens")})
      .s2c(SC_SYM(SPICE_MSG_MAIN_MIGRATE_SWITCH_HOST), migration_target("MigrateSwitchHost")->fields)
      .s2c(SC_SYM(SPICE_MSG_MAIN_MIGRATE_END), {})
      .s2c(SC_SYM(SPICE_MSG_MAIN_NAME), {b.u32("name_len"), b.text("name", by("name_len"))})
      .s2c(SC_SYM(SPICE_MSG_MAIN_UUID), {b.raw("uuid", fixed(16))})
      .s2c(SC_SYM(SPICE_MSG_MAIN_AGENT_CONNECTED_TOKENS), {b.u32("num_tokens")})
      .s2c(SC_SYM(SPICE_MSG_MAIN_MIGRATE_BEGIN_SEAMLESS), {b.field("dst_info", dst_info), b.u32("src_mig_version")})
      .s2c(SC_SYM(SPICE_MSG_MAIN_MIGRATE_DST_SEAMLESS_ACK), {})
      .s2c(SC_SYM(SPICE_MSG_MAIN_MIGRATE_DST_SEAMLESS_NACK), {});

  main.c2s(SC_SYM(SPICE_MSGC_MAIN_CLIENT_INFO), {b.u64("cache_size")})
      .c2s(SC_SYM(SPICE_MSGC_MAIN_MIGRATE_CONNECTED), {})
      .c2s(SC_SYM(SPICE_MSGC_MAIN_MIGRATE_CONNECT_ERROR), {})
      .c2s(SC_SYM(SPICE_MSGC_MAIN_ATTACH_CHANNELS), {})
      .c2s(SC_SYM(SPICE_MSGC_MAIN_MOUSE_MODE_REQUEST), {b.u16("mode", s.mouse_mode)})
      .c2s(SC_SYM(SPICE_MSGC_MAIN_AGENT_START), {b.u32("num_tokens")})
      .c2s(SC_SYM(SPICE_MSGC_MAIN_AGENT_DATA), {b.raw("data", rest()).secret(kSecretClipboard | kSecretFiles)})
      .c2s(SC_SYM(SPICE_MSGC_MAIN_AGENT_TOKEN), {b.u32("num_tokens")})
      .c2s(SC_SYM(SPICE_MSGC_MAIN_MIGRATE_END), {})
      .c2s(SC_SYM(SPICE_MSGC_MAIN_MIGRATE_DST_DO_SEAMLESS), {b.u32("src_version")})
      .c2s(SC_SYM(SPICE_MSGC_MAIN_MIGRATE_CONNECTED_SEAMLESS), {})
      .c2s(SC_SYM(SPICE_MSGC_MAIN_QUALITY_INDICATOR), {b.raw("data", rest())});
}

}  // namespace sc::proto
