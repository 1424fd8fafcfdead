// lvs-pktgen's XDP program, run by BPF_PROG_RUN with BPF_F_TEST_XDP_LIVE_FRAMES: every run of the
// program turns one (recycled) frame into a complete Ethernet/IPv4/UDP packet of the next flow
// and redirects it to the target interface. The whole header is written each time because the
// frames are recycled and whoever received them may have rewritten them (the director does).
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "pktgen_shared.h"

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct pktgen_cfg);
} pktgen_cfg SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct pktgen_state);
} pktgen_state SEC(".maps");

static __always_inline __u16 fold(__u32 sum) {
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return (__u16)sum;
}

SEC("xdp")
int pktgen(struct xdp_md *ctx) {
  __u32 zero = 0;
  const struct pktgen_cfg *c = bpf_map_lookup_elem(&pktgen_cfg, &zero);
  struct pktgen_state *s = bpf_map_lookup_elem(&pktgen_state, &zero);
  if (!c || !s) return XDP_ABORTED;
  // The same program is attached to an idle interface while the generator runs: that keeps it
  // in the kernel's XDP dispatcher, so BPF_PROG_RUN does not re-patch the dispatcher (and wait
  // in synchronize_rcu, ~25 ms) on every call. Whatever arrives there is left alone.
  if (ctx->ingress_ifindex == c->idle_ifindex) return XDP_PASS;

  void *data = (void *)(long)ctx->data;
  void *end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data;
  struct iphdr *ip = (void *)(eth + 1);
  struct udphdr *udp = (void *)(ip + 1);
  if ((void *)(udp + 1) > end) return XDP_ABORTED;

  // Next flow: ports turn fastest, then addresses, so consecutive packets are distinct flows.
  __u32 pi = s->port_idx;
  __u32 ai = s->addr_idx;
  if (++s->port_idx >= c->sport_count) {
    s->port_idx = 0;
    if (++s->addr_idx >= c->saddr_count) s->addr_idx = 0;
  }
  s->packets++;

  const __u32 saddr = bpf_htonl(c->saddr + ai);
  const __u32 daddr = bpf_htonl(c->daddr);
  const __u16 sport = bpf_htons((__u16)(c->sport + pi));
  const __u16 dport = bpf_htons(c->dport);
  const __u16 ip_len = bpf_htons((__u16)(c->frame_len - sizeof(*eth)));
  const __u16 udp_len = bpf_htons((__u16)(c->frame_len - sizeof(*eth) - sizeof(*ip)));

  __builtin_memcpy(eth->h_dest, c->dst_mac, ETH_ALEN);
  __builtin_memcpy(eth->h_source, c->src_mac, ETH_ALEN);
  eth->h_proto = bpf_htons(ETH_P_IP);

  ip->version = 4;
  ip->ihl = 5;
  ip->tos = 0;
  ip->tot_len = ip_len;
  ip->id = 0;
  ip->frag_off = bpf_htons(0x4000);  // DF
  ip->ttl = (__u8)c->ttl;
  ip->protocol = IPPROTO_UDP;
  ip->check = 0;
  ip->saddr = saddr;
  ip->daddr = daddr;
  // Ones-complement sums of network-order words loaded natively: the result is stored as is.
  __u32 sum = 0;
  const __u16 *w = (const __u16 *)ip;
#pragma unroll
  for (int i = 0; i < 10; i++) sum += w[i];
  ip->check = (__u16)~fold(sum);

  udp->source = sport;
  udp->dest = dport;
  udp->len = udp_len;
  udp->check = 0;
  sum = c->payload_sum;
  sum += (saddr & 0xffff) + (saddr >> 16) + (daddr & 0xffff) + (daddr >> 16);
  sum += bpf_htons(IPPROTO_UDP) + udp_len;
  sum += sport + dport + udp_len;
  __u16 check = (__u16)~fold(sum);
  udp->check = check ? check : 0xffff;

  return bpf_redirect(c->ifindex, 0);
}

char LICENSE[] SEC("license") = "GPL";
