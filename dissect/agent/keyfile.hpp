#pragma once
// The description a file transfer starts with (VD_AGENT_FILE_XFER_START): a
// GLib key file, group [vdagent-file-xfer], keys name= and size=, values with
// GLib's escapes (\s \n \t \r \\). Parsed here rather than through GLib so the
// decoder of untrusted bytes needs no GLib and bounds everything it reads.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sc::agent {

struct FileXferInfo {
  std::string name;               // as the sender wrote it: may hold "..", "/", anything
  std::optional<uint64_t> size;
};

// nullopt when there is no [vdagent-file-xfer] group.
std::optional<FileXferInfo> parse_file_xfer_keyfile(std::string_view text);

// A name that is safe to create inside a directory: the last path component of
// `name` (either separator), control characters and separators replaced by '_',
// never empty, "." or "..". Whoever receives a file names it with this.
std::string safe_file_name(std::string_view name);

}  // namespace sc::agent
