/* Maps and packet classification shared by lvs_xdp.bpf.c and lvs_steal.bpf.c.
 *
 * A packet is lvsd's ("ours") when, with map lookups only:
 *   (proto, daddr, dport, family) is in lvs_services   -> LVS_OURS_SERVICE, or
 *   (proto, saddr, sport, family) is in lvs_backends   -> LVS_OURS_BACKEND (a NAT reply),
 *     unless daddr is in lvs_locals: a real server answering the director itself (a health
 *     check's connection) is the kernel's;
 * with port 0 in place of the port too, when lvs_config says port-0 entries exist.
 * An ICMP error is ours when the flow it quotes is: its source in lvs_services (an error from
 * the client's side about a reply) or its destination in lvs_backends (an error about a packet
 * sent to a real server, unless that packet came from an address in lvs_locals). Echo and every
 * other ICMP stay with the kernel, which answers pings to the VIP itself. Everything else (ARP,
 * VLAN-tagged frames, IP fragments, other transports, truncated or malformed headers, IPv6 with a
 * fragment header or with more than LVS_MAX_EXT_HDRS extension headers) is not ours and stays with
 * the kernel.
 *
 * The parser is written once over lvs_hdr(), the skb_header_pointer() of this file: with direct
 * packet access (XDP, tc) it returns a pointer into the frame, bounds-checked against data_end;
 * with load access (socket filters, which cannot read skb->data) it copies the bytes into a
 * caller's buffer. The access mode is a compile-time constant of each always-inline call, so each
 * program gets only its own variant. Both variants see the same bytes: the frame from its
 * Ethernet header to the end of the linear data.
 */
#ifndef LVS_CLASSIFY_H
#define LVS_CLASSIFY_H

/* libbpf's headers need the linux/ types first. */
/* clang-format off */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
/* clang-format on */

#include "lvs_shared.h"

/* Hop-by-hop, routing and destination options headers walked before the transport header. */
#define LVS_MAX_EXT_HDRS 4

#define LVS_IP_MF 0x2000
#define LVS_IP_OFFSET 0x1fff

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, LVS_MAX_SERVICES);
  __type(key, struct lvs_endpoint);
  __type(value, __u32); /* flags, reserved */
} lvs_services SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, LVS_MAX_BACKENDS);
  __type(key, struct lvs_endpoint);
  __type(value, __u32); /* flags, reserved */
} lvs_backends SEC(".maps");

/* The director's own addresses (port and proto 0), FULLNAT's local addresses left out: what a
 * real server sends to one of them answers the director's kernel, not a client. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, LVS_MAX_LOCALS);
  __type(key, struct lvs_endpoint);
  __type(value, __u32); /* flags, reserved */
} lvs_locals SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct lvs_config);
} lvs_config SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, LVS_STAT_MAX);
  __type(key, __u32);
  __type(value, __u64);
} lvs_stats SEC(".maps");

enum lvs_verdict {
  LVS_NOT_OURS = 0,
  LVS_OURS_SERVICE = 1,
  LVS_OURS_BACKEND = 2,
};

enum lvs_access {
  LVS_ACCESS_DIRECT = 0, /* data/data_end: XDP, tc */
  LVS_ACCESS_LOAD = 1,   /* bpf_skb_load_bytes_relative from the MAC header: socket filters */
};

struct lvs_pkt {
  void* data;            /* LVS_ACCESS_DIRECT: first byte of the Ethernet header */
  void* data_end;        /* LVS_ACCESS_DIRECT */
  struct __sk_buff* skb; /* LVS_ACCESS_LOAD */
};

static __always_inline void lvs_count(__u32 stat) {
  __u64* v = bpf_map_lookup_elem(&lvs_stats, &stat);
  if (v) *v += 1; /* per-CPU slot: no atomic needed */
}

/* `len` bytes at `off` from the Ethernet header, or NULL if the frame is shorter. `buf` (at least
 * `len` bytes) receives a copy in LVS_ACCESS_LOAD mode and is unused in LVS_ACCESS_DIRECT mode.
 * `off` must be bounded (the verifier tracks it); `len` must be a constant. */
static __always_inline const void* lvs_hdr(const struct lvs_pkt* p, __u32 off, __u32 len, void* buf,
                                           const enum lvs_access access) {
  if (access == LVS_ACCESS_DIRECT) {
    void* h = p->data + off; /* `off` bounded: the verifier tracks h's range from the check */
    if (h + len > p->data_end) return NULL;
    return h;
  }
  if (bpf_skb_load_bytes_relative(p->skb, off, buf, len, BPF_HDR_START_MAC) < 0) return NULL;
  return buf;
}

