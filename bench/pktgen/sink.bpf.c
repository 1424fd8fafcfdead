// The real servers' end of forwarding.sh: drops every frame (XDP_DROP) after the veth counted it,
// so delivered packets are measured without a socket reader's cap. ARP goes on to the real
// server's stack, so the director resolves the real servers as it would on a real network.
// Nothing else is looked at: any frame counts, whatever the forwarding method made of it (NAT,
// DR to the VIP, ipip or GUE encapsulated, FULLNAT).
//
// Two maps, read by forwarding.sh with bpftool:
//   sink_count   per-CPU count of dropped frames, for cross-checks;
//   sink_sample  the first bytes (up to 128) of one frame in SAMPLE_EVERY (4096; the first
//                included), so the script can check that each case delivered the form it claims
//                (a DR case must deliver frames to the VIP, a TUN case encapsulated ones).
//                Sampling keeps the per-frame cost at one map lookup, as before.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define SAMPLE_BYTES 128
#define SAMPLE_EVERY 4096 /* a power of two */

struct sample {
  __u32 len; /* frame length; bytes[] holds min(len, SAMPLE_BYTES) of it */
  __u32 seq; /* sink_count at the time of the sample, 0 = no sample yet */
  __u8 bytes[SAMPLE_BYTES];
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} sink_count SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct sample);
} sink_sample SEC(".maps");

SEC("xdp")
int sink(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) <= end && eth->h_proto == bpf_htons(ETH_P_ARP)) return XDP_PASS;
  __u32 zero = 0;
  __u64 *n = bpf_map_lookup_elem(&sink_count, &zero);
  if (!n) return XDP_DROP;
  __u64 seq = *n + 1;
  *n = seq;
  if ((seq & (SAMPLE_EVERY - 1)) != 1) return XDP_DROP;
  struct sample *s = bpf_map_lookup_elem(&sink_sample, &zero);
  if (!s) return XDP_DROP;
  __u32 len = (__u32)(end - data);
  __u32 take = len < SAMPLE_BYTES ? len : SAMPLE_BYTES;
  /* The verifier needs the length bounded on the register the call gets; without this barrier
   * clang checks a copy and passes the unchecked one. */
  asm volatile("" : "+r"(take));
  if (take < 34 || take > SAMPLE_BYTES) return XDP_DROP; /* 34: Ethernet + IPv4 header */
  long err = bpf_xdp_load_bytes(ctx, 0, s->bytes, take);
  if (err == 0) {
    s->len = len;
    s->seq = (__u32)seq;
  }
  return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
