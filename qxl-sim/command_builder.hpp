#pragma once
// Turns drawing ops into QXL commands, the way a guest's QXL driver would fill
// its command ring: QXLDrawable (FILL, COPY, COPY_BITS, TEXT), QXLSurfaceCmd for
// offscreen surfaces and QXLCursorCmd for the cursor ring. Resize and monitors
// ops are device I/O, not ring commands, so build() returns nothing for them.
#include <map>

#include "qxl-sim/command.hpp"
#include "qxl-sim/ops.hpp"

namespace sc::qxl {

struct BuiltCommand {
  CommandPtr command;
  bool cursor_ring = false;
};

class CommandBuilder {
 public:
  explicit CommandBuilder(Size primary) { sizes_[0] = primary; }

  // Null command for ops that are not ring commands or that clip to nothing.
  BuiltCommand build(const Op& op);
  void set_primary_size(Size s) { sizes_[0] = s; }

 private:
  struct Visitor;
  Rect surface_bounds(uint32_t surface) const;
  std::map<uint32_t, Size> sizes_;
  uint32_t next_image_unique_ = 1;
};

}  // namespace sc::qxl
