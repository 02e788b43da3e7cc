#include "dissect/schema/builder.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <unordered_map>

namespace sc::schema {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

template <typename Prefixes>
std::string strip_longest(std::string_view spelling, const Prefixes& prefixes) {
  size_t best = 0;
  for (std::string_view p : prefixes) {
    if (spelling.starts_with(p) && p.size() > best) best = p.size();
  }
  return lower(spelling.substr(best));
}

}  // namespace

std::string symbol_name(std::string_view spelling, std::initializer_list<std::string_view> prefixes) {
  return strip_longest(spelling, prefixes);
}
std::string symbol_name(std::string_view spelling, const std::vector<std::string>& prefixes) {
  return strip_longest(spelling, prefixes);
}

// ---- types -------------------------------------------------------------------

const Type* Registry::Builder::integer(IntRep rep, const ValueNames* names, bool big_endian) {
  // Plain integers are shared; named ones are distinct so each keeps its names.
  if (!names) {
    for (const auto& t : r_.types_) {
      if (t.kind == Kind::Int && t.rep == rep && !t.names && t.big_endian == big_endian) return &t;
    }
  }
  Type& t = r_.types_.emplace_back();
  t.kind = Kind::Int;
  t.rep = rep;
  t.names = names;
  t.big_endian = big_endian;
  t.name = names ? names->type_name : "";
  return &t;
}

const Type* Registry::Builder::structure(std::string name, std::vector<Field> fields, bool pointer_base) {
  Type& t = r_.types_.emplace_back();
  t.kind = Kind::Struct;
  t.name = std::move(name);
  t.fields = std::move(fields);
  t.pointer_base = pointer_base;
  return &t;
}

const Type* Registry::Builder::array(const Type* element, Count count) {
  Type& t = r_.types_.emplace_back();
  t.kind = Kind::Array;
  t.element = element;
  t.count = std::move(count);
  return &t;
}

const Type* Registry::Builder::bytes(Count count, bool is_text) {
  Type& t = r_.types_.emplace_back();
  t.kind = Kind::Bytes;
  t.count = std::move(count);
  t.text = is_text;
  return &t;
}

const Type* Registry::Builder::carrier(Count count, std::vector<Field> header) {
  Type& t = r_.types_.emplace_back();
  t.kind = Kind::Bytes;
  t.count = std::move(count);
  t.fields = std::move(header);
  return &t;
}

const Type* Registry::Builder::pointer(const Type* target) {
  Type& t = r_.types_.emplace_back();
  t.kind = Kind::Pointer;
  t.target = target;
  return &t;
}

const Type* Registry::Builder::select(std::string selector, std::vector<SwitchCase> cases) {
  Type& t = r_.types_.emplace_back();
  t.kind = Kind::Switch;
  t.selector = std::move(selector);
  t.cases = std::move(cases);
  return &t;
}

const ValueNames* Registry::Builder::names(std::string type_name, bool flags, std::string_view prefix,
                                           std::initializer_list<Symbol> values) {
  ValueNames& v = r_.value_names_.emplace_back();
  v.type_name = std::move(type_name);
  v.is_flags = flags;
  for (const auto& s : values) v.values.push_back({s.value, symbol_name(s.spelling, {prefix})});
  return &v;
}

const ValueNames* Registry::Builder::cap_flags(std::string type_name, const ChannelBuilder& channel) {
  ValueNames& v = r_.value_names_.emplace_back();
  v.type_name = std::move(type_name);
  v.is_flags = true;
  for (const auto& c : channel.cap_names()) {
    if (c.index < 64) v.values.push_back({uint64_t{1} << c.index, c.name});
  }
  return &v;
}

const CapCondition* Registry::Builder::cap(bool common, uint32_t index) {
  return &r_.cap_conditions_.emplace_back(CapCondition{common, index});
}

void Registry::Builder::common_caps(std::initializer_list<Symbol> caps, std::string_view prefix) {
  for (const auto& s : caps) {
    r_.common_caps_.push_back({static_cast<uint32_t>(s.value), symbol_name(s.spelling, {prefix})});
  }
}

// ---- channels ----------------------------------------------------------------

ChannelBuilder& Registry::Builder::channel(uint8_t type, std::string name, std::vector<std::string> prefixes) {
  if (type == 0 || type >= kChannelSlots) throw std::logic_error("channel type out of range: " + name);
  return channels_.emplace_back(*this, type, std::move(name), std::move(prefixes));
}

ChannelBuilder& Registry::Builder::layer(uint8_t slot, std::string name, std::vector<std::string> prefixes) {
  ChannelBuilder& b = channel(slot, std::move(name), std::move(prefixes));
  b.mark_layer();
  return b;
}

ChannelBuilder& Registry::Builder::abstract_channel(std::string name, std::vector<std::string> prefixes) {
  return channels_.emplace_back(*this, 0, std::move(name), std::move(prefixes));
}

