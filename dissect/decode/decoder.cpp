#include "dissect/decode/decoder.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstring>
#include <stdexcept>

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

// ---- the compiled form of the layouts ------------------------------------------
//
// The layout tree (schema::LayoutNode) stays the description every consumer
// shares; walking it directly costs a pointer chase into a node full of strings,
// a Type, a Field and a children vector for every field, and a backward search
// of the values decoded so far for every count and switch selector. The
// decoder instead runs a flat copy of the same tree: one small Op per layout
// node, at the node's own index. compile() numbers nodes in pre-order, so the
// children of an op are the ops from id + 1 up to its `end`, each subtree one
// contiguous run; counts and selectors read "registers" that the referenced
// integer fields fill as they are decoded.

constexpr uint16_t kNoReg = 0xffff;
// Counts and selectors one message may refer to (display.draw_opaque, with three
// images, has 45); checked when the program is built.
constexpr size_t kMaxRegs = 64;
// Deepest nesting of layout nodes in one message (the walk keeps one frame per
// level; the description reaches 13); checked like kMaxRegs.
constexpr size_t kMaxDepth = 48;

enum OpFlag : uint16_t {
  kSigned = 1,        // Int: sign-extend
  kAnonymous = 2,     // Switch: its fields join the parent value
  kPointerBase = 4,   // Struct: pointers inside are relative to its start
  kConditional = 8,   // present only with capability `cap`
  kCommonCap = 16,    // kConditional: `cap` is a common capability
  kIntRun = 32,       // Struct: every child is an unconditional Int (decoded in one go)
  kTrailing = 64,     // present only when bytes are left
  kBigEndian = 128,   // Int: most significant byte first
  // Array counted by rest() whose elements vary in size: elements follow one
  // another until the extent ends (fixed-size ones are counted up front).
  kUntilEnd = 256,
};

struct Op {
  Kind kind = Kind::Struct;
  uint8_t width = 0;         // Int: bytes on the wire
  uint16_t flags = 0;
  schema::Count::Kind count = schema::Count::Kind::Rest;  // Array, Bytes
  uint16_t reg = kNoReg;     // Int: register that remembers this field's latest value
  uint16_t ref_a = kNoReg;   // Count::Field, ImageBits row width, Switch selector
  uint16_t ref_b = kNoReg;   // ImageBits row count
  uint16_t nregs = 0;        // message roots: registers the message uses
  uint32_t cap = 0;          // kConditional: capability bit
  uint32_t end = 0;          // one past the last op of this subtree
  // Array, Bytes: Count::fixed, or ImageBits' bits per pixel; Switch: index of its
  // first case; kIntRun Struct: total bytes of its fields.
  uint32_t arg = 0;
  // Array: fewest bytes one element occupies; Switch: number of cases; kIntRun
  // Struct: index of its first RunField.
  uint32_t aux = 0;
};

struct Case {
  uint32_t first_match = 0, match_count = 0;  // into Program::matches; none = default
  uint32_t begin = 0, end = 0;                // the case's fields: ops [begin, end) at sibling level
};

// Four 32-bit lanes: the first half of a FieldValue (node, parent, end, offset).
using Lanes = uint32_t __attribute__((vector_size(16)));
static_assert(offsetof(FieldValue, node) == 0 && offsetof(FieldValue, parent) == 4 &&
              offsetof(FieldValue, end) == 8 && offsetof(FieldValue, offset) == 12 &&
              offsetof(FieldValue, size) == 16 && offsetof(FieldValue, number) == 24);

// One integer of a kIntRun struct, relative to the struct: its value is
// `head` + {struct node, struct value index, struct value index, struct offset}.
struct RunField {
  Lanes head;           // {1 + k, 0, 2 + k, offset in the struct}
  uint32_t size;        // bytes
  uint8_t shift;        // 64 - 8 * size: the unused high bits of an 8-byte load
  bool is_signed;
  uint16_t reg;
};

struct Program {
  std::vector<Op> ops;  // index = LayoutNode id
  std::vector<RunField> run_fields;  // kIntRun structs' fields, from Op::aux on
  std::vector<Case> cases;
  std::vector<schema::CaseMatch> matches;
  // Indexed like `cases`, at each switch's first case (Op::arg): the case taken
  // when none matches, UINT32_MAX for none.
  std::vector<uint32_t> default_case;

  explicit Program(const schema::Registry& reg);
};

