#pragma once
// The compiled protocol description: channels, messages and their layouts.
//
// Registry::spice() is the SPICE 2.2 description from dissect/proto/, compiled once
// into a tree of LayoutNodes per message. A LayoutNode is one field at one dotted
// path ("main.init.session_id"); the decoder, the encoder, the store's JSON keys,
// the CLI filters and the Wireshark plugin's fields all come from these nodes.
#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dissect/schema/types.hpp"

namespace sc::schema {

enum class Direction : uint8_t { C2S = 0, S2C = 1 };
constexpr std::string_view direction_name(Direction d) { return d == Direction::C2S ? "c2s" : "s2c"; }
constexpr Direction opposite(Direction d) { return d == Direction::C2S ? Direction::S2C : Direction::C2S; }

inline constexpr uint32_t kNoNode = 0xffffffffu;

struct LayoutNode {
  uint32_t id = kNoNode;
  uint32_t parent = kNoNode;
  std::string path;  // unique dotted path; array elements end in "[]", pointer targets in "*"
  std::string name;  // JSON key; "" for anonymous switches, array elements and pointer targets
  std::string json_key;  // "\"name\":", ready to append (names are plain identifiers)
  const Type* type = nullptr;
  const Field* field = nullptr;  // the field this node came from (null for elements/targets)
  std::vector<uint32_t> children;
  std::vector<uint32_t> case_begin;  // Switch: case i owns children[case_begin[i] .. case_begin[i+1])
  uint32_t count_ref = kNoNode;      // Count::Field / ImageBits row width
  uint32_t count_ref_b = kNoNode;    // ImageBits row count
  uint32_t selector_ref = kNoNode;   // Switch selector
  uint32_t min_wire_size = 0;        // fewest bytes an instance can occupy (allocation caps)
  bool fixed_size = false;           // every instance occupies exactly min_wire_size bytes

  bool is_volatile() const { return field && field->is_volatile; }
  bool is_secret(SecretMask classes = kSecretAll) const { return field && (field->secret & classes); }
};

// Link-stage steps have no wire type number; these are their MessageDef::type values.
enum class LinkStep : uint16_t {
  Mess = 1,           // c2s SpiceLinkHeader + SpiceLinkMess + caps
  Reply,              // s2c SpiceLinkHeader + SpiceLinkReply + caps
  AuthMechanism,      // c2s u32 mechanism
  Ticket,             // c2s RSA-encrypted password
  Result,             // s2c u32 link error
  SaslMechList,       // s2c
  SaslStart,          // c2s
  SaslStartReply,     // s2c
  SaslStep,           // c2s
  SaslStepReply,      // s2c
};

struct MessageDef {
  uint8_t channel_type = 0;  // SPICE_CHANNEL_*; 0 for the link stage
  Direction direction = Direction::C2S;
  uint16_t type = 0;         // SPICE_MSG_* / SPICE_MSGC_* (LinkStep for the link stage)
  std::string name;          // "init"
  std::string full_name;     // "main.init"
  const Type* body = nullptr;
  uint32_t root = kNoNode;   // layout of the body
  bool is_link() const { return channel_type == 0; }
};

struct CapName {
  uint32_t index;
  std::string name;
};

struct ChannelDef {
  uint8_t type = 0;
  std::string name;                 // "main", "display", ...
  std::vector<CapName> caps;        // the channel's own capabilities
  bool layer = false;               // a protocol inside messages (agent), not a wire channel
};

class Registry {
 public:
  // The SPICE description (dissect/proto/), built on first use; thread-safe.
  static const Registry& spice();

  const MessageDef* find(uint8_t channel_type, Direction dir, uint16_t type) const;
  const MessageDef* link(LinkStep step) const;
  const ChannelDef* channel(uint8_t type) const;
  std::string channel_name(uint8_t type) const;  // "main", or "channel-42" for unknown types

  std::span<const MessageDef> messages() const { return messages_; }
  std::span<const LayoutNode> nodes() const { return nodes_; }
  const LayoutNode& node(uint32_t id) const { return nodes_[id]; }
  std::span<const CapName> common_caps() const { return common_caps_; }
  // Wire channels and layers alike; check ChannelDef::layer where only channels make sense.
  std::span<const ChannelDef> channels() const { return channels_; }
  uint16_t max_type() const { return kMaxType; }

  // Building (used by schema/builder.cpp only).
  class Builder;
  friend class Builder;

 private:
  static constexpr uint16_t kMaxType = 512;
  static constexpr size_t kChannelSlots = 16;

  std::deque<Type> types_;
  std::deque<ValueNames> value_names_;
  std::deque<CapCondition> cap_conditions_;
  std::vector<MessageDef> messages_;
  std::vector<LayoutNode> nodes_;
  std::vector<ChannelDef> channels_;
  std::vector<CapName> common_caps_;
  // [channel slot][direction][type] -> index into messages_ + 1 (0 = none)
  std::vector<uint16_t> lookup_ = std::vector<uint16_t>(kChannelSlots * 2 * kMaxType, 0);
};

}  // namespace sc::schema