ChannelBuilder& ChannelBuilder::inherit(const ChannelBuilder& parent) {
  for (const auto& e : parent.entries_) entries_.push_back(e);
  return *this;
}

ChannelBuilder& ChannelBuilder::add(Direction d, Symbol sym, std::vector<Field> fields) {
  std::string name = symbol_name(sym.spelling, prefixes_);
  const Type* body = b_.structure(name_ + "." + name, std::move(fields));
  // A later definition of the same type replaces an inherited one.
  std::erase_if(entries_, [&](const Entry& e) { return e.dir == d && e.type == sym.value; });
  entries_.push_back({d, static_cast<uint16_t>(sym.value), std::move(name), body});
  return *this;
}

ChannelBuilder& ChannelBuilder::s2c(Symbol sym, std::vector<Field> fields) {
  return add(Direction::S2C, sym, std::move(fields));
}
ChannelBuilder& ChannelBuilder::c2s(Symbol sym, std::vector<Field> fields) {
  return add(Direction::C2S, sym, std::move(fields));
}
ChannelBuilder& ChannelBuilder::caps(std::initializer_list<Symbol> list, std::string_view prefix) {
  for (const auto& s : list) caps_.push_back({static_cast<uint32_t>(s.value), symbol_name(s.spelling, {prefix})});
  return *this;
}

void Registry::Builder::link_message(LinkStep step, std::string name, Direction dir, const Type* body) {
  MessageDef m;
  m.channel_type = 0;
  m.direction = dir;
  m.type = static_cast<uint16_t>(step);
  m.name = name;
  m.full_name = "link." + name;
  m.body = body;
  r_.messages_.push_back(std::move(m));
}

// ---- compilation ---------------------------------------------------------------

uint32_t Registry::Builder::min_size(const Type* t) const {
  switch (t->kind) {
    case Kind::Int: return int_width(t->rep);
    case Kind::Pointer: return 4;
    case Kind::Bytes: return t->count.kind == Count::Kind::Fixed ? t->count.fixed : 0;
    case Kind::Array:
      return t->count.kind == Count::Kind::Fixed ? t->count.fixed * min_size(t->element) : 0;
    case Kind::Struct: {
      uint32_t sum = 0;
      for (const auto& f : t->fields) sum += f.optional() ? 0 : min_size(f.type);
      return sum;
    }
    case Kind::Switch: {
      uint32_t best = 0;
      bool has_default = false;
      for (const auto& c : t->cases) has_default |= c.matches.empty();
      if (!has_default) return 0;
      best = UINT32_MAX;
      for (const auto& c : t->cases) {
        uint32_t sum = 0;
        for (const auto& f : c.fields) sum += f.optional() ? 0 : min_size(f.type);
        best = std::min(best, sum);
      }
      return best;
    }
  }
  return 0;
}

bool Registry::Builder::fixed_size(const Type* t) const {
  switch (t->kind) {
    case Kind::Int: return true;
    case Kind::Bytes: return t->count.kind == Count::Kind::Fixed;
    case Kind::Array: return t->count.kind == Count::Kind::Fixed && fixed_size(t->element);
    case Kind::Struct:
      for (const auto& f : t->fields) {
        if (f.optional() || !fixed_size(f.type)) return false;
      }
      return true;
    case Kind::Pointer:
    case Kind::Switch: return false;
  }
  return false;
}

uint32_t Registry::Builder::compile(const std::string& path, const std::string& prefix, const std::string& name,
                                    const Type* type, const Field* field, uint32_t parent) {
  const auto id = static_cast<uint32_t>(r_.nodes_.size());
  {
    LayoutNode n;
    n.id = id;
    n.parent = parent;
    n.path = path;
    n.name = name;
    n.json_key = "\"" + name + "\":";
    n.type = type;
    n.field = field;
    n.min_wire_size = min_size(type);
    n.fixed_size = fixed_size(type);
    r_.nodes_.push_back(std::move(n));
  }
  auto add_child = [&](uint32_t child) { r_.nodes_[id].children.push_back(child); };
  // Children are named under `prefix`: array elements and pointer targets add no
  // segment of their own ("clip.rects.top", not "clip.rects[].top").
  auto compile_fields = [&](const std::vector<Field>& fields, const std::string& under) {
    for (const Field& f : fields) {
      if (f.name.empty()) {
        const std::string anon = under + ".#" + std::to_string(r_.nodes_[id].children.size());
        add_child(compile(anon, under, f.name, f.type, &f, id));
      } else {
        const std::string child = under + "." + f.name;
        add_child(compile(child, child, f.name, f.type, &f, id));
      }
    }
  };

  switch (type->kind) {
    case Kind::Int:
      break;
    case Kind::Bytes:  // a payload hook's header, named under the bytes
    case Kind::Struct:
      compile_fields(type->fields, prefix);
      break;
    case Kind::Array:
      add_child(compile(path + "[]", prefix, "", type->element, nullptr, id));
      break;
    case Kind::Pointer:
      add_child(compile(path + "*", prefix, "", type->target, nullptr, id));
      break;
    case Kind::Switch: {
      for (const auto& c : type->cases) {
        r_.nodes_[id].case_begin.push_back(static_cast<uint32_t>(r_.nodes_[id].children.size()));
        compile_fields(c.fields, prefix);
      }
      r_.nodes_[id].case_begin.push_back(static_cast<uint32_t>(r_.nodes_[id].children.size()));
      break;
    }
  }
  return id;
}

