#include "dissect/agent/keyfile.hpp"

#include <charconv>

namespace sc::agent {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::string unescape(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] != '\\' || i + 1 == v.size()) {
      out += v[i];
      continue;
    }
    switch (v[++i]) {
      case 's': out += ' '; break;
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case '\\': out += '\\'; break;
      default: out += '\\', out += v[i]; break;  // GLib rejects these; keep them visible
    }
  }
  return out;
}

}  // namespace

std::optional<FileXferInfo> parse_file_xfer_keyfile(std::string_view text) {
  while (!text.empty() && text.back() == '\0') text.remove_suffix(1);  // senders include the C string's NUL
  FileXferInfo info;
  bool in_group = false, found = false;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line.empty() || line.front() == '#') continue;
    if (line.front() == '[') {
      in_group = line == "[vdagent-file-xfer]";
      found = found || in_group;
      continue;
    }
    if (!in_group) continue;
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view key = trim(line.substr(0, eq)), value = trim(line.substr(eq + 1));
    if (key == "name") {
      info.name = unescape(value);
    } else if (key == "size") {
      uint64_t n = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec == std::errc() && end == value.data() + value.size()) info.size = n;
    }
  }
  if (!found) return std::nullopt;
  return info;
}

std::string safe_file_name(std::string_view name) {
  const size_t cut = name.find_last_of("/\\");
  std::string base(cut == std::string_view::npos ? name : name.substr(cut + 1));
  for (char& c : base) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '_';
  }
  if (base.empty() || base == "." || base == "..") base = "received-file";
  return base;
}

}  // namespace sc::agent
