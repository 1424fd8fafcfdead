// The real servers' end of forwarding.sh: drops every frame (XDP_DROP) after the veth counted it,
// so delivered packets are measured without a socket reader's cap. ARP goes on to the real
// server's stack, so the director resolves the real servers as it would on a real network.
// The program keeps its own per-CPU count of dropped frames (map "sink_count") for cross-checks.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} sink_count SEC(".maps");

SEC("xdp")
int sink(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) <= end && eth->h_proto == bpf_htons(ETH_P_ARP)) return XDP_PASS;
  __u32 zero = 0;
  __u64 *n = bpf_map_lookup_elem(&sink_count, &zero);
  if (n) *n += 1;
  return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