[[noreturn]] void broken(const LayoutNode& n, const char* why) {
  throw std::logic_error("decoder program: " + n.path + ": " + why);
}

Program::Program(const schema::Registry& reg) {
  const auto nodes = reg.nodes();
  ops.resize(nodes.size());
  // Subtree ends, children first: every child has a larger id than its parent.
  for (size_t i = nodes.size(); i-- > 0;) {
    const LayoutNode& n = nodes[i];
    uint32_t expect = static_cast<uint32_t>(i) + 1;
    for (uint32_t c : n.children) {
      if (c != expect) broken(n, "layout nodes are not numbered in pre-order");
      expect = ops[c].end;
    }
    ops[i].end = expect;
  }
  for (size_t i = 0; i < nodes.size(); ++i) {
    const LayoutNode& n = nodes[i];
    const schema::Type& t = *n.type;
    Op& op = ops[i];
    op.kind = t.kind;
    if (n.field && n.field->trailing) op.flags |= kTrailing;
    if (n.field && n.field->only_with) {
      op.flags |= kConditional;
      if (n.field->only_with->common) op.flags |= kCommonCap;
      op.cap = n.field->only_with->index;
    }
    switch (t.kind) {
      case Kind::Int:
        op.width = static_cast<uint8_t>(schema::int_width(t.rep));
        if (schema::int_signed(t.rep)) op.flags |= kSigned;
        if (t.big_endian) op.flags |= kBigEndian;
        break;
      case Kind::Bytes:
      case Kind::Array:
        op.count = t.count.kind;
        op.arg = t.count.kind == schema::Count::Kind::ImageBits ? t.count.bits : t.count.fixed;
        if (t.kind == Kind::Array) {
          op.aux = nodes[n.children.at(0)].min_wire_size;
          if (t.count.kind == schema::Count::Kind::Rest && !nodes[n.children[0]].fixed_size) op.flags |= kUntilEnd;
        }
        break;
      case Kind::Struct: {
        if (t.pointer_base) op.flags |= kPointerBase;
        bool ints = !n.children.empty();
        uint32_t bytes = 0;
        for (uint32_t c : n.children) {
          const LayoutNode& child = nodes[c];
          // Big-endian runs are rare (image headers): they take the per-field path.
          ints = ints && child.type->kind == Kind::Int && !child.type->big_endian &&
                 !(child.field && child.field->optional());
          if (ints) bytes += schema::int_width(child.type->rep);
        }
        if (ints) {
          op.flags |= kIntRun;
          op.arg = bytes;
          op.aux = static_cast<uint32_t>(run_fields.size());
          uint32_t at = 0, k = 0;
          for (uint32_t c : n.children) {
            const unsigned w = schema::int_width(nodes[c].type->rep);
            run_fields.push_back({Lanes{1 + k, 0, 2 + k, at}, w, static_cast<uint8_t>(64 - 8 * w),
                                  schema::int_signed(nodes[c].type->rep), kNoReg});
            at += w;
            ++k;
          }
        }
        break;
      }
      case Kind::Switch: {
        if (n.name.empty()) op.flags |= kAnonymous;
        op.arg = static_cast<uint32_t>(cases.size());
        op.aux = static_cast<uint32_t>(t.cases.size());
        uint32_t fallback = UINT32_MAX;
        for (size_t c = 0; c < t.cases.size(); ++c) {
          Case k;
          k.first_match = static_cast<uint32_t>(matches.size());
          k.match_count = static_cast<uint32_t>(t.cases[c].matches.size());
          matches.insert(matches.end(), t.cases[c].matches.begin(), t.cases[c].matches.end());
          const uint32_t from = n.case_begin[c], to = n.case_begin[c + 1];
          if (from < to) {
            k.begin = n.children[from];
            k.end = ops[n.children[to - 1]].end;
          }
          if (k.match_count == 0) fallback = static_cast<uint32_t>(c);  // the last default wins
          cases.push_back(k);
        }
        default_case.resize(cases.size(), UINT32_MAX);
        if (!t.cases.empty()) default_case[op.arg] = fallback;
        break;
      }
      case Kind::Pointer:
        break;
    }
  }
  // Registers, numbered per message: each integer some count or selector of the
  // same message refers to gets one.
  for (const auto& m : reg.messages()) {
    uint16_t next = 0;
    auto assign = [&](uint32_t target, uint16_t& slot) {
      if (target == kNoNode) return;
      Op& t = ops[target];
      if (t.reg == kNoReg) {
        if (next == kMaxRegs) broken(nodes[m.root], "too many counts and selectors in one message");
        t.reg = next++;
      }
      slot = t.reg;
    };
    for (uint32_t i = m.root; i < ops[m.root].end; ++i) {
      const LayoutNode& n = nodes[i];
      assign(n.count_ref, ops[i].ref_a);
      assign(n.selector_ref, ops[i].ref_a);
      assign(n.count_ref_b, ops[i].ref_b);
    }
    ops[m.root].nregs = next;
  }
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (!(ops[i].flags & kIntRun)) continue;
    for (uint32_t k = 0; k + i + 1 < ops[i].end; ++k) run_fields[ops[i].aux + k].reg = ops[i + 1 + k].reg;
  }
  std::vector<uint8_t> depth(nodes.size(), 0);
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].parent == kNoNode) continue;
    depth[i] = static_cast<uint8_t>(std::min<size_t>(depth[nodes[i].parent] + 1u, 255));
    if (depth[i] >= kMaxDepth) broken(nodes[i], "layout nested too deeply");
  }
  for (size_t i = 0; i < nodes.size(); ++i) {
    const Op& op = ops[i];
    const bool by_field = (op.kind == Kind::Array || op.kind == Kind::Bytes) &&
                          (op.count == schema::Count::Kind::Field || op.count == schema::Count::Kind::ImageBits);
    if ((by_field || op.kind == Kind::Switch) && op.ref_a == kNoReg) broken(nodes[i], "unresolved reference");
    if (op.count == schema::Count::Kind::ImageBits && by_field && op.ref_b == kNoReg) broken(nodes[i], "unresolved reference");
    // An element that may take no bytes would never reach the extent's end.
    if ((op.flags & kUntilEnd) && op.aux == 0) broken(nodes[i], "elements until the end must take bytes");
  }
}

