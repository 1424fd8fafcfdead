/* lvs XDP entry: traffic for a virtual service and replies of NAT real servers go to the AF_XDP
 * socket of the receiving interface and queue; everything else goes to the kernel (XDP_PASS).
 * Loaded by lvsd through libxdp (xdp_program__open_file(path, "xdp", NULL)), alone or behind
 * libxdp's dispatcher. */
#include "lvs_classify.h"

/* ifindex -> where that interface's sockets sit in lvs_xsks. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, LVS_MAX_IFACES);
  __type(key, __u32);
  __type(value, struct lvs_iface);
} lvs_ifaces SEC(".maps");

/* slot * LVS_MAX_QUEUES + rx queue -> AF_XDP socket. */
struct {
  __uint(type, BPF_MAP_TYPE_XSKMAP);
  __uint(max_entries, LVS_XSKMAP_SIZE);
  __type(key, __u32);
  __type(value, __u32);
} lvs_xsks SEC(".maps");

SEC("xdp")
int lvs_xdp_main(struct xdp_md* ctx) {
  const struct lvs_pkt p = {
      .data = (void*)(long)ctx->data,
      .data_end = (void*)(long)ctx->data_end,
  };
  if (lvs_classify_counted(&p, LVS_ACCESS_DIRECT) == LVS_NOT_OURS) return XDP_PASS;

  const __u32 ifindex = ctx->ingress_ifindex;
  const __u32 queue = ctx->rx_queue_index;
  const struct lvs_iface* iface = bpf_map_lookup_elem(&lvs_ifaces, &ifindex);
  if (iface && iface->slot < LVS_MAX_IFACES && queue < LVS_MAX_QUEUES) {
    /* XDP_PASS when no socket sits at that index. */
    const long act = bpf_redirect_map(&lvs_xsks, iface->slot * LVS_MAX_QUEUES + queue, XDP_PASS);
    if (act == XDP_REDIRECT) return XDP_REDIRECT;
  }
  lvs_count(LVS_STAT_NO_SOCKET);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
