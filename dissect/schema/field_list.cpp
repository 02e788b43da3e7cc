#include "dissect/schema/field_list.hpp"

#include <unordered_map>

#include "dissect/schema/secrets.hpp"

namespace sc::schema {

namespace {

std::string kind_of(const Type& t) {
  static constexpr const char* kInts[] = {"u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64"};
  switch (t.kind) {
    case Kind::Int: return std::string(kInts[static_cast<int>(t.rep)]) + (t.big_endian ? "be" : "");
    case Kind::Bytes: return t.text ? "text" : "bytes";
    case Kind::Struct: return "struct";
    case Kind::Array: return "list";
    case Kind::Pointer: return "pointer";
    case Kind::Switch: return "struct";
  }
  return "?";
}

}  // namespace

std::vector<FieldEntry> list_fields(const Registry& reg) {
  std::vector<FieldEntry> out;
  std::unordered_map<std::string, size_t> seen;
  for (const auto& m : reg.messages()) {
    const std::string dir(direction_name(m.direction));
    auto add = [&](FieldEntry e) {
      if (auto it = seen.find(e.path); it != seen.end()) {
        FieldEntry& first = out[it->second];
        if (first.direction != e.direction && first.direction != "both") {
          const bool first_c2s = first.direction == "c2s";
          first.s2c_type = first_c2s ? e.type : first.type;
          first.type = first_c2s ? first.type : e.type;
          first.direction = "both";
        }
        return;
      }
      seen[e.path] = out.size();
      out.push_back(std::move(e));
    };
    add({m.full_name, "message", "", dir, m.type});
    auto walk = [&](auto&& self, uint32_t id) -> void {
      const LayoutNode& n = reg.node(id);
      const bool internal = n.name.empty();
      if (!internal) {
        std::string marks = n.is_secret() ? "secret(" + secret_class_names(n.field->secret) + ")" : "";
        if (n.is_volatile()) marks += marks.empty() ? "volatile" : ",volatile";
        add({n.path, kind_of(*n.type), n.type->names ? n.type->names->type_name : "", dir, m.type, -1, marks});
      }
      for (uint32_t c : n.children) self(self, c);
    };
    for (uint32_t c : reg.node(m.root).children) walk(walk, c);
  }
  return out;
}

std::string field_line(const FieldEntry& f) {
  std::string line = f.path + '\t' + f.kind + (f.values.empty() ? "" : "(" + f.values + ")") + '\t' + f.direction;
  if (f.kind == "message") {
    if (f.direction == "both" && f.s2c_type >= 0 && f.s2c_type != f.type) {
      line.resize(line.size() - 4);  // "both" gives way to each direction's number
      line += "c2s " + std::to_string(f.type) + ", s2c " + std::to_string(f.s2c_type);
    } else {
      line += '\t' + std::to_string(f.type);
    }
  }
  if (!f.marks.empty()) line += '\t' + f.marks;
  return line;
}

}  // namespace sc::schema
