#include "dissect/decode/encoder.hpp"

#include <deque>
#include <nlohmann/json.hpp>

namespace sc::decode {

using nlohmann::json;
using schema::Kind;
using schema::LayoutNode;

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class Emitter {
 public:
  Emitter(const schema::Registry& reg, const NegotiatedCaps& caps) : reg_(reg), caps_(caps) {}

  bool run(uint32_t root, const json& j) {
    if (!emit(root, j, 0)) return false;
    // Targets may themselves hold pointers: the queue grows while it drains.
    while (!deferred_.empty()) {
      Deferred d = std::move(deferred_.front());
      deferred_.pop_front();
      const size_t off = out_.size() - d.base;
      for (unsigned i = 0; i < 4; ++i) out_[d.patch_at + i] = static_cast<uint8_t>(off >> (8 * i));
      if (!emit(d.node, d.value, d.base)) return false;
    }
    return true;
  }

  std::vector<uint8_t> take() { return std::move(out_); }
  const std::string& error() const { return error_; }

 private:
  struct Deferred {
    uint32_t node;
    json value;
    size_t patch_at;
    size_t base;
  };

  bool fail(const LayoutNode& n, std::string text) {
    error_ = n.path + ": " + text;
    return false;
  }

  void put(uint64_t v, unsigned width, bool big_endian = false) {
    for (unsigned i = 0; i < width; ++i) {
      out_.push_back(static_cast<uint8_t>(v >> (8 * (big_endian ? width - 1 - i : i))));
    }
  }

  // A payload hook's header as the JSON gives it beside the bytes ("data.lz" for
  // the bytes "data"): {"lz": ...}, or null when the JSON has none.
  static json header_of(const LayoutNode& bytes, const json& obj) {
    if (bytes.children.empty() || !obj.is_object()) return nullptr;
    json header;
    const std::string prefix = bytes.name + ".";
    for (const auto& [key, value] : obj.items()) {
      if (key.starts_with(prefix)) header[key.substr(prefix.size())] = value;
    }
    return header;
  }

  // Bytes given only by their header are that header, encoded: its size, for a
  // count left out, is found by encoding it aside.
  std::optional<uint64_t> header_size(const LayoutNode& bytes, const json& header) const {
    Emitter aside(reg_, caps_);
    aside.ints_ = ints_;  // switches inside a header may look at fields already written
    if (!aside.emit_children(bytes, 0, bytes.children.size(), header, 0)) return std::nullopt;
    return aside.out_.size();
  }

  uint64_t recent(uint32_t node) const {
    for (size_t i = ints_.size(); i-- > 0;) {
      if (ints_[i].first == node) return ints_[i].second;
    }
    return 0;
  }

  // Whether the JSON holds the field (or, for an anonymous switch, any of its cases' fields).
  bool mentions(const LayoutNode& n, const json& obj) const {
    if (!obj.is_object()) return false;
    if (!n.name.empty()) return obj.contains(n.name);
    for (uint32_t c : n.children) {
      if (mentions(reg_.node(c), obj)) return true;
    }
    return false;
  }

  bool present(const LayoutNode& n) const {
    if (!n.field || !n.field->only_with) return true;
    const auto* c = n.field->only_with;
    return c->common ? caps_.common.has(c->index) : caps_.channel.has(c->index);
  }

  // Size of what a counted child will hold, for filling in a count left out.
  static std::optional<uint64_t> length_of(const LayoutNode& counted, const json& v) {
    if (v.is_array()) return v.size();
    if (v.is_string()) return counted.type->text ? v.get_ref<const std::string&>().size()
                                                 : v.get_ref<const std::string&>().size() / 2;
    return std::nullopt;
  }

  // Fills counts the caller left out, from the arrays and byte fields they count.
  // A count may sit beside what it counts or further out (link caps are counted
  // by fields of the struct holding the pointer to them), so this looks down
  // through nested structs and pointer targets, but not into array elements,
  // whose counts belong to each element.
  json with_counts(const LayoutNode& n, const json& j) const {
    json filled = j.is_object() ? j : json::object();
    auto owned_here = [&](uint32_t ref) {
      for (uint32_t scope = reg_.node(ref).parent; scope != schema::kNoNode; scope = reg_.node(scope).parent) {
        if (scope == n.id) return true;
        if (!reg_.node(scope).name.empty() || reg_.node(scope).type->kind != Kind::Switch) return false;
      }
      return false;
    };
    auto visit = [&](auto&& self, const LayoutNode& node, const json& value) -> void {
      for (uint32_t c : node.children) {
        const LayoutNode& child = reg_.node(c);
        const bool anonymous = child.name.empty();
        const json* v = &value;
        const auto kind = child.type->kind;
        if (!anonymous && node.type->kind != Kind::Pointer) {
          if (!value.is_object() || !value.contains(child.name)) {
            const json header = kind == Kind::Bytes ? header_of(child, value) : json();
            if (!header.is_null() && child.count_ref != schema::kNoNode &&
                child.type->count.kind == schema::Count::Kind::Field && owned_here(child.count_ref)) {
              const std::string& ref = reg_.node(child.count_ref).name;
              if (!filled.contains(ref)) {
                if (auto len = header_size(child, header)) filled[ref] = *len;
              }
            }
            if (!header.is_null()) self(self, child, header);  // counts inside the header (jpeg_size)
            continue;
          }
          v = &value[child.name];
        }
        if ((kind == Kind::Array || kind == Kind::Bytes) && child.count_ref != schema::kNoNode &&
            child.type->count.kind == schema::Count::Kind::Field && owned_here(child.count_ref)) {
          const std::string& ref = reg_.node(child.count_ref).name;
          if (!filled.contains(ref)) {
            if (auto len = length_of(child, *v)) filled[ref] = *len;
          }
        }
        if (kind == Kind::Struct || kind == Kind::Switch || kind == Kind::Pointer) self(self, child, *v);
      }
    };
    visit(visit, n, filled);
    return filled;
  }

  bool emit_children(const LayoutNode& n, size_t first, size_t last, const json& obj, size_t base) {
    for (size_t i = first; i < last; ++i) {
      const LayoutNode& child = reg_.node(n.children[i]);
      if (!present(child)) continue;
      if (child.field && child.field->trailing && !mentions(child, obj)) continue;
      if (child.name.empty()) {
        if (!emit(child.id, obj, base)) return false;
      } else {
        static const json kNull;
        auto it = obj.find(child.name);
        if (it == obj.end() && child.type->kind == Kind::Bytes) {
          // No bytes, but perhaps their header: then the bytes are the header.
          const json header = header_of(child, obj);
          if (!header.is_null()) {
            if (!emit_children(child, 0, child.children.size(), header, base)) return false;
            continue;
          }
        }
        if (!emit(child.id, it == obj.end() ? kNull : *it, base)) return false;
      }
    }
    return true;
  }

  bool emit(uint32_t id, const json& j, size_t base) {
    const LayoutNode& n = reg_.node(id);
    const schema::Type& t = *n.type;
    switch (t.kind) {
      case Kind::Int: {
        uint64_t v = 0;
        if (j.is_number_unsigned()) v = j.get<uint64_t>();
        else if (j.is_number_integer()) v = static_cast<uint64_t>(j.get<int64_t>());
        else if (j.is_string() && t.names) {
          bool found = false;
          for (const auto& nv : t.names->values) {
            if (nv.name == j.get_ref<const std::string&>()) { v = nv.value; found = true; }
          }
          if (!found) return fail(n, "unknown " + t.names->type_name + " name '" + j.get<std::string>() + "'");
        } else if (!j.is_null()) {
          return fail(n, "expected an integer");
        }
        ints_.emplace_back(id, v);
        put(v, schema::int_width(t.rep), t.big_endian);
        return true;
      }
      case Kind::Bytes: {
        if (j.is_null()) return t.count.kind == schema::Count::Kind::Fixed && t.count.fixed > 0
                                    ? fail(n, "needs " + std::to_string(t.count.fixed) + " bytes")
                                    : true;
        if (!j.is_string()) return fail(n, "bytes were summarised; export with the bytes inlined to encode");
        const auto& s = j.get_ref<const std::string&>();
        const size_t before = out_.size();
        if (t.text) {
          out_.insert(out_.end(), s.begin(), s.end());
        } else {
          if (s.size() % 2) return fail(n, "odd-length hex string");
          for (size_t i = 0; i < s.size(); i += 2) {
            const int hi = hex_digit(s[i]), lo = hex_digit(s[i + 1]);
            if (hi < 0 || lo < 0) return fail(n, "not a hex string");
            out_.push_back(static_cast<uint8_t>(hi * 16 + lo));
          }
        }
        if (t.count.kind == schema::Count::Kind::Fixed && out_.size() - before != t.count.fixed) {
          return fail(n, "needs exactly " + std::to_string(t.count.fixed) + " bytes");
        }
        return true;
      }
      case Kind::Struct: {
        const json filled = with_counts(n, j);
        const size_t my_base = t.pointer_base ? out_.size() : base;
        return emit_children(n, 0, n.children.size(), filled, my_base);
      }
      case Kind::Switch: {
        const uint64_t v = recent(n.selector_ref);
        size_t chosen = t.cases.size();
        for (size_t c = 0; c < t.cases.size() && chosen == t.cases.size(); ++c) {
          for (const auto& m : t.cases[c].matches) {
            if (m.matches(v)) { chosen = c; break; }
          }
        }
        if (chosen == t.cases.size()) {
          for (size_t c = 0; c < t.cases.size(); ++c) {
            if (t.cases[c].matches.empty()) chosen = c;
          }
        }
        if (chosen == t.cases.size()) return true;
        const json filled = with_counts(n, j);
        return emit_children(n, n.case_begin[chosen], n.case_begin[chosen + 1], filled, base);
      }
      case Kind::Array: {
        if (j.is_null()) return true;
        if (!j.is_array()) return fail(n, "expected a list");
        for (const auto& e : j) {
          if (!emit(n.children[0], e, base)) return false;
        }
        return true;
      }
      case Kind::Pointer: {
        if (j.is_null()) {
          put(0, 4);
          return true;
        }
        deferred_.push_back({n.children[0], j, out_.size(), base});
        put(0, 4);
        return true;
      }
    }
    return false;
  }

  const schema::Registry& reg_;
  const NegotiatedCaps& caps_;
  std::vector<uint8_t> out_;
  std::deque<Deferred> deferred_;
  std::vector<std::pair<uint32_t, uint64_t>> ints_;
  std::string error_;
};

}  // namespace

Result<std::vector<uint8_t>> encode_message(const schema::MessageDef& def, const json& fields,
                                            const NegotiatedCaps& caps) {
  Emitter e(schema::Registry::spice(), caps);
  if (!e.run(def.root, fields)) return make_error(def.full_name + ": " + e.error());
  return e.take();
}

}  // namespace sc::decode
