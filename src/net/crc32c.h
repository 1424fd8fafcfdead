// CRC32c (Castagnoli, reflected polynomial 0x82F63B78), the checksum of SCTP (RFC 9260 appendix
// A, RFC 3309) and iSCSI (RFC 3720 B.4). SCTP computes it over the whole SCTP packet with the
// checksum field zeroed and stores the result least significant byte first (as Linux's
// cpu_to_le32 in sctp_compute_cksum and the RFC 3720 test vectors show).
//
// crc32c() uses the SSE4.2 crc32 instruction when the build targets it (-march=x86-64-v2, the
// release builds) and a slicing-by-8 table otherwise; both variants stay callable by name so
// tests and benchmarks can compare them in one run.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lvs::net {

// The CRC32c of `len` bytes. `crc` continues an earlier result: crc32c(b, m, crc32c(a, n)) is
// the CRC32c of a followed by b (the zlib crc32() convention).
uint32_t crc32c(const uint8_t* p, size_t len, uint32_t crc = 0);

// Portable slicing-by-8 tables.
uint32_t crc32c_table(const uint8_t* p, size_t len, uint32_t crc = 0);
// The SSE4.2 crc32 instruction, 8 bytes at a time. Call only if crc32c_hw_available().
uint32_t crc32c_hw(const uint8_t* p, size_t len, uint32_t crc = 0);
// Compiled for x86-64 and this CPU has SSE4.2.
bool crc32c_hw_available();
// What crc32c() is: true when the build targets SSE4.2.
bool crc32c_uses_hw();

// The CRC32c of a `len`-byte message (8 <= len <= 65535) whose first 4 bytes changed from
// `old_head` to `new_head` (each read least significant byte first from the message), given its
// CRC32c `crc` before the change. CRC is linear: the new value is crc ^ (delta * x^(8*len) mod P),
// a few multiplications whatever the length. A wrong `crc` stays wrong by the same error.
uint32_t crc32c_patch_head(uint32_t crc, uint32_t old_head, uint32_t new_head, size_t len);

// SCTP packets (`sctp` points at the common header, `len` bytes to the end of the IP packet;
// len >= 12).
bool sctp_csum_ok(const uint8_t* sctp, size_t len);
// Computes the checksum over the whole packet and stores it.
void sctp_csum_set(uint8_t* sctp, size_t len);
// Rewrites both ports (host order) and patches the checksum incrementally, so a packet that
// arrived with a bad checksum still has one. NAT and FULLNAT use this instead of a full pass.
void sctp_set_ports(uint8_t* sctp, size_t len, uint16_t sport, uint16_t dport);

}  // namespace lvs::net
