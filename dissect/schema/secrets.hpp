#pragma once
// Names of the secret classes (schema::SecretClass) as users write them:
// `import --redact clipboard,files`, the `fields` listing, docs/store.md.
#include <optional>
#include <string>
#include <string_view>

#include "dissect/schema/types.hpp"

namespace sc::schema {

// "keys", "clipboard", "files", "credentials", "devices", "audio" or "all";
// a comma list combines them. On an unknown name: nullopt and `error` says which.
std::optional<SecretMask> parse_secret_classes(std::string_view list, std::string& error);

// "clipboard,files" (or "all").
std::string secret_class_names(SecretMask mask);

// Every class name, for help texts: "keys, clipboard, files, credentials, devices, audio".
std::string secret_class_list();

}  // namespace sc::schema
