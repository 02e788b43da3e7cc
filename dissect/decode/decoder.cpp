#include "dissect/decode/decoder.hpp"

#include <cstring>

namespace sc::decode {

using schema::Kind;
using schema::LayoutNode;
using schema::kNoNode;

std::string_view severity_name(Severity s) {
  switch (s) {
    case Severity::Info: return "info";
    case Severity::Warning: return "warning";
    case Severity::Error: return "error";
  }
  return "error";
}

const FieldValue* DecodedMessage::find(std::string_view path) const {
  const auto& reg = schema::Registry::spice();
  for (const auto& v : values) {
    if (reg.node(v.node).path == path) return &v;
  }
  return nullptr;
}

CapSet CapSet::intersect(const CapSet& a, const CapSet& b) {
  CapSet out;
  out.words.resize(std::min(a.words.size(), b.words.size()));
  for (size_t i = 0; i < out.words.size(); ++i) out.words[i] = a.words[i] & b.words[i];
  return out;
}

namespace {

uint64_t read_le(const uint8_t* p, unsigned width) {
  uint64_t v = 0;
  for (unsigned i = 0; i < width; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

uint64_t sign_extend(uint64_t v, unsigned width) {
  if (width == 8) return v;
  const uint64_t sign = 1ull << (width * 8 - 1);
  return (v ^ sign) - sign;
}

class Walker {
 public:
  Walker(const schema::Registry& reg, std::span<const uint8_t> body, const NegotiatedCaps& caps,
         DecodedMessage& out, const DecodeLimits& limits)
      : reg_(reg), body_(body), caps_(caps), out_(out), limits_(limits) {}

  void run(uint32_t root) {
    size_t pos = 0;
    if (!walk(root, kNoValue, pos, 0)) return;
    furthest_ = std::max(furthest_, pos);
    if (furthest_ < body_.size()) {
      fail(Severity::Warning, "trailing_bytes", static_cast<uint32_t>(furthest_), out_.def->full_name,
           std::to_string(body_.size() - furthest_) + " bytes after the last field");
      return;
    }
    out_.complete = true;
  }

 private:
  bool fail(Severity sev, std::string code, uint32_t offset, std::string path, std::string text) {
    out_.diagnostics.push_back({sev, std::move(code), offset, std::move(path), std::move(text)});
    return false;
  }

  bool need(const LayoutNode& n, size_t pos, uint64_t bytes) {
    if (pos <= body_.size() && bytes <= body_.size() - pos) return true;
    return fail(Severity::Error, "truncated", static_cast<uint32_t>(pos), n.path,
                n.path + " needs " + std::to_string(bytes) + " bytes at offset " + std::to_string(pos) + ", " +
                    std::to_string(pos <= body_.size() ? body_.size() - pos : 0) + " left");
  }

  uint32_t push(const LayoutNode& n, uint32_t parent, size_t offset) {
    out_.values.push_back({n.id, parent, 0, static_cast<uint32_t>(offset), 0, 0});
    return static_cast<uint32_t>(out_.values.size() - 1);
  }
  void close(uint32_t idx, size_t pos) {
    auto& v = out_.values[idx];
    v.end = static_cast<uint32_t>(out_.values.size());
    if (v.size == 0 && pos > v.offset) v.size = static_cast<uint32_t>(pos - v.offset);
  }

  // The most recent value decoded for `node`: counts and selectors refer back to
  // fields that precede them, usually closely.
  const FieldValue* recent(uint32_t node) const {
    for (size_t i = out_.values.size(); i-- > 0;) {
      if (out_.values[i].node == node) return &out_.values[i];
    }
    return nullptr;
  }

  bool count_of(const LayoutNode& n, size_t pos, uint64_t& count) {
    const auto& c = n.type->count;
    switch (c.kind) {
      case schema::Count::Kind::Fixed: count = c.fixed; return true;
      case schema::Count::Kind::Rest: count = body_.size() - std::min(pos, body_.size()); return true;
      case schema::Count::Kind::Field: {
        const FieldValue* v = recent(n.count_ref);
        if (!v) return fail(Severity::Error, "bad_count", static_cast<uint32_t>(pos), n.path, "count field missing");
        count = v->number;
        return true;
      }
      case schema::Count::Kind::ImageBits: {
        const FieldValue* w = recent(n.count_ref);
        const FieldValue* h = recent(n.count_ref_b);
        if (!w || !h) return fail(Severity::Error, "bad_count", static_cast<uint32_t>(pos), n.path, "size fields missing");
        // 32-bit operands cannot overflow 64 bits here.
        count = ((static_cast<uint64_t>(c.bits) * (w->number & 0xffffffffu) + 7) / 8) * (h->number & 0xffffffffu);
        return true;
      }
    }
    return false;
  }

  bool present(const LayoutNode& n) const {
    if (!n.field || !n.field->only_with) return true;
    const auto* c = n.field->only_with;
    return c->common ? caps_.common.has(c->index) : caps_.channel.has(c->index);
  }

  bool walk_children(const LayoutNode& n, size_t first, size_t last, uint32_t parent, size_t& pos, size_t base) {
    for (size_t i = first; i < last; ++i) {
      const LayoutNode& child = reg_.node(n.children[i]);
      if (!present(child)) continue;
      if (!walk(child.id, parent, pos, base)) return false;
    }
    return true;
  }

  bool walk(uint32_t id, uint32_t parent, size_t& pos, size_t base) {
    const LayoutNode& n = reg_.node(id);
    if (out_.values.size() >= limits_.max_values) {
      return fail(Severity::Error, "too_many_fields", static_cast<uint32_t>(pos), n.path,
                  "more than " + std::to_string(limits_.max_values) + " fields in one message");
    }
    const schema::Type& t = *n.type;
    switch (t.kind) {
      case Kind::Int: {
        const unsigned w = schema::int_width(t.rep);
        if (!need(n, pos, w)) return false;
        uint64_t v = read_le(body_.data() + pos, w);
        if (schema::int_signed(t.rep)) v = sign_extend(v, w);
        const uint32_t idx = push(n, parent, pos);
        out_.values[idx].number = v;
        out_.values[idx].size = w;
        out_.values[idx].end = idx + 1;
        pos += w;
        return true;
      }
      case Kind::Bytes: {
        uint64_t count = 0;
        if (!count_of(n, pos, count) || !need(n, pos, count)) return false;
        const uint32_t idx = push(n, parent, pos);
        out_.values[idx].size = static_cast<uint32_t>(count);
        out_.values[idx].number = count;
        out_.values[idx].end = idx + 1;
        pos += count;
        return true;
      }
      case Kind::Struct: {
        const uint32_t idx = push(n, parent, pos);
        const size_t my_base = t.pointer_base ? pos : base;
        const bool ok = walk_children(n, 0, n.children.size(), idx, pos, my_base);
        close(idx, pos);
        return ok;
      }
      case Kind::Switch: {
        const FieldValue* sel = recent(n.selector_ref);
        const uint64_t v = sel ? sel->number : 0;
        size_t chosen = t.cases.size();
        for (size_t c = 0; c < t.cases.size() && chosen == t.cases.size(); ++c) {
          if (t.cases[c].matches.empty()) continue;
          for (const auto& m : t.cases[c].matches) {
            if (m.matches(v)) { chosen = c; break; }
          }
        }
        if (chosen == t.cases.size()) {
          for (size_t c = 0; c < t.cases.size(); ++c) {
            if (t.cases[c].matches.empty()) chosen = c;
          }
        }
        if (chosen == t.cases.size()) return true;  // no case applies: nothing on the wire
        const bool anonymous = n.name.empty();
        const uint32_t idx = anonymous ? parent : push(n, parent, pos);
        const bool ok = walk_children(n, n.case_begin[chosen], n.case_begin[chosen + 1], idx, pos, base);
        if (!anonymous) close(idx, pos);
        return ok;
      }
      case Kind::Array: {
        uint64_t count = 0;
        if (!count_of(n, pos, count)) return false;
        const LayoutNode& elem = reg_.node(n.children[0]);
        const size_t left = body_.size() - std::min(pos, body_.size());
        const uint64_t min = elem.min_wire_size;
        if ((min > 0 && count > left / min) || (min == 0 && count > limits_.max_values)) {
          return fail(Severity::Error, "bad_count", static_cast<uint32_t>(pos), n.path,
                      n.path + " claims " + std::to_string(count) + " elements but only " + std::to_string(left) +
                          " bytes are left");
        }
        const uint32_t idx = push(n, parent, pos);
        out_.values[idx].number = count;
        for (uint64_t i = 0; i < count; ++i) {
          if (!walk(elem.id, idx, pos, base)) {
            close(idx, pos);
            return false;
          }
        }
        close(idx, pos);
        return true;
      }
      case Kind::Pointer: {
        if (!need(n, pos, 4)) return false;
        const uint64_t off = read_le(body_.data() + pos, 4);
        const uint32_t idx = push(n, parent, pos);
        out_.values[idx].number = off;
        out_.values[idx].size = 4;
        pos += 4;
        bool ok = true;
        if (off != 0) {
          size_t target = base + off;
          if (target >= body_.size()) {
            ok = fail(Severity::Error, "bad_pointer", static_cast<uint32_t>(pos - 4), n.path,
                      n.path + " points to offset " + std::to_string(target) + " beyond the " +
                          std::to_string(body_.size()) + "-byte body");
          } else {
            ok = walk(n.children[0], idx, target, base);
            furthest_ = std::max(furthest_, target);
          }
        }
        out_.values[idx].end = static_cast<uint32_t>(out_.values.size());
        return ok;
      }
    }
    return false;
  }

  const schema::Registry& reg_;
  std::span<const uint8_t> body_;
  const NegotiatedCaps& caps_;
  DecodedMessage& out_;
  const DecodeLimits& limits_;
  size_t furthest_ = 0;
};

}  // namespace

void decode_message(const schema::MessageDef& def, std::span<const uint8_t> body, const NegotiatedCaps& caps,
                    DecodedMessage& out, const DecodeLimits& limits) {
  out.clear();
  out.def = &def;
  Walker(schema::Registry::spice(), body, caps, out, limits).run(def.root);
}

}  // namespace sc::decode
