#pragma once
// Picking a free TCP port for `--port 0`: bind port 0 on the listen address,
// read the port the kernel chose, close. Another program could take it before
// libspice-server binds; spice_server_init then fails and serve reports it.
#include <string>

#include "util/result.hpp"

namespace sc::server {

Result<int> pick_free_port(const std::string& addr);

}  // namespace sc::server
