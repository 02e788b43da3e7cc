#include "server/test_ca.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace sc::server {
namespace {

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(FILE* p) const { std::fclose(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Free>;
using CertPtr = std::unique_ptr<X509, Free>;
using FilePtr = std::unique_ptr<FILE, Free>;

KeyPtr new_key() { return KeyPtr(EVP_RSA_gen(2048)); }

bool add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

CertPtr new_cert(EVP_PKEY* key, const char* cn, long serial, int days) {
  CertPtr cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), long(days) * 86400);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("spice-capture test"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn),
                             -1, -1, 0);
  return cert;
}

Result<void> write_pem(const std::filesystem::path& path, EVP_PKEY* key, X509* cert, bool secret) {
  FilePtr f(std::fopen(path.c_str(), "w"));
  if (!f) return Error{"cannot write " + path.string()};
  if (secret) chmod(path.c_str(), 0600);
  const bool ok = key ? PEM_write_PrivateKey(f.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1
                      : PEM_write_X509(f.get(), cert) == 1;
  if (!ok) return Error{"cannot encode " + path.string()};
  return {};
}

}  // namespace

Result<void> make_test_ca(const std::string& dir, int days) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Error{"cannot create " + dir + ": " + ec.message()};

  KeyPtr ca_key = new_key(), server_key = new_key();
  if (!ca_key || !server_key) return Error{"RSA key generation failed"};

  CertPtr ca = new_cert(ca_key.get(), "spice-capture test CA", 1, days);
  X509_set_issuer_name(ca.get(), X509_get_subject_name(ca.get()));
  if (!add_ext(ca.get(), ca.get(), NID_basic_constraints, "critical,CA:TRUE") ||
      !add_ext(ca.get(), ca.get(), NID_key_usage, "critical,keyCertSign,cRLSign") ||
      !add_ext(ca.get(), ca.get(), NID_subject_key_identifier, "hash") ||
      X509_sign(ca.get(), ca_key.get(), EVP_sha256()) == 0)
    return Error{"cannot sign the CA certificate"};

  CertPtr server = new_cert(server_key.get(), "localhost", 2, days);
  X509_set_issuer_name(server.get(), X509_get_subject_name(ca.get()));
  if (!add_ext(server.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !add_ext(server.get(), ca.get(), NID_key_usage, "critical,digitalSignature,keyEncipherment") ||
      !add_ext(server.get(), ca.get(), NID_ext_key_usage, "serverAuth") ||
      !add_ext(server.get(), ca.get(), NID_subject_alt_name,
               "DNS:localhost,IP:127.0.0.1,IP:0:0:0:0:0:0:0:1") ||
      X509_sign(server.get(), ca_key.get(), EVP_sha256()) == 0)
    return Error{"cannot sign the server certificate"};

  const std::filesystem::path d(dir);
  for (const Result<void>& s : {write_pem(d / "ca-key.pem", ca_key.get(), nullptr, true),
                   write_pem(d / "ca-cert.pem", nullptr, ca.get(), false),
                   write_pem(d / "server-key.pem", server_key.get(), nullptr, true),
                   write_pem(d / "server-cert.pem", nullptr, server.get(), false)})
    if (!s) return s;
  return {};
}

}  // namespace sc::server
