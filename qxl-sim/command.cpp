#include "qxl-sim/command.hpp"

namespace sc::qxl {

Command::Command(QXLCmdType type) { ext_.cmd.type = type; }

std::unique_ptr<Command> Command::adopt(const QXLCommandExt& ext, std::function<void()> release) {
  auto c = std::make_unique<Command>(QXLCmdType(ext.cmd.type));
  c->ext_ = ext;
  c->on_release_ = std::move(release);
  const auto* info = reinterpret_cast<const QXLReleaseInfo*>(uintptr_t(ext.cmd.data));
  c->release_id_ = info ? info->id : 0;
  return c;
}

Command::~Command() {
  if (on_release_) on_release_();
}

std::byte* Command::allocate(size_t bytes) {
  blocks_.push_back(std::make_unique<std::byte[]>(bytes));  // value-initialised: zeroed
  return blocks_.back().get();
}

void Command::set_payload(void* payload) {
  ext_.cmd.data = physical(payload);
  ext_.group_id = 0;
  release_id_ = reinterpret_cast<uintptr_t>(this);
  static_cast<QXLReleaseInfo*>(payload)->id = release_id_;
}

}  // namespace sc::qxl
