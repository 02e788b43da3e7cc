#pragma once
// SHA-256 through OpenSSL's EVP interface: incremental, or of one buffer.
// Used wherever the project proves bytes equal (clipboard, transferred files,
// recorded streams), so every hash in the store is made the same way.
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace sc::util {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(std::span<const uint8_t> bytes);
  // Lower-case hex of everything fed so far; the hash can go on growing after it.
  std::string hex() const;

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

std::string sha256_hex(std::span<const uint8_t> bytes);

}  // namespace sc::util
