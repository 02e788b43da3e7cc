#include "server/ports.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sc::server {

Result<int> pick_free_port(const std::string& addr) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, addr.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    len = sizeof *v4;
  } else if (inet_pton(AF_INET6, addr.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    len = sizeof *v6;
  } else {
    return Error{"cannot pick a port: '" + addr + "' is not a numeric IPv4/IPv6 address"};
  }
  const int fd = socket(ss.ss_family, SOCK_STREAM, 0);
  if (fd < 0) return Error{std::string("socket: ") + std::strerror(errno)};
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    const int err = errno;
    close(fd);
    return Error{"cannot bind " + addr + ": " + std::strerror(err)};
  }
  socklen_t got = sizeof ss;
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &got);
  close(fd);
  return int(ntohs(ss.ss_family == AF_INET ? v4->sin_port : v6->sin6_port));
}

}  // namespace sc::server
