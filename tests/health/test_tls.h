// A throw-away self-signed certificate for TLS tests, made with the OpenSSL API when a test runs
// (nothing is checked in). Header-only: the test target globs *_test.cc only.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <stdexcept>
#include <string>

namespace lvs::health::testing {

namespace detail {

template <class T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using CertPtr = std::unique_ptr<X509, Deleter<X509, X509_free>>;

}  // namespace detail

// Gives the server context `ctx` a fresh P-256 key and a self-signed certificate for `common_name`.
inline void use_self_signed_cert(boost::asio::ssl::context& ctx,
                                 const std::string& common_name = "lvs-test") {
  detail::KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) throw std::runtime_error("EVP_EC_gen failed");
  detail::CertPtr cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  X509_set_issuer_name(cert.get(), name);
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    throw std::runtime_error("X509_sign failed");
  }
  if (SSL_CTX_use_certificate(ctx.native_handle(), cert.get()) != 1 ||
      SSL_CTX_use_PrivateKey(ctx.native_handle(), key.get()) != 1) {
    throw std::runtime_error("SSL_CTX_use_certificate/PrivateKey failed");
  }
}

// A client context as lvsd makes for SSL_GET: no verification.
inline boost::asio::ssl::context make_client_context() {
  boost::asio::ssl::context ctx(boost::asio::ssl::context::tls_client);
  ctx.set_verify_mode(boost::asio::ssl::verify_none);
  return ctx;
}

}  // namespace lvs::health::testing
