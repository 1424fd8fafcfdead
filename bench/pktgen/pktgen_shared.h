/* Layout shared by pktgen.bpf.c and the lvs-pktgen driver (C and C++). */
#ifndef LVS_BENCH_PKTGEN_SHARED_H
#define LVS_BENCH_PKTGEN_SHARED_H

#include <linux/types.h>

/* One entry of the "pktgen_cfg" array map, written by the driver before the first run.
 * Addresses and ports are in host order; the program converts them. */
struct pktgen_cfg {
  __u8 dst_mac[6];
  __u8 src_mac[6];
  __u32 saddr;       /* first source address */
  __u32 saddr_count; /* >= 1: source addresses saddr .. saddr + count - 1 */
  __u32 daddr;
  __u16 sport;       /* first source port */
  __u16 sport_count; /* >= 1 */
  __u16 dport;
  __u16 frame_len;   /* whole frame: Ethernet + IPv4 + UDP + payload */
  __u32 ifindex;     /* XDP_REDIRECT target */
  __u32 payload_sum; /* ones-complement sum of the payload as native 16-bit loads, unfolded */
  __u32 ttl;
  __u32 idle_ifindex; /* where the driver attaches the program itself (0: nowhere) */
};

/* Per-run state (the program runs on one CPU: BPF_PROG_RUN executes on the caller's CPU). */
struct pktgen_state {
  __u32 port_idx;
  __u32 addr_idx;
  __u64 packets; /* frames the program has built */
};

#endif
