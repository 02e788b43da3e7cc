#pragma once
// One QXL command and every byte it references. libspice-server reads command
// memory until it calls release_resource, so a Command owns its allocations
// (stable addresses, freed together) and is itself the release id: the device
// keeps it alive from push until release, or frees it at shutdown.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include <spice/qxl_dev.h>

namespace sc::qxl {

// With the identity memslot (see device.hpp) a QXLPHYSICAL is a host pointer.
inline QXLPHYSICAL physical(const void* p) { return reinterpret_cast<uintptr_t>(p); }

class Command {
 public:
  explicit Command(QXLCmdType type);
  // Wraps a command owned elsewhere (the replay API); `release` runs when the
  // server releases it or the device shuts down.
  static std::unique_ptr<Command> adopt(const QXLCommandExt& ext, std::function<void()> release);
  ~Command();
  Command(const Command&) = delete;
  Command& operator=(const Command&) = delete;

  // Zeroed storage for one T plus `trailing` bytes, alive as long as the command.
  template <class T>
  T* make(size_t trailing = 0) {
    return reinterpret_cast<T*>(allocate(sizeof(T) + trailing));
  }
  std::byte* allocate(size_t bytes);
  // Keeps shared data (image pixels) alive while the server may read it.
  void keep(std::shared_ptr<const void> data) { kept_.push_back(std::move(data)); }
  // Sets the payload; its first field must be a QXLReleaseInfo (true of every
  // QXL command struct), which gets this command's release id.
  void set_payload(void* payload);

  const QXLCommandExt& ext() const { return ext_; }
  uint32_t type() const { return ext_.cmd.type; }
  uint64_t release_id() const { return release_id_; }

 private:
  QXLCommandExt ext_{};
  uint64_t release_id_ = 0;
  std::vector<std::unique_ptr<std::byte[]>> blocks_;
  std::vector<std::shared_ptr<const void>> kept_;
  std::function<void()> on_release_;
};

using CommandPtr = std::unique_ptr<Command>;

}  // namespace sc::qxl
