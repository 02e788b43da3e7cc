#include "dissect/decode/field_view.hpp"

#include <string>

#include "dissect/schema/registry.hpp"

namespace sc::decode {

namespace {

// The dotted prefix children of a node are named under: element, target and
// anonymous-switch nodes add no segment of their own.
std::string_view name_prefix(const schema::LayoutNode& n) {
  std::string_view p = n.path;
  if (p.ends_with("[]")) return p.substr(0, p.size() - 2);
  if (p.ends_with("*")) return p.substr(0, p.size() - 1);
  if (n.name.empty()) {
    const auto dot = p.rfind(".#");
    if (dot != std::string_view::npos) return p.substr(0, dot);
  }
  return p;
}

}  // namespace

std::string_view FieldView::path() const {
  return m_ ? std::string_view(schema::Registry::spice().node(value().node).path) : std::string_view{};
}

FieldView FieldView::get(std::string_view relative) const {
  if (!m_ || relative.empty()) return m_ ? *this : FieldView{};
  const auto& reg = schema::Registry::spice();
  const std::string_view prefix = name_prefix(reg.node(value().node));
  const size_t want = prefix.size() + 1 + relative.size();
  const FieldValue& self = value();
  for (uint32_t i = index_ + 1; i < self.end && i < m_->values.size(); ++i) {
    const std::string& p = reg.node(m_->values[i].node).path;
    if (p.size() == want && p.starts_with(prefix) && p[prefix.size()] == '.' &&
        std::string_view(p).substr(prefix.size() + 1) == relative) {
      return FieldView{*m_, body_, i};
    }
  }
  return {};
}

std::span<const uint8_t> FieldView::bytes() const {
  if (!m_) return {};
  const auto& n = schema::Registry::spice().node(value().node);
  if (n.type->kind != schema::Kind::Bytes) return {};
  const FieldValue& v = value();
  if (v.offset > body_.size() || v.size > body_.size() - v.offset) return {};
  return body_.subspan(v.offset, v.size);
}

std::vector<FieldView> FieldView::elements() const {
  std::vector<FieldView> out;
  if (!m_) return out;
  const FieldValue& self = value();
  for (uint32_t i = index_ + 1; i < self.end && i < m_->values.size(); i = m_->values[i].end) {
    if (m_->values[i].parent == index_) out.emplace_back(*m_, body_, i);
    if (m_->values[i].end <= i) break;  // defensive: a value always ends after itself
  }
  return out;
}

bool FieldView::has_target() const {
  if (!m_) return false;
  const FieldValue& v = value();
  return v.number != 0 && v.end > index_ + 1;
}

}  // namespace sc::decode
