#pragma once
// libspice-server interfaces all start with a SpiceBaseInterface naming their
// type and version; every device we register builds its table through this.
#include <spice.h>

#include <cstdint>

namespace sc::server {

template <class Interface>
Interface interface_with_base(const char* type, const char* description, uint32_t major, uint32_t minor) {
  Interface i{};
  i.base.type = type;
  i.base.description = description;
  i.base.major_version = major;
  i.base.minor_version = minor;
  return i;
}

}  // namespace sc::server
