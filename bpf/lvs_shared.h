/* The one header shared by lvs's BPF programs and its C++ code (the xdp-tools
 * common_kern_user.h pattern). Fixed-width types and explicit padding only;
 * tests/bpf/shared_layout_test.cc checks sizes and offsets from C++.
 *
 * Programs that include it:
 *   lvs_xdp.bpf.c    XDP: traffic for a virtual service, and replies of NAT real servers, go to
 *                    the AF_XDP socket of the receiving queue; everything else to the kernel.
 *   lvs_steal.bpf.c  For the AF_PACKET backend: a socket filter that admits the same traffic to
 *                    lvsd's packet socket, and a tc ingress program that keeps the kernel from
 *                    also handling it.
 */
#ifndef LVS_SHARED_H
#define LVS_SHARED_H

#ifdef __cplusplus
#include <cstdint>
typedef uint8_t lvs_u8;
typedef uint16_t lvs_u16;
typedef uint32_t lvs_u32;
typedef uint64_t lvs_u64;
#else
#include <linux/types.h>
typedef __u8 lvs_u8;
typedef __u16 lvs_u16;
typedef __u32 lvs_u32;
typedef __u64 lvs_u64;
#endif

#define LVS_MAX_SERVICES 65536
#define LVS_MAX_BACKENDS 65536
#define LVS_MAX_LOCALS 4096
#define LVS_MAX_IFACES 64
#define LVS_MAX_QUEUES 64
/* lvs_xsks index: iface slot * LVS_MAX_QUEUES + rx queue */
#define LVS_XSKMAP_SIZE (LVS_MAX_IFACES * LVS_MAX_QUEUES)

#define LVS_FAMILY_V4 4
#define LVS_FAMILY_V6 6

/* An endpoint: a virtual service (proto, VIP, port) in lvs_services, or a NAT real server
 * (proto, RIP, port) in lvs_backends. IPv4 addresses fill the first 4 bytes, the rest is zero.
 * The port is in network byte order, as it appears on the wire. */
struct lvs_endpoint {
  lvs_u8 addr[16];
  lvs_u16 port;
  lvs_u8 proto;
  lvs_u8 family;
};

/* Value of lvs_ifaces, keyed by ifindex: where this interface's sockets sit in lvs_xsks. */
struct lvs_iface {
  lvs_u32 slot;
  lvs_u32 flags; /* reserved, 0 */
};

/* Value of lvs_config (an array of one): what the classifier needs to look for. Port-0
 * ("all ports") services and their NAT real servers sit in the maps with port 0; the wildcard
 * lookups run only when such entries exist, so other traffic keeps its two lookups. */
#define LVS_CFG_PORT0_SERVICES 0x1
#define LVS_CFG_PORT0_BACKENDS 0x2
struct lvs_config {
  lvs_u32 flags;
  lvs_u32 reserved;
};

/* Indexes of lvs_stats, a per-CPU array of lvs_u64 counters. lvs_xdp_main and lvs_tc_steal
 * count; lvs_sock_filter does not (it runs once per socket and also sees outgoing frames). */
enum lvs_stat {
  LVS_STAT_RX = 0,          /* packets the program saw */
  LVS_STAT_SERVICE = 1,     /* matched a virtual service */
  LVS_STAT_BACKEND = 2,     /* matched a NAT real server's reply */
  LVS_STAT_PASS = 3,        /* not ours, left to the kernel: RX == SERVICE + BACKEND + PASS */
  LVS_STAT_NO_SOCKET = 4,   /* matched, but no socket on this interface/queue: kernel gets it */
  LVS_STAT_MAX = 5,
};

#endif /* LVS_SHARED_H */
