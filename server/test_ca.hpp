#pragma once
// A private certificate authority and a server certificate for TLS tests, made
// with OpenSSL: DIR/ca-cert.pem, ca-key.pem, server-cert.pem, server-key.pem
// (the file names libspice-server and QEMU's x509-dir expect). The server
// certificate names CN=localhost with subjectAltName DNS:localhost and
// IP:127.0.0.1 (plus ::1), valid for `days` days. Keys are RSA 2048.
#include <string>

#include "util/result.hpp"

namespace sc::server {

Result<void> make_test_ca(const std::string& dir, int days = 30);

}  // namespace sc::server
