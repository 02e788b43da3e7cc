#pragma once
// The API the protocol description (dissect/proto/*.cpp) is written in.
//
//   auto& main = b.channel(SPICE_CHANNEL_MAIN, "main", {"SPICE_MSG_MAIN_", "SPICE_MSGC_MAIN_"});
//   main.inherit(base);
//   main.s2c(SC_SYM(SPICE_MSG_MAIN_INIT), {b.u32("session_id").vol(), ...});
//
// Message and value names are derived from the spice-protocol symbols (SC_SYM
// stringizes them), so the numbers and names come from the headers, not retyped.
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "dissect/schema/registry.hpp"

// A spice-protocol constant together with its spelling.
#define SC_SYM(sym) ::sc::schema::Symbol{static_cast<uint64_t>(sym), #sym}

namespace sc::schema {

struct Symbol {
  uint64_t value;
  std::string_view spelling;
};

// Lower-cases what follows the longest matching prefix: ("SPICE_MSG_MAIN_INIT", {"SPICE_MSG_MAIN_"}) -> "init".
std::string symbol_name(std::string_view spelling, std::initializer_list<std::string_view> prefixes);
std::string symbol_name(std::string_view spelling, const std::vector<std::string>& prefixes);

// A field under construction; converts to Field.
class FieldSpec {
 public:
  FieldSpec(std::string name, const Type* type) { f_.name = std::move(name); f_.type = type; }
  FieldSpec& vol() { f_.is_volatile = true; return *this; }
  FieldSpec& secret(SecretMask classes) { f_.secret = classes; return *this; }
  FieldSpec& only_with(const CapCondition* c) { f_.only_with = c; return *this; }
  FieldSpec& trailing() { f_.trailing = true; return *this; }
  operator Field() const { return f_; }  // NOLINT: implicit by design, keeps descriptions terse

 private:
  Field f_;
};

class ChannelBuilder;

class Registry::Builder {
 public:
  explicit Builder(Registry& r) : r_(r) {}

  // Types
  const Type* integer(IntRep rep, const ValueNames* names = nullptr, bool big_endian = false);
  const Type* structure(std::string name, std::vector<Field> fields, bool pointer_base = false);
  const Type* array(const Type* element, Count count);
  const Type* bytes(Count count, bool text = false);
  // Bytes whose first bytes are the header `header` describes (see Type::fields).
  const Type* carrier(Count count, std::vector<Field> header);
  const Type* pointer(const Type* target);
  const Type* select(std::string selector, std::vector<SwitchCase> cases);
  const ValueNames* names(std::string type_name, bool flags, std::string_view prefix,
                          std::initializer_list<Symbol> values);
  const CapCondition* cap(bool common, uint32_t index);
  // Flags named after a channel's capabilities (bit i of a capability word is cap i),
  // for capability words carried in message bodies.
  const ValueNames* cap_flags(std::string type_name, const ChannelBuilder& channel);

  // Fields
  FieldSpec u8(std::string n, const ValueNames* v = nullptr) { return {std::move(n), integer(IntRep::U8, v)}; }
  FieldSpec u16(std::string n, const ValueNames* v = nullptr) { return {std::move(n), integer(IntRep::U16, v)}; }
  FieldSpec u32(std::string n, const ValueNames* v = nullptr) { return {std::move(n), integer(IntRep::U32, v)}; }
  FieldSpec u64(std::string n, const ValueNames* v = nullptr) { return {std::move(n), integer(IntRep::U64, v)}; }
  // Big-endian integers (LZ and GLZ headers).
  FieldSpec u16be(std::string n, const ValueNames* v = nullptr) { return {std::move(n), integer(IntRep::U16, v, true)}; }
  FieldSpec u32be(std::string n, const ValueNames* v = nullptr) { return {std::move(n), integer(IntRep::U32, v, true)}; }
  FieldSpec u64be(std::string n, const ValueNames* v = nullptr) { return {std::move(n), integer(IntRep::U64, v, true)}; }
  FieldSpec i16(std::string n) { return {std::move(n), integer(IntRep::I16)}; }
  FieldSpec i32(std::string n) { return {std::move(n), integer(IntRep::I32)}; }
  FieldSpec i64(std::string n) { return {std::move(n), integer(IntRep::I64)}; }
  FieldSpec field(std::string n, const Type* t) { return {std::move(n), t}; }
  FieldSpec raw(std::string n, Count c) { return {std::move(n), bytes(std::move(c))}; }
  // A payload hook: bytes (one value, as raw() gives) whose header is described
  // by `header`, decoded as the bytes' children: "<bytes path>.<header field>".
  FieldSpec payload(std::string n, Count c, std::vector<Field> header) { return {std::move(n), carrier(std::move(c), std::move(header))}; }
  FieldSpec text(std::string n, Count c) { return {std::move(n), bytes(std::move(c), true)}; }
  FieldSpec list(std::string n, const Type* element, Count c) { return {std::move(n), array(element, std::move(c))}; }
  FieldSpec ptr(std::string n, const Type* target) { return {std::move(n), pointer(target)}; }
  // An anonymous switch: the chosen case's fields sit beside the selector.
  FieldSpec cases(std::string selector, std::vector<SwitchCase> c) { return {"", select(std::move(selector), std::move(c))}; }