static __always_inline int lvs_is_walked_ext(__u8 nexthdr) {
  return nexthdr == IPPROTO_HOPOPTS || nexthdr == IPPROTO_ROUTING || nexthdr == IPPROTO_DSTOPTS;
}

static __always_inline int lvs_is_balanced(__u8 proto) {
  return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP;
}

/* A packet from a real server is a NAT reply unless it goes to the director itself. */
static __always_inline enum lvs_verdict lvs_backend_to(const __u8* daddr, __u8 family) {
  struct lvs_endpoint k = {};
  __builtin_memcpy(k.addr, daddr, 16);
  k.family = family;
  return bpf_map_lookup_elem(&lvs_locals, &k) ? LVS_NOT_OURS : LVS_OURS_BACKEND;
}

/* An ICMP (v6) error at `off`: the quoted packet's endpoints looked up as above. */
static __always_inline enum lvs_verdict lvs_classify_icmp(const struct lvs_pkt* p, __u32 off,
                                                          __u8 family,
                                                          const enum lvs_access access) {
  union {
    __u8 icmp[8];
    struct iphdr ip4;
    struct ipv6hdr ip6;
    __be16 ports[2];
  } buf;
  struct lvs_endpoint src = {}, dst = {};
  const __u8* icmp = lvs_hdr(p, off, 8, &buf, access);
  if (!icmp) return LVS_NOT_OURS;
  const __u8 type = icmp[0];
  __u32 qoff = off + 8;
  if (family == LVS_FAMILY_V4) {
    /* Destination unreachable, source quench, time exceeded: what IPVS relays. */
    if (type != 3 && type != 4 && type != 11) return LVS_NOT_OURS;
    const struct iphdr* q = lvs_hdr(p, qoff, sizeof(*q), &buf, access);
    if (!q || q->version != 4 || q->ihl < 5) return LVS_NOT_OURS;
    if (q->frag_off & bpf_htons(LVS_IP_OFFSET)) return LVS_NOT_OURS;
    src.proto = dst.proto = q->protocol;
    __builtin_memcpy(src.addr, &q->saddr, 4);
    __builtin_memcpy(dst.addr, &q->daddr, 4);
    qoff += q->ihl * 4;
  } else {
    if (type >= 128) return LVS_NOT_OURS; /* informational */
    const struct ipv6hdr* q = lvs_hdr(p, qoff, sizeof(*q), &buf, access);
    if (!q || q->version != 6) return LVS_NOT_OURS;
    src.proto = dst.proto = q->nexthdr;
    __builtin_memcpy(src.addr, &q->saddr, 16);
    __builtin_memcpy(dst.addr, &q->daddr, 16);
    qoff += sizeof(*q);
  }
  if (!lvs_is_balanced(src.proto)) return LVS_NOT_OURS;
  const __be16* ports = lvs_hdr(p, qoff, 2 * sizeof(__be16), &buf, access);
  if (!ports) return LVS_NOT_OURS;
  src.family = dst.family = family;
  src.port = ports[0];
  dst.port = ports[1];
  if (bpf_map_lookup_elem(&lvs_services, &src)) return LVS_OURS_SERVICE;
  if (bpf_map_lookup_elem(&lvs_backends, &dst)) return lvs_backend_to(src.addr, family);
  const __u32 zero = 0;
  const struct lvs_config* cfg = bpf_map_lookup_elem(&lvs_config, &zero);
  const __u32 flags = cfg ? cfg->flags : 0;
  if (flags & LVS_CFG_PORT0_SERVICES) {
    src.port = 0;
    if (bpf_map_lookup_elem(&lvs_services, &src)) return LVS_OURS_SERVICE;
  }
  if (flags & LVS_CFG_PORT0_BACKENDS) {
    dst.port = 0;
    if (bpf_map_lookup_elem(&lvs_backends, &dst)) return lvs_backend_to(src.addr, family);
  }
  return LVS_NOT_OURS;
}