const Program& program() {
  static const Program p(schema::Registry::spice());
  return p;
}

// ---- the walk --------------------------------------------------------------------
// The small helpers are forced inline: GCC at -O2 left some as calls, which cost
// more than their bodies on every field.

[[gnu::always_inline]] inline uint64_t load_le(const uint8_t* p, unsigned width) {
  if constexpr (std::endian::native == std::endian::little) {
    switch (width) {
      case 1: return p[0];
      case 2: { uint16_t v; std::memcpy(&v, p, 2); return v; }
      case 4: { uint32_t v; std::memcpy(&v, p, 4); return v; }
      case 8: { uint64_t v; std::memcpy(&v, p, 8); return v; }
    }
  }
  uint64_t v = 0;
  for (unsigned i = 0; i < width; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

[[gnu::always_inline]] inline uint64_t load_be(const uint8_t* p, unsigned width) {
  uint64_t v = 0;
  for (unsigned i = 0; i < width; ++i) v = (v << 8) | p[i];
  return v;
}

[[gnu::always_inline]] inline uint64_t zero_extend(uint64_t v, unsigned width) {
  const unsigned unused = 64 - 8 * width;
  return (v << unused) >> unused;
}

[[gnu::always_inline]] inline uint64_t sign_extend(uint64_t v, unsigned width) {
  const unsigned unused = 64 - 8 * width;
  return static_cast<uint64_t>(static_cast<int64_t>(v << unused) >> unused);
}

// The integer of `op` at `p`, whose bytes are known to be in the body; `left`
// bytes follow p.
[[gnu::always_inline]] inline uint64_t read_int(const Op& op, const uint8_t* p, size_t left) {
  if (op.flags & kBigEndian) [[unlikely]] {
    const uint64_t v = load_be(p, op.width);
    return (op.flags & kSigned) ? sign_extend(v, op.width) : v;
  }
  // With 8 bytes left, one load and two shifts serve every width.
  const uint64_t v = left >= 8 ? load_le(p, 8) : load_le(p, op.width);
  return (op.flags & kSigned) ? sign_extend(v, op.width) : zero_extend(v, op.width);
}

constexpr size_t kFail = SIZE_MAX;
constexpr uint64_t kUntilExtentEnd = UINT64_MAX;  // Frame::left of a kUntilEnd array

// The walk is one loop over the ops with an explicit stack of open values
// (structs, switches, arrays, pointer targets) instead of recursion, and keeps
// its position, the value count and the list's storage in locals: a call per
// nested value, and the reloads that state in memory forced after every store
// of a value, cost more than decoding the fields.
class Walker {
 public:
  Walker(const Program& prog, const schema::Registry& reg, std::span<const uint8_t> body, const NegotiatedCaps& caps,
         DecodedMessage& out, const DecodeLimits& limits)
      : ops_(prog.ops.data()), prog_(prog), reg_(reg), data_(body.data()), size_(body.size()), caps_(caps),
        out_(out), max_values_(limits.max_values) {}

  void run(uint32_t root) {
    std::fill_n(regs_.begin(), ops_[root].nregs, kNoValue);
    const size_t pos = walk(root);
    if (pos == kFail) return;
    furthest_ = std::max(furthest_, pos);
    if (furthest_ < size_) {
      fail(Severity::Warning, "trailing_bytes", static_cast<uint32_t>(furthest_), out_.def->full_name,
           std::to_string(size_ - furthest_) + " bytes after the last field");
      return;
    }
    out_.complete = true;
  }

 private:
  // ---- diagnostics (cold: only on bad input) ----
  [[gnu::cold, gnu::noinline]] void fail(Severity sev, std::string code, uint32_t offset, std::string path,
                                         std::string text) {
    out_.diagnostics.push_back({sev, std::move(code), offset, std::move(path), std::move(text)});
  }
  [[gnu::cold, gnu::noinline]] void truncated(uint32_t id, size_t pos, uint64_t bytes) {
    const LayoutNode& n = reg_.node(id);
    fail(Severity::Error, "truncated", static_cast<uint32_t>(pos), n.path,
         n.path + " needs " + std::to_string(bytes) + " bytes at offset " + std::to_string(pos) + ", " +
             std::to_string(pos <= size_ ? size_ - pos : 0) + " left");
  }
  [[gnu::cold, gnu::noinline]] void too_many(uint32_t id, size_t pos) {
    fail(Severity::Error, "too_many_fields", static_cast<uint32_t>(pos), reg_.node(id).path,
         "more than " + std::to_string(max_values_) + " fields in one message");
  }
  [[gnu::cold, gnu::noinline]] void missing_count(uint32_t id, size_t pos, const char* what) {
    fail(Severity::Error, "bad_count", static_cast<uint32_t>(pos), reg_.node(id).path, what);
  }
  [[gnu::cold, gnu::noinline]] void bad_array(uint32_t id, size_t pos, uint64_t count, size_t left) {
    const LayoutNode& n = reg_.node(id);
    fail(Severity::Error, "bad_count", static_cast<uint32_t>(pos), n.path,
         n.path + " claims " + std::to_string(count) + " elements but only " + std::to_string(left) +
             " bytes are left");
  }
  [[gnu::cold, gnu::noinline]] void bad_pointer(uint32_t id, size_t pos, size_t target) {
    const LayoutNode& n = reg_.node(id);
    fail(Severity::Error, "bad_pointer", static_cast<uint32_t>(pos), n.path,
         n.path + " points to offset " + std::to_string(target) + " beyond the " + std::to_string(size_) +
             "-byte body");
  }

  bool present(const Op& op) const {
    if (!(op.flags & kConditional)) return true;
    return (op.flags & kCommonCap) ? caps_.common.has(op.cap) : caps_.channel.has(op.cap);
  }

  // The case a switch takes: the first whose match holds, else the last default;
  // nullptr when none applies.
  const Case* choose(const Op& op, uint64_t v) const {
    const Case* cases = prog_.cases.data() + op.arg;
    for (uint32_t c = 0; c < op.aux; ++c) {
      const schema::CaseMatch* m = prog_.matches.data() + cases[c].first_match;
      for (uint32_t k = 0; k < cases[c].match_count; ++k) {
        if (m[k].matches(v)) return &cases[c];
      }
    }
    const uint32_t fallback = prog_.default_case[op.arg];
    return fallback == UINT32_MAX ? nullptr : &cases[fallback];
  }

  // An open value: what to do when the ops [.., last) inside it are done.
  enum class Open : uint8_t {
    Value,    // a struct or named switch: close it
    Splice,   // an anonymous switch: its fields were the parent's, nothing to close
    Element,  // an array: the next element, or close the array
    Target,   // a pointer's target: back to just after the pointer
    Payload,  // a payload hook's header: back to the end of its bytes
  };
  struct Frame {
    Open kind;
    uint32_t idx;      // the open value
    uint32_t resume;   // the op after it
    uint32_t last, parent;  // the enclosing range and value, restored on leaving
    size_t base;
    // Element: elements still to decode after this one (UINT64_MAX: until the
    // extent ends); Payload: the enclosing extent's end, restored on leaving.
    uint64_t left;
    size_t back;       // Target: the position after the pointer; Element: the element's op; Payload: the bytes' end
    size_t diagnostics;  // Payload: diagnostics recorded before its header
  };

  // Walks the op `root` from position 0: the position after it, or kFail.
  size_t walk(uint32_t root) {
    // The vector's elements, the previous message's left over included, serve as
    // storage written in place; the list is trimmed to `n` at the end. push_back,
    // whose growth path was inlined at every field, cost more than the field.
    std::vector<FieldValue>& list = out_.values;
    FieldValue* vals = list.data();
    uint32_t cap = static_cast<uint32_t>(list.size());
    uint32_t n = 0;
    const auto reserve = [&](uint32_t more) {
      if (cap - n >= more) [[likely]] return;
      list.resize(std::max<size_t>({cap + cap / 2, size_t{n} + more, 64}));
      vals = list.data();
      cap = static_cast<uint32_t>(list.size());
    };
    const auto push = [&](uint32_t id, uint32_t parent, size_t offset, uint32_t size, uint64_t number) {
      reserve(1);
      vals[n] = {id, parent, n + 1, static_cast<uint32_t>(offset), size, number};
      return n++;
    };
    const auto close = [&](uint32_t idx, size_t pos) {
      FieldValue& v = vals[idx];
      v.end = n;
      if (v.size == 0 && pos > v.offset) v.size = static_cast<uint32_t>(pos - v.offset);
    };
    const auto reg_value = [&](uint16_t r) { return vals[regs_[r]].number; };
    const uint8_t* const data = data_;
    // The end of the current extent: the body, or the bytes of a payload hook
    // while its header is decoded.
    size_t size = size_;
    const auto fits = [&size](size_t pos, uint64_t bytes) { return pos <= size && bytes <= size - pos; };
    // Count::Fixed, Rest, Field or ImageBits; false when a field it refers to was not decoded.
    const auto count_of = [&](const Op& op, size_t pos, uint64_t& count) {
      switch (op.count) {
        case schema::Count::Kind::Fixed: count = op.arg; return true;
        case schema::Count::Kind::Rest: count = size - std::min(pos, size); return true;
        case schema::Count::Kind::Field:
          if (regs_[op.ref_a] == kNoValue) return false;
          count = reg_value(op.ref_a);
          return true;
        case schema::Count::Kind::ImageBits:
          if (regs_[op.ref_a] == kNoValue || regs_[op.ref_b] == kNoValue) return false;
          // 32-bit operands cannot overflow 64 bits here.
          count = ((static_cast<uint64_t>(op.arg) * (reg_value(op.ref_a) & 0xffffffffu) + 7) / 8) *
                  (reg_value(op.ref_b) & 0xffffffffu);
          return true;
      }
      return false;
    };

    std::array<Frame, kMaxDepth> stack;
    size_t depth = 0;
    uint32_t c = root, last = ops_[root].end, parent = kNoValue;
    size_t pos = 0, base = 0;
    size_t stop = 0;  // on failure: where the innermost open value ends
  walk_on:
    for (;;) {
      if (c == last) {
        if (depth == 0) break;
        Frame& f = stack[depth - 1];
        switch (f.kind) {
          case Open::Value: close(f.idx, pos); break;
          case Open::Splice: break;
          case Open::Element:
            if (f.left == kUntilExtentEnd) {
              ++vals[f.idx].number;
              if (pos < size) {
                c = static_cast<uint32_t>(f.back);
                continue;
              }
            } else if (f.left > 0) {  // the next element: same range, same parent
              --f.left;
              c = static_cast<uint32_t>(f.back);
              continue;
            }
            close(f.idx, pos);
            break;
          case Open::Payload:
            vals[f.idx].end = n;
            size = f.left;
            pos = f.back;
            break;
          case Open::Target:
            furthest_ = std::max(furthest_, pos);
            vals[f.idx].end = n;
            pos = f.back;
            break;
        }
        --depth;
        c = f.resume;
        last = f.last;
        parent = f.parent;
        base = f.base;
        continue;
      }
      const Op& op = ops_[c];
      if (!present(op) || ((op.flags & kTrailing) && pos >= size)) {
        c = op.end;
        continue;
      }
      if (n >= max_values_) {
        too_many(c, pos);
        stop = pos;
        goto failed;
      }
      switch (op.kind) {
        case Kind::Int: {
          if (!fits(pos, op.width)) {
            truncated(c, pos, op.width);
            stop = pos;
            goto failed;
          }
          const uint32_t idx = push(c, parent, pos, op.width, read_int(op, data + pos, size - pos));
          if (op.reg != kNoReg) regs_[op.reg] = idx;
          pos += op.width;
          ++c;
          continue;
        }
        case Kind::Struct: {
          const uint32_t nfields = op.end - c - 1;
          if ((op.flags & kIntRun) && fits(pos, op.arg) && n + nfields < max_values_) {
            // Bounds and the value limit hold for all its fields at once, and
            // each field's value is its template plus where the struct landed.
            reserve(nfields + 1);
            const uint32_t idx = n;
            FieldValue* __restrict v = vals + idx;
            v[0] = {c, parent, idx + 1 + nfields, static_cast<uint32_t>(pos), op.arg, 0};
            const RunField* rf = prog_.run_fields.data() + op.aux;
            const Lanes at = {c, idx, idx, static_cast<uint32_t>(pos)};
            const uint8_t* p = data + pos;
            if (size - pos >= op.arg + 7) {  // every field can be read as 8 bytes
              for (uint32_t k = 0; k < nfields; ++k) {
                const Lanes head = rf[k].head + at;
                std::memcpy(&v[1 + k], &head, sizeof head);
                v[1 + k].size = rf[k].size;
                const uint64_t raw = load_le(p + rf[k].head[3], 8) << rf[k].shift;
                v[1 + k].number = rf[k].is_signed ? static_cast<uint64_t>(static_cast<int64_t>(raw) >> rf[k].shift)
                                                  : raw >> rf[k].shift;
                if (rf[k].reg != kNoReg) regs_[rf[k].reg] = idx + 1 + k;
              }
            } else {
              for (uint32_t k = 0; k < nfields; ++k) {
                const Lanes head = rf[k].head + at;
                std::memcpy(&v[1 + k], &head, sizeof head);
                v[1 + k].size = rf[k].size;
                const uint64_t raw = load_le(p + rf[k].head[3], rf[k].size);
                v[1 + k].number = rf[k].is_signed ? sign_extend(raw, rf[k].size) : raw;
                if (rf[k].reg != kNoReg) regs_[rf[k].reg] = idx + 1 + k;
              }
            }
            pos += op.arg;
            n = idx + 1 + nfields;
            c = op.end;
            continue;
          }
          const uint32_t idx = push(c, parent, pos, 0, 0);
          stack[depth++] = {Open::Value, idx, op.end, last, parent, base, 0, 0, 0};
          if (op.flags & kPointerBase) base = pos;
          parent = idx;
          last = op.end;
          ++c;
          continue;
        }
        case Kind::Bytes: {
          uint64_t count = 0;
          if (!count_of(op, pos, count)) {
            missing_count(c, pos, op.count == schema::Count::Kind::Field ? "count field missing" : "size fields missing");
            stop = pos;
            goto failed;
          }
          if (!fits(pos, count)) {
            truncated(c, pos, count);
            stop = pos;
            goto failed;
          }
          const uint32_t idx = push(c, parent, pos, static_cast<uint32_t>(count), count);
          if (op.end != c + 1) [[unlikely]] {  // a payload hook: its header, within the bytes
            stack[depth++] = {Open::Payload, idx, op.end, last, parent, base, size, pos + count,
                              out_.diagnostics.size()};
            parent = idx;
            base = pos;
            size = pos + count;
            last = op.end;
            ++c;
            continue;
          }
          pos += count;
          c = op.end;
          continue;
        }
        case Kind::Switch: {
          const Case* chosen = choose(op, regs_[op.ref_a] == kNoValue ? 0 : reg_value(op.ref_a));
          if (!chosen) {  // no case applies: nothing on the wire
            c = op.end;
            continue;
          }
          if (op.flags & kAnonymous) {
            stack[depth++] = {Open::Splice, 0, op.end, last, parent, base, 0, 0, 0};
          } else {
            const uint32_t idx = push(c, parent, pos, 0, 0);
            stack[depth++] = {Open::Value, idx, op.end, last, parent, base, 0, 0, 0};
            parent = idx;
          }
          c = chosen->begin;
          last = chosen->end;
          continue;
        }
        case Kind::Array: {
          uint64_t count = 0;
          if (!count_of(op, pos, count)) {
            missing_count(c, pos, op.count == schema::Count::Kind::Field ? "count field missing" : "size fields missing");
            stop = pos;
            goto failed;
          }
          const size_t left = size - std::min(pos, size);
          if (op.flags & kUntilEnd) [[unlikely]] {
            const uint32_t idx = push(c, parent, pos, 0, 0);
            if (left == 0) {
              close(idx, pos);
              c = op.end;
              continue;
            }
            stack[depth++] = {Open::Element, idx, op.end, last, parent, base, kUntilExtentEnd, c + 1, 0};
            parent = idx;
            ++c;
            last = ops_[c].end;
            continue;
          }
          const uint64_t min = op.aux;
          // "The rest of the body" counts bytes; an array there holds as many elements as fit.
          if (op.count == schema::Count::Kind::Rest && min > 0) count = left / min;
          if ((min > 0 && count > left / min) || (min == 0 && count > max_values_)) {
            bad_array(c, pos, count, left);
            stop = pos;
            goto failed;
          }
          const uint32_t idx = push(c, parent, pos, 0, count);
          if (count == 0) {
            close(idx, pos);
            c = op.end;
            continue;
          }
          stack[depth++] = {Open::Element, idx, op.end, last, parent, base, count - 1, c + 1, 0};
          parent = idx;
          ++c;
          last = ops_[c].end;
          continue;
        }
        case Kind::Pointer: {
          if (!fits(pos, 4)) {
            truncated(c, pos, 4);
            stop = pos;
            goto failed;
          }
          const uint64_t off = load_le(data + pos, 4);
          const uint32_t idx = push(c, parent, pos, 4, off);
          if (off == 0) {
            pos += 4;
            c = op.end;
            continue;
          }
          const size_t target = base + off;
          if (target > size) {  // a target may start at the very end when it is empty
            bad_pointer(c, pos, target);
            stop = pos + 4;  // the walk had gone on past the offset
            goto failed;
          }
          stack[depth++] = {Open::Target, idx, op.end, last, parent, base, 0, pos + 4, 0};
          parent = idx;
          pos = target;
          ++c;
          last = ops_[c].end;
          continue;
        }
      }
    }
    list.resize(n);
    return pos;

  failed:
    // Every open value ends where the walk stopped, innermost first, as the
    // nested walk of the description would have left them.
    while (depth > 0) {
      const Frame& f = stack[--depth];
      switch (f.kind) {
        case Open::Value:
        case Open::Element: close(f.idx, stop); break;
        case Open::Splice: break;
        case Open::Target:
          vals[f.idx].end = n;
          stop = f.back;
          break;
        case Open::Payload:
          // A header that does not fit its bytes leaves the message intact: the
          // bytes are whole, so the problem is a warning and the walk goes on
          // after them.
          vals[f.idx].end = n;
          for (size_t d = f.diagnostics; d < out_.diagnostics.size(); ++d) out_.diagnostics[d].severity = Severity::Warning;
          size = f.left;
          pos = f.back;
          c = f.resume;
          last = f.last;
          parent = f.parent;
          base = f.base;
          goto walk_on;
      }
    }
    list.resize(n);
    return kFail;
  }

  const Op* ops_;
  const Program& prog_;
  const schema::Registry& reg_;
  const uint8_t* data_;
  size_t size_;
  const NegotiatedCaps& caps_;
  DecodedMessage& out_;
  uint64_t max_values_;
  size_t furthest_ = 0;
  std::array<uint32_t, kMaxRegs> regs_;  // value index of each register's field, kNoValue = not decoded yet
};

}  // namespace

void decode_message(const schema::MessageDef& def, std::span<const uint8_t> body, const NegotiatedCaps& caps,
                    DecodedMessage& out, const DecodeLimits& limits) {
  // Not out.clear(): the walk reuses the value list's elements as storage.
  out.def = &def;
  out.diagnostics.clear();
  out.complete = false;
  Walker(program(), schema::Registry::spice(), body, caps, out, limits).run(def.root);
}

}  // namespace sc::decode
