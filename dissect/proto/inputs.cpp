// The inputs channel: keyboard and mouse from the client, modifier state back.
#include <spice/enums.h>
#include <spice/protocol.h>

#include "dissect/proto/spice.hpp"

namespace sc::proto {

using namespace schema;  // NOLINT

void describe_inputs(Builder& b, const Shared&, const ChannelBuilder& base) {
  const auto* modifiers = b.names("keyboard_modifier_flags", true, "SPICE_KEYBOARD_MODIFIER_FLAGS_",
                                  {SC_SYM(SPICE_KEYBOARD_MODIFIER_FLAGS_SCROLL_LOCK),
                                   SC_SYM(SPICE_KEYBOARD_MODIFIER_FLAGS_NUM_LOCK),
                                   SC_SYM(SPICE_KEYBOARD_MODIFIER_FLAGS_CAPS_LOCK)});
  const auto* button = b.names("mouse_button", false, "SPICE_MOUSE_BUTTON_",
                               {SC_SYM(SPICE_MOUSE_BUTTON_INVALID), SC_SYM(SPICE_MOUSE_BUTTON_LEFT),
                                SC_SYM(SPICE_MOUSE_BUTTON_MIDDLE), SC_SYM(SPICE_MOUSE_BUTTON_RIGHT),
                                SC_SYM(SPICE_MOUSE_BUTTON_UP), SC_SYM(SPICE_MOUSE_BUTTON_DOWN),
                                SC_SYM(SPICE_MOUSE_BUTTON_SIDE), SC_SYM(SPICE_MOUSE_BUTTON_EXTRA)});
  const auto* buttons = b.names("mouse_button_mask", true, "SPICE_MOUSE_BUTTON_MASK_",
                                {SC_SYM(SPICE_MOUSE_BUTTON_MASK_LEFT), SC_SYM(SPICE_MOUSE_BUTTON_MASK_MIDDLE),
                                 SC_SYM(SPICE_MOUSE_BUTTON_MASK_RIGHT), SC_SYM(SPICE_MOUSE_BUTTON_MASK_UP),
                                 SC_SYM(SPICE_MOUSE_BUTTON_MASK_DOWN), SC_SYM(SPICE_MOUSE_BUTTON_MASK_SIDE),
                                 SC_SYM(SPICE_MOUSE_BUTTON_MASK_EXTRA)});

  auto& inputs = b.channel(SPICE_CHANNEL_INPUTS, "inputs",
                           {"SPICE_MSG_INPUTS_", "SPICE_MSGC_INPUTS_", "SPICE_MSG_", "SPICE_MSGC_"});
  inputs.inherit(base);
  inputs.caps({SC_SYM(SPICE_INPUTS_CAP_KEY_SCANCODE)}, "SPICE_INPUTS_CAP_");

  // Keystrokes are what redaction exists for.
  inputs.c2s(SC_SYM(SPICE_MSGC_INPUTS_KEY_DOWN), {b.u32("code").secret(kSecretKeys)})
      .c2s(SC_SYM(SPICE_MSGC_INPUTS_KEY_UP), {b.u32("code").secret(kSecretKeys)})
      .c2s(SC_SYM(SPICE_MSGC_INPUTS_KEY_MODIFIERS), {b.u16("modifiers", modifiers)})
      .c2s(SC_SYM(SPICE_MSGC_INPUTS_KEY_SCANCODE), {b.raw("data", rest()).secret(kSecretKeys)})
      .c2s(SC_SYM(SPICE_MSGC_INPUTS_MOUSE_MOTION), {b.i32("dx"), b.i32("dy"), b.u16("buttons_state", buttons)})
      .c2s(SC_SYM(SPICE_MSGC_INPUTS_MOUSE_POSITION),
           {b.u32("x"), b.u32("y"), b.u16("buttons_state", buttons), b.u8("display_id")})
      .c2s(SC_SYM(SPICE_MSGC_INPUTS_MOUSE_PRESS), {b.u8("button", button), b.u16("buttons_state", buttons)})
      .c2s(SC_SYM(SPICE_MSGC_INPUTS_MOUSE_RELEASE), {b.u8("button", button), b.u16("buttons_state", buttons)});

  inputs.s2c(SC_SYM(SPICE_MSG_INPUTS_INIT), {b.u16("keyboard_modifiers", modifiers)})
      .s2c(SC_SYM(SPICE_MSG_INPUTS_KEY_MODIFIERS), {b.u16("modifiers", modifiers)})
      .s2c(SC_SYM(SPICE_MSG_INPUTS_MOUSE_MOTION_ACK), {});
}

}  // namespace sc::proto
