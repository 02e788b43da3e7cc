#pragma once
// The simulator's own idea of every surface: ops applied in software. Surface 0
// is the primary; what it holds after a workload is the frame a client must show.
// Cursor and monitor ops do not change pixels (the client draws the cursor).
#include <cstdint>
#include <map>

#include "qxl-sim/framebuffer.hpp"
#include "qxl-sim/ops.hpp"

namespace sc::qxl {

class Canvas {
 public:
  explicit Canvas(Size primary);

  void apply(const Op& op);
  const Framebuffer& primary() const { return surfaces_.at(0); }
  const Framebuffer* surface(uint32_t id) const;

 private:
  Framebuffer* target(uint32_t id);
  std::map<uint32_t, Framebuffer> surfaces_;
};

}  // namespace sc::qxl
