#pragma once
// The SPICE 2.2 wire protocol, described as data (see dissect/schema/builder.hpp).
// One file per channel family; shared structures live in shared.cpp.
#include "dissect/schema/builder.hpp"

namespace sc::proto {

using schema::ChannelBuilder;
using Builder = schema::Registry::Builder;
using schema::Type;
using schema::ValueNames;

// Structures and value names used by more than one channel.
struct Shared {
  const ValueNames* link_err;
  const ValueNames* channel_type;
  const ValueNames* mouse_mode;
  const ValueNames* image_compression;
  const ValueNames* video_codec;
  const ValueNames* audio_data_mode;
  const ValueNames* audio_fmt;
  const Type* point;
  const Type* point16;
  const Type* rect;
  const Type* clip;
  const Type* channel_wait;
};

Shared describe_shared(Builder& b);
void describe_link(Builder& b, const Shared& s);
ChannelBuilder& describe_base(Builder& b, const Shared& s);
void describe_main(Builder& b, const Shared& s, const ChannelBuilder& base);
void describe_display(Builder& b, const Shared& s, const ChannelBuilder& base);
void describe_inputs(Builder& b, const Shared& s, const ChannelBuilder& base);
void describe_cursor(Builder& b, const Shared& s, const ChannelBuilder& base);
void describe_audio(Builder& b, const Shared& s, const ChannelBuilder& base);
void describe_vmc(Builder& b, const Shared& s, const ChannelBuilder& base);
void describe_agent(Builder& b, const Shared& s);

// The slot the agent layer (dissect/proto/agent.cpp) is looked up under in the
// registry, like a channel type but above every SPICE channel number.
inline constexpr uint8_t kAgentLayer = 15;

// All of the above, in order.
void describe_spice(Builder& b);

}  // namespace sc::proto