/* Classifies one frame. One pass, at most two hash lookups (four for ICMP errors). */
static __always_inline enum lvs_verdict lvs_classify(const struct lvs_pkt* p,
                                                     const enum lvs_access access) {
  struct lvs_endpoint key = {};
  union {
    struct ethhdr eth;
    struct iphdr ip4;
    struct ipv6hdr ip6;
    struct ipv6_opt_hdr opt;
    __be16 ports[2];
  } buf;
  __u8 saddr[16] = {};
  __u32 l4off;
  __u8 l4proto;

  const struct ethhdr* eth = lvs_hdr(p, 0, sizeof(*eth), &buf, access);
  if (!eth) return LVS_NOT_OURS;
  const __be16 ethertype = eth->h_proto; /* a VLAN tag shows up here as 0x8100/0x88a8 */

  if (ethertype == bpf_htons(ETH_P_IP)) {
    const struct iphdr* ip4 = lvs_hdr(p, ETH_HLEN, sizeof(*ip4), &buf, access);
    if (!ip4 || ip4->version != 4 || ip4->ihl < 5) return LVS_NOT_OURS;
    if (ip4->frag_off & bpf_htons(LVS_IP_MF | LVS_IP_OFFSET)) return LVS_NOT_OURS;
    l4proto = ip4->protocol;
    l4off = ETH_HLEN + ip4->ihl * 4;
    key.family = LVS_FAMILY_V4;
    __builtin_memcpy(key.addr, &ip4->daddr, 4);
    __builtin_memcpy(saddr, &ip4->saddr, 4);
  } else if (ethertype == bpf_htons(ETH_P_IPV6)) {
    const struct ipv6hdr* ip6 = lvs_hdr(p, ETH_HLEN, sizeof(*ip6), &buf, access);
    if (!ip6 || ip6->version != 6) return LVS_NOT_OURS;
    l4proto = ip6->nexthdr;
    l4off = ETH_HLEN + sizeof(*ip6);
    key.family = LVS_FAMILY_V6;
    __builtin_memcpy(key.addr, &ip6->daddr, 16);
    __builtin_memcpy(saddr, &ip6->saddr, 16);
#pragma unroll
    for (int i = 0; i < LVS_MAX_EXT_HDRS; i++) {
      if (!lvs_is_walked_ext(l4proto)) break;
      const struct ipv6_opt_hdr* opt = lvs_hdr(p, l4off, sizeof(*opt), &buf, access);
      if (!opt) return LVS_NOT_OURS;
      l4proto = opt->nexthdr;
      l4off += ((__u32)opt->hdrlen + 1) * 8;
    }
    /* A fragment header, a fifth extension header, ESP, ...: not TCP/UDP below. */
  } else {
    return LVS_NOT_OURS; /* ARP, VLAN-tagged, anything else */
  }

  if ((l4proto == IPPROTO_ICMP && key.family == LVS_FAMILY_V4) ||
      (l4proto == IPPROTO_ICMPV6 && key.family == LVS_FAMILY_V6)) {
    return lvs_classify_icmp(p, l4off, key.family, access);
  }
  if (!lvs_is_balanced(l4proto)) return LVS_NOT_OURS;
  const __be16* ports = lvs_hdr(p, l4off, 2 * sizeof(__be16), &buf, access);
  if (!ports) return LVS_NOT_OURS;
  const __be16 sport = ports[0];
  key.port = ports[1];
  key.proto = l4proto;

  if (bpf_map_lookup_elem(&lvs_services, &key)) return LVS_OURS_SERVICE;
  const __u32 zero = 0;
  const struct lvs_config* cfg = bpf_map_lookup_elem(&lvs_config, &zero);
  const __u32 flags = cfg ? cfg->flags : 0;
  if (flags & LVS_CFG_PORT0_SERVICES) {
    key.port = 0;
    if (bpf_map_lookup_elem(&lvs_services, &key)) return LVS_OURS_SERVICE;
  }

  __u8 daddr[16];
  __builtin_memcpy(daddr, key.addr, sizeof(daddr));
  __builtin_memcpy(key.addr, saddr, sizeof(saddr));
  key.port = sport;
  if (bpf_map_lookup_elem(&lvs_backends, &key)) return lvs_backend_to(daddr, key.family);
  if (flags & LVS_CFG_PORT0_BACKENDS) {
    key.port = 0;
    if (bpf_map_lookup_elem(&lvs_backends, &key)) return lvs_backend_to(daddr, key.family);
  }
  return LVS_NOT_OURS;
}

/* Counts RX and the verdict: RX == SERVICE + BACKEND + PASS. */
static __always_inline enum lvs_verdict lvs_classify_counted(const struct lvs_pkt* p,
                                                             const enum lvs_access access) {
  lvs_count(LVS_STAT_RX);
  const enum lvs_verdict v = lvs_classify(p, access);
  lvs_count(v == LVS_OURS_SERVICE   ? LVS_STAT_SERVICE
            : v == LVS_OURS_BACKEND ? LVS_STAT_BACKEND
                                    : LVS_STAT_PASS);
  return v;
}

#endif /* LVS_CLASSIFY_H */
