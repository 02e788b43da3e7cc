#include "dissect/schema/secrets.hpp"

namespace sc::schema {
namespace {

struct ClassName {
  SecretMask mask;
  std::string_view name;
};
constexpr ClassName kClasses[] = {
    {kSecretKeys, "keys"},           {kSecretClipboard, "clipboard"}, {kSecretFiles, "files"},
    {kSecretCredentials, "credentials"}, {kSecretDevices, "devices"},  {kSecretAudio, "audio"},
};

}  // namespace

std::optional<SecretMask> parse_secret_classes(std::string_view list, std::string& error) {
  SecretMask mask = kSecretNone;
  while (!list.empty()) {
    const size_t comma = list.find(',');
    const std::string_view item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    if (item.empty()) continue;
    if (item == "all") {
      mask |= kSecretAll;
      continue;
    }
    bool known = false;
    for (const auto& c : kClasses) {
      if (c.name == item) mask |= c.mask, known = true;
    }
    if (!known) {
      error = "unknown secret class '" + std::string(item) + "' (known: all, " + secret_class_list() + ")";
      return std::nullopt;
    }
  }
  if (mask == kSecretNone) {
    error = "no secret class named (known: all, " + secret_class_list() + ")";
    return std::nullopt;
  }
  return mask;
}

std::string secret_class_names(SecretMask mask) {
  if ((mask & kSecretAll) == kSecretAll) return "all";
  std::string out;
  for (const auto& c : kClasses) {
    if (mask & c.mask) out += (out.empty() ? "" : ",") + std::string(c.name);
  }
  return out;
}

std::string secret_class_list() {
  std::string out;
  for (const auto& c : kClasses) out += (out.empty() ? "" : ", ") + std::string(c.name);
  return out;
}

}  // namespace sc::schema
