// The guest agent protocol (spice-protocol's vd_agent.h), one layer inside the
// main channel: main.agent_data bodies concatenate, per direction, into
// VDAgentMessage headers each followed by `size` bytes of one message below.
// dissect/agent/ reassembles them; the message bodies are described here.
//
// Both directions number their messages alike. Several layouts depend on the
// agent capabilities both sides announced (VD_AGENT_ANNOUNCE_CAPABILITIES), which
// the agent tracker passes as the layer's channel capabilities.
#include <spice/vd_agent.h>

#include "dissect/proto/spice.hpp"

namespace sc::proto {

using namespace schema;  // NOLINT

void describe_agent(Builder& b, const Shared& s) {
  (void)s;
  const auto* message_type = b.names(
      "agent_message_type", false, "VD_AGENT_",
      {SC_SYM(VD_AGENT_MOUSE_STATE), SC_SYM(VD_AGENT_MONITORS_CONFIG), SC_SYM(VD_AGENT_REPLY),
       SC_SYM(VD_AGENT_CLIPBOARD), SC_SYM(VD_AGENT_DISPLAY_CONFIG), SC_SYM(VD_AGENT_ANNOUNCE_CAPABILITIES),
       SC_SYM(VD_AGENT_CLIPBOARD_GRAB), SC_SYM(VD_AGENT_CLIPBOARD_REQUEST), SC_SYM(VD_AGENT_CLIPBOARD_RELEASE),
       SC_SYM(VD_AGENT_FILE_XFER_START), SC_SYM(VD_AGENT_FILE_XFER_STATUS), SC_SYM(VD_AGENT_FILE_XFER_DATA),
       SC_SYM(VD_AGENT_CLIENT_DISCONNECTED), SC_SYM(VD_AGENT_MAX_CLIPBOARD), SC_SYM(VD_AGENT_AUDIO_VOLUME_SYNC),
       SC_SYM(VD_AGENT_GRAPHICS_DEVICE_INFO)});
  const auto* reply_error = b.names("agent_reply_error", false, "VD_AGENT_",
                                    {SC_SYM(VD_AGENT_SUCCESS), SC_SYM(VD_AGENT_ERROR)});
  const auto* buttons = b.names(
      "agent_mouse_buttons", true, "VD_AGENT_",
      {SC_SYM(VD_AGENT_LBUTTON_MASK), SC_SYM(VD_AGENT_MBUTTON_MASK), SC_SYM(VD_AGENT_RBUTTON_MASK),
       SC_SYM(VD_AGENT_UBUTTON_MASK), SC_SYM(VD_AGENT_DBUTTON_MASK), SC_SYM(VD_AGENT_SBUTTON_MASK),
       SC_SYM(VD_AGENT_EBUTTON_MASK)});
  const auto* monitors_flags = b.names(
      "agent_monitors_flags", true, "VD_AGENT_CONFIG_MONITORS_FLAG_",
      {SC_SYM(VD_AGENT_CONFIG_MONITORS_FLAG_USE_POS), SC_SYM(VD_AGENT_CONFIG_MONITORS_FLAG_PHYSICAL_SIZE)});
  const auto* display_flags = b.names(
      "agent_display_config_flags", true, "VD_AGENT_DISPLAY_CONFIG_FLAG_",
      {SC_SYM(VD_AGENT_DISPLAY_CONFIG_FLAG_DISABLE_WALLPAPER), SC_SYM(VD_AGENT_DISPLAY_CONFIG_FLAG_DISABLE_FONT_SMOOTH),
       SC_SYM(VD_AGENT_DISPLAY_CONFIG_FLAG_DISABLE_ANIMATION), SC_SYM(VD_AGENT_DISPLAY_CONFIG_FLAG_SET_COLOR_DEPTH)});
  const auto* clipboard_type = b.names(
      "agent_clipboard_type", false, "VD_AGENT_CLIPBOARD_",
      {SC_SYM(VD_AGENT_CLIPBOARD_NONE), SC_SYM(VD_AGENT_CLIPBOARD_UTF8_TEXT), SC_SYM(VD_AGENT_CLIPBOARD_IMAGE_PNG),
       SC_SYM(VD_AGENT_CLIPBOARD_IMAGE_BMP), SC_SYM(VD_AGENT_CLIPBOARD_IMAGE_TIFF),
       SC_SYM(VD_AGENT_CLIPBOARD_IMAGE_JPG), SC_SYM(VD_AGENT_CLIPBOARD_FILE_LIST)});
  const auto* selection = b.names(
      "agent_clipboard_selection", false, "VD_AGENT_CLIPBOARD_SELECTION_",
      {SC_SYM(VD_AGENT_CLIPBOARD_SELECTION_CLIPBOARD), SC_SYM(VD_AGENT_CLIPBOARD_SELECTION_PRIMARY),
       SC_SYM(VD_AGENT_CLIPBOARD_SELECTION_SECONDARY)});
  const auto* xfer_status = b.names(
      "agent_file_xfer_status", false, "VD_AGENT_FILE_XFER_STATUS_",
      {SC_SYM(VD_AGENT_FILE_XFER_STATUS_CAN_SEND_DATA), SC_SYM(VD_AGENT_FILE_XFER_STATUS_CANCELLED),
       SC_SYM(VD_AGENT_FILE_XFER_STATUS_ERROR), SC_SYM(VD_AGENT_FILE_XFER_STATUS_SUCCESS),
       SC_SYM(VD_AGENT_FILE_XFER_STATUS_NOT_ENOUGH_SPACE), SC_SYM(VD_AGENT_FILE_XFER_STATUS_SESSION_LOCKED),
       SC_SYM(VD_AGENT_FILE_XFER_STATUS_VDAGENT_NOT_CONNECTED), SC_SYM(VD_AGENT_FILE_XFER_STATUS_DISABLED)});
  const auto* xfer_error_type = b.names("agent_file_xfer_error_type", false, "VD_AGENT_FILE_XFER_STATUS_ERROR_",
                                        {SC_SYM(VD_AGENT_FILE_XFER_STATUS_ERROR_GLIB_IO)});
  static_assert(VD_AGENT_END_CAP <= 32, "agent capabilities beyond the first word need naming");

  // Present only when both agents announced the capability. Detailed errors are
  // also trailing: spice-gtk echoes a failure back to the guest without them.
  const CapCondition* has_selection = b.cap(false, VD_AGENT_CAP_CLIPBOARD_SELECTION);
  const CapCondition* has_serial = b.cap(false, VD_AGENT_CAP_CLIPBOARD_GRAB_SERIAL);
  const CapCondition* has_detailed_errors = b.cap(false, VD_AGENT_CAP_FILE_XFER_DETAILED_ERRORS);

  // The selection is one byte padded to a 32-bit word.
  auto selection_fields = [&] {
    return std::vector<Field>{b.u8("selection", selection).only_with(has_selection),
                              b.raw("selection_reserved", fixed(3)).only_with(has_selection)};
  };
  auto with_selection = [&](std::vector<Field> rest_fields) {
    std::vector<Field> f = selection_fields();
    f.insert(f.end(), rest_fields.begin(), rest_fields.end());
    return f;
  };

  const Type* mon_config = b.structure("AgentMonConfig", {b.u32("height"), b.u32("width"), b.u32("depth"),
                                                          b.i32("x"), b.i32("y")});
  const Type* monitor_mm = b.structure("AgentMonitorMM", {b.u16("height"), b.u16("width")});
  const Type* device_display = b.structure(
      "AgentDeviceDisplayInfo", {b.u32("channel_id"), b.u32("monitor_id"), b.u32("device_display_id"),
                                 b.u32("device_address_len"), b.text("device_address", by("device_address_len"))});

  auto& agent = b.layer(kAgentLayer, "agent", {"VD_AGENT_"});
  agent.caps({SC_SYM(VD_AGENT_CAP_MOUSE_STATE), SC_SYM(VD_AGENT_CAP_MONITORS_CONFIG), SC_SYM(VD_AGENT_CAP_REPLY),
              SC_SYM(VD_AGENT_CAP_CLIPBOARD), SC_SYM(VD_AGENT_CAP_DISPLAY_CONFIG),
              SC_SYM(VD_AGENT_CAP_CLIPBOARD_BY_DEMAND), SC_SYM(VD_AGENT_CAP_CLIPBOARD_SELECTION),
              SC_SYM(VD_AGENT_CAP_SPARSE_MONITORS_CONFIG), SC_SYM(VD_AGENT_CAP_GUEST_LINEEND_LF),
              SC_SYM(VD_AGENT_CAP_GUEST_LINEEND_CRLF), SC_SYM(VD_AGENT_CAP_MAX_CLIPBOARD),
              SC_SYM(VD_AGENT_CAP_AUDIO_VOLUME_SYNC), SC_SYM(VD_AGENT_CAP_MONITORS_CONFIG_POSITION),
              SC_SYM(VD_AGENT_CAP_FILE_XFER_DISABLED), SC_SYM(VD_AGENT_CAP_FILE_XFER_DETAILED_ERRORS),
              SC_SYM(VD_AGENT_CAP_GRAPHICS_DEVICE_INFO), SC_SYM(VD_AGENT_CAP_CLIPBOARD_NO_RELEASE_ON_REGRAB),
              SC_SYM(VD_AGENT_CAP_CLIPBOARD_GRAB_SERIAL)},
             "VD_AGENT_CAP_");
  // The announced capability words name their bits after the layer's capabilities.
  const auto* caps = b.cap_flags("agent_caps", agent);

  // Each message means the same in both directions.
  auto both = [&](Symbol sym, std::vector<Field> fields) {
    agent.c2s(sym, fields).s2c(sym, std::move(fields));
  };
  both(SC_SYM(VD_AGENT_MOUSE_STATE),
       {b.u32("x"), b.u32("y"), b.u32("buttons", buttons), b.u8("display_id")});
  // Physical sizes follow the whole monitor list, one per monitor, when flagged.
  both(SC_SYM(VD_AGENT_MONITORS_CONFIG),
       {b.u32("num_of_monitors"), b.u32("flags", monitors_flags),
        b.list("monitors", mon_config, by("num_of_monitors")),
        b.cases("flags", {when_bit(VD_AGENT_CONFIG_MONITORS_FLAG_PHYSICAL_SIZE,
                                   {b.list("physical_sizes", monitor_mm, by("num_of_monitors"))}),
                          otherwise({})})});
  both(SC_SYM(VD_AGENT_REPLY), {b.u32("type", message_type), b.u32("error", reply_error)});
  both(SC_SYM(VD_AGENT_CLIPBOARD),
       with_selection({b.u32("type", clipboard_type), b.raw("data", rest()).secret(kSecretClipboard)}));
  both(SC_SYM(VD_AGENT_DISPLAY_CONFIG), {b.u32("flags", display_flags), b.u32("depth")});
  // One capability word today; later words (none defined yet) are kept as numbers.
  both(SC_SYM(VD_AGENT_ANNOUNCE_CAPABILITIES),
       {b.u32("request"), b.u32("caps", caps), b.list("more_caps", b.integer(IntRep::U32), rest())});
  both(SC_SYM(VD_AGENT_CLIPBOARD_GRAB),
       with_selection({b.u32("serial").only_with(has_serial),
                       b.list("types", b.integer(IntRep::U32, clipboard_type), rest())}));
  both(SC_SYM(VD_AGENT_CLIPBOARD_REQUEST), with_selection({b.u32("type", clipboard_type)}));
  both(SC_SYM(VD_AGENT_CLIPBOARD_RELEASE), selection_fields());
  // The start message's data is a GKeyFile: [vdagent-file-xfer] name=... size=...
  both(SC_SYM(VD_AGENT_FILE_XFER_START), {b.u32("id"), b.text("keyfile", rest())});
  both(SC_SYM(VD_AGENT_FILE_XFER_STATUS),
       {b.u32("id"), b.u32("result", xfer_status),
        b.cases("result", {when(VD_AGENT_FILE_XFER_STATUS_NOT_ENOUGH_SPACE, {b.u64("disk_free_space")}),
                           when(VD_AGENT_FILE_XFER_STATUS_ERROR,
                                {b.u8("error_type", xfer_error_type), b.u32("error_code")}),
                           otherwise({})})
            .only_with(has_detailed_errors)
            .trailing()});
  both(SC_SYM(VD_AGENT_FILE_XFER_DATA),
       {b.u32("id"), b.u64("size"), b.raw("data", by("size")).secret(kSecretFiles)});
  both(SC_SYM(VD_AGENT_CLIENT_DISCONNECTED), {});
  both(SC_SYM(VD_AGENT_MAX_CLIPBOARD), {b.i32("max")});
  both(SC_SYM(VD_AGENT_AUDIO_VOLUME_SYNC),
       {b.u8("is_playback"), b.u8("mute"), b.u8("nchannels"), b.list("volume", b.integer(IntRep::U16), by("nchannels"))});
  both(SC_SYM(VD_AGENT_GRAPHICS_DEVICE_INFO), {b.u32("count"), b.list("display_info", device_display, by("count"))});
}

}  // namespace sc::proto