  // Channels and messages
  ChannelBuilder& channel(uint8_t type, std::string name, std::vector<std::string> symbol_prefixes);
  ChannelBuilder& abstract_channel(std::string name, std::vector<std::string> symbol_prefixes);
  // A protocol carried inside a channel's messages (the agent inside main.agent_data):
  // looked up like a channel under its own slot number, never taken for a wire channel.
  ChannelBuilder& layer(uint8_t slot, std::string name, std::vector<std::string> symbol_prefixes);
  void link_message(LinkStep step, std::string name, Direction dir, const Type* body);
  void common_caps(std::initializer_list<Symbol> caps, std::string_view prefix);

  // Compiles every message into layouts and fills the lookup table. Throws
  // std::logic_error on a description mistake (unknown reference, duplicate type).
  void finish();

 private:
  friend class ChannelBuilder;
  uint32_t compile(const std::string& path, const std::string& prefix, const std::string& name,
                   const Type* type, const Field* field, uint32_t parent);
  void resolve(uint32_t node_id);
  uint32_t lookup_name(uint32_t from, std::string_view dotted) const;
  uint32_t min_size(const Type* t) const;
  bool fixed_size(const Type* t) const;

  Registry& r_;
  std::deque<ChannelBuilder> channels_;
  std::vector<std::pair<Symbol, std::string>> pending_caps_;
};

// Counts
inline Count fixed(uint32_t n) { Count c; c.kind = Count::Kind::Fixed; c.fixed = n; return c; }
inline Count by(std::string field) { Count c; c.kind = Count::Kind::Field; c.field = std::move(field); return c; }
inline Count rest() { return Count{}; }
inline Count raster(uint32_t bits, std::string row_width, std::string rows) {
  Count c; c.kind = Count::Kind::ImageBits; c.bits = bits; c.field = std::move(row_width); c.field_b = std::move(rows);
  return c;
}
// Switch cases
inline SwitchCase when(uint64_t v, std::vector<Field> f) { return {{CaseMatch{CaseMatch::Kind::Equal, v}}, std::move(f)}; }
inline SwitchCase when_any(std::initializer_list<uint64_t> vs, std::vector<Field> f) {
  SwitchCase c; for (auto v : vs) c.matches.push_back({CaseMatch::Kind::Equal, v});
  c.fields = std::move(f); return c;
}
inline SwitchCase when_bit(uint64_t mask, std::vector<Field> f) { return {{CaseMatch{CaseMatch::Kind::AnyBit, mask}}, std::move(f)}; }
inline SwitchCase unless_bit(uint64_t mask, std::vector<Field> f) { return {{CaseMatch{CaseMatch::Kind::NoBit, mask}}, std::move(f)}; }
inline SwitchCase otherwise(std::vector<Field> f) { return {{}, std::move(f)}; }

class ChannelBuilder {
 public:
  ChannelBuilder(Registry::Builder& b, uint8_t type, std::string name, std::vector<std::string> prefixes)
      : b_(b), type_(type), name_(std::move(name)), prefixes_(std::move(prefixes)) {}

  // Takes every message of `parent` (base channel, spicevmc, port...) as this channel's own.
  ChannelBuilder& inherit(const ChannelBuilder& parent);
  ChannelBuilder& s2c(Symbol sym, std::vector<Field> fields);
  ChannelBuilder& c2s(Symbol sym, std::vector<Field> fields);
  ChannelBuilder& caps(std::initializer_list<Symbol> caps, std::string_view prefix);

  struct Entry {
    Direction dir;
    uint16_t type;
    std::string name;
    const Type* body;
  };
  const std::vector<Entry>& entries() const { return entries_; }
  uint8_t type() const { return type_; }
  bool is_layer() const { return layer_; }
  void mark_layer() { layer_ = true; }
  const std::string& name() const { return name_; }
  const std::vector<CapName>& cap_names() const { return caps_; }

 private:
  ChannelBuilder& add(Direction d, Symbol sym, std::vector<Field> fields);
  Registry::Builder& b_;
  uint8_t type_;
  std::string name_;
  std::vector<std::string> prefixes_;
  std::vector<Entry> entries_;
  std::vector<CapName> caps_;
  bool layer_ = false;
};

}  // namespace sc::schema
