#include "dissect/schema/registry.hpp"

#include <mutex>

#include "dissect/proto/spice.hpp"
#include "dissect/schema/builder.hpp"

namespace sc::schema {

std::string_view ValueNames::name_of(uint64_t v) const {
  for (const auto& nv : values) {
    if (nv.value == v) return nv.name;
  }
  return {};
}

std::string ValueNames::describe(uint64_t v) const {
  if (!is_flags) {
    auto n = name_of(v);
    return n.empty() ? std::to_string(v) : std::string(n);
  }
  std::string out;
  uint64_t left = v;
  for (const auto& nv : values) {
    if (nv.value != 0 && (v & nv.value) == nv.value) {
      if (!out.empty()) out += '|';
      out += nv.name;
      left &= ~nv.value;
    }
  }
  if (left != 0) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(left));
    if (!out.empty()) out += '|';
    out += buf;
  }
  return out.empty() ? "0" : out;
}

const Registry& Registry::spice() {
  static const Registry instance = [] {
    Registry r;
    Builder b(r);
    proto::describe_spice(b);
    b.finish();
    return r;
  }();
  return instance;
}

const MessageDef* Registry::find(uint8_t channel_type, Direction dir, uint16_t type) const {
  if (channel_type >= kChannelSlots || type >= kMaxType) return nullptr;
  const uint16_t slot = lookup_[(channel_type * 2 + static_cast<size_t>(dir)) * kMaxType + type];
  return slot ? &messages_[slot - 1] : nullptr;
}

const MessageDef* Registry::link(LinkStep step) const {
  for (const auto& m : messages_) {
    if (m.is_link() && m.type == static_cast<uint16_t>(step)) return &m;
  }
  return nullptr;
}

const ChannelDef* Registry::channel(uint8_t type) const {
  for (const auto& c : channels_) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

std::string Registry::channel_name(uint8_t type) const {
  if (const auto* c = channel(type)) return c->name;
  return "channel-" + std::to_string(type);
}

}  // namespace sc::schema