uint32_t Registry::Builder::lookup_name(uint32_t from, std::string_view dotted) const {
  const auto& nodes = r_.nodes_;
  // Finds a named child of `n`, looking through anonymous switches.
  auto find_child = [&](auto&& self, uint32_t n, std::string_view want) -> uint32_t {
    for (uint32_t c : nodes[n].children) {
      if (nodes[c].name == want) return c;
      if (nodes[c].name.empty() && nodes[c].type->kind == Kind::Switch) {
        if (uint32_t hit = self(self, c, want); hit != kNoNode) return hit;
      }
    }
    return kNoNode;
  };
  const size_t dot = dotted.find('.');
  const std::string_view head = dotted.substr(0, dot);
  for (uint32_t scope = from; scope != kNoNode; scope = nodes[scope].parent) {
    const Kind k = nodes[scope].type->kind;
    if (k != Kind::Struct && k != Kind::Switch) continue;
    uint32_t hit = find_child(find_child, scope, head);
    if (hit == kNoNode) continue;
    std::string_view tail = dot == std::string_view::npos ? std::string_view{} : dotted.substr(dot + 1);
    while (!tail.empty() && hit != kNoNode) {
      const size_t d = tail.find('.');
      hit = find_child(find_child, hit, tail.substr(0, d));
      tail = d == std::string_view::npos ? std::string_view{} : tail.substr(d + 1);
    }
    return hit;
  }
  return kNoNode;
}

void Registry::Builder::resolve(uint32_t id) {
  LayoutNode& n = r_.nodes_[id];
  const Type* t = n.type;
  auto must = [&](std::string_view what) {
    uint32_t hit = lookup_name(n.parent, what);
    if (hit == kNoNode || r_.nodes_[hit].type->kind != Kind::Int) {
      throw std::logic_error("description error: " + n.path + " refers to unknown integer field '" +
                             std::string(what) + "'");
    }
    return hit;
  };
  if ((t->kind == Kind::Array || t->kind == Kind::Bytes)) {
    if (t->count.kind == Count::Kind::Field) n.count_ref = must(t->count.field);
    if (t->count.kind == Count::Kind::ImageBits) {
      n.count_ref = must(t->count.field);
      n.count_ref_b = must(t->count.field_b);
    }
  }
  if (t->kind == Kind::Switch) n.selector_ref = must(t->selector);
  // children may be appended to r_.nodes_ only during compile, so indices are stable here
  const std::vector<uint32_t> children = r_.nodes_[id].children;
  for (uint32_t c : children) resolve(c);
}

void Registry::Builder::finish() {
  for (const auto& ch : channels_) {
    if (ch.type() == 0) continue;
    ChannelDef def;
    def.type = ch.type();
    def.name = ch.name();
    def.caps = ch.cap_names();
    def.layer = ch.is_layer();
    r_.channels_.push_back(def);
    for (const auto& e : ch.entries()) {
      MessageDef m;
      m.channel_type = ch.type();
      m.direction = e.dir;
      m.type = e.type;
      m.name = e.name;
      m.full_name = ch.name() + "." + e.name;
      m.body = e.body;
      r_.messages_.push_back(std::move(m));
    }
  }
  std::unordered_map<std::string, std::pair<Kind, IntRep>> seen_paths;
  for (size_t i = 0; i < r_.messages_.size(); ++i) {
    MessageDef& m = r_.messages_[i];
    m.root = compile(m.full_name, m.full_name, "", m.body, nullptr, kNoNode);
    resolve(m.root);
    if (m.is_link()) continue;
    if (m.type >= kMaxType) throw std::logic_error("message type too large: " + m.full_name);
    uint16_t& slot = r_.lookup_[(m.channel_type * 2 + static_cast<size_t>(m.direction)) * kMaxType + m.type];
    if (slot != 0) throw std::logic_error("two definitions for " + m.full_name);
    slot = static_cast<uint16_t>(i + 1);
  }
  // The same dotted path must mean the same thing wherever it occurs (both
  // directions of one message name share their paths).
  for (const auto& n : r_.nodes_) {
    auto [it, fresh] = seen_paths.emplace(n.path, std::make_pair(n.type->kind, n.type->rep));
    if (!fresh && (it->second.first != n.type->kind ||
                   (n.type->kind == Kind::Int && it->second.second != n.type->rep))) {
      throw std::logic_error("description error: path " + n.path + " has two different layouts");
    }
  }
}

}  // namespace sc::schema
