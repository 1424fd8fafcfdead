/* lvs-rs's decapsulator: a tc ingress program for VS/TUN real servers whose kernel has no
 * ipip, fou/gue or gre module (or should not need one). It strips the director's tunnel
 * headers in place, so the client's packet goes up the stack as if it had arrived directly:
 *
 *   - only packets whose outer destination is in lvs_rs_local (this host's addresses on the
 *     interface, filled by lvs-rs) and whose inner destination is in lvs_rs_vips;
 *   - only the tunnel types in lvs_rs_config (ipip, gue on its UDP port, gre);
 *   - the headers are parsed by lvs_rs_parse() (lvs_rs_decap.h, shared with the fuzz target),
 *     then bpf_skb_adjust_room() removes outer IP + UDP/GUE or GRE after the Ethernet header
 *     with BPF_F_ADJ_ROOM_DECAP_L3_IPV4/IPV6 (Linux >= 6.3), which also sets skb->protocol for
 *     the inner family, and BPF_F_ADJ_ROOM_FIXED_GSO, since a GRO-merged packet keeps its MSS.
 *     The EtherType is rewritten when the family changes (4in6, 6in4). Checksum state: the
 *     helper turns CHECKSUM_UNNECESSARY (which vouched for the outer packet) into NONE, so the
 *     stack verifies the inner checksums itself.
 *   - GUE remote checksum offload: the inner transport checksum is completed
 *     (lvs_rs_remcsum()).
 *
 * Verdicts: TC_ACT_UNSPEC for everything that is left alone and for decapsulated packets: the
 * packet goes on to any further tc filter and then up the stack, so lvs-rs can share the hook
 * with other programs (lvsd's AF_PACKET filter, for one). Malformed tunnel packets and those
 * lvs-rs does not handle (GUE control messages, GRE keys, fragments) are counted per reason and
 * left untouched rather than dropped: the kernel then does what it does without lvs-rs (drops
 * them, or hands them to a tunnel module if one is loaded), and a packet lvs-rs misjudges is
 * never silently lost. Only a failure of a helper after the packet was changed drops it
 * (TC_ACT_SHOT, LVS_RS_STAT_DECAP_FAILED): its bytes are no longer trustworthy.
 */
/* clang-format off */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
/* clang-format on */

#include "lvs_rs_decap.h"

/* uapi headers older than 6.3 lack these (the running kernel has them). */
#define LVS_RS_ADJ_ROOM_FIXED_GSO (1ULL << 0)
#define LVS_RS_ADJ_ROOM_DECAP_L3_IPV4 (1ULL << 7)
#define LVS_RS_ADJ_ROOM_DECAP_L3_IPV6 (1ULL << 8)

#define LVS_RS_MAX_ADDRS 1024

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, LVS_RS_MAX_ADDRS);
  __type(key, struct lvs_rs_addr);
  __type(value, __u32); /* reserved, 0 */
} lvs_rs_local SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, LVS_RS_MAX_ADDRS);
  __type(key, struct lvs_rs_addr);
  __type(value, __u32); /* reserved, 0 */
} lvs_rs_vips SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct lvs_rs_config);
} lvs_rs_config SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, LVS_RS_STAT_MAX);
  __type(key, __u32);
  __type(value, __u64);
} lvs_rs_stats SEC(".maps");

static __always_inline void rs_count(__u32 stat) {
  __u64* v = bpf_map_lookup_elem(&lvs_rs_stats, &stat);
  if (v) *v += 1; /* per-CPU slot: no atomic needed */
}

/* Is the address at `off` (4 or 16 bytes by `family`) in `map`? */
static __always_inline int rs_addr_in(void* map, const __u8* frame, const __u8* end, __u32 off,
                                      __u8 family) {
  struct lvs_rs_addr key = {};
  key.family = family;
  if (family == LVS_RS_V4) {
    const __u8* a = lvs_rs_at(frame, off & 0x1ff, 4, end);
    if (!a) return 0;
    __builtin_memcpy(key.addr, a, 4);
  } else {
    const __u8* a = lvs_rs_at(frame, off & 0x1ff, 16, end);
    if (!a) return 0;
    __builtin_memcpy(key.addr, a, 16);
  }
  return bpf_map_lookup_elem(map, &key) != NULL;
}

SEC("tc")
int lvs_rs_decap(struct __sk_buff* skb) {
  rs_count(LVS_RS_STAT_RX);
  const __u32 zero = 0;
  const struct lvs_rs_config* cfg_ptr = bpf_map_lookup_elem(&lvs_rs_config, &zero);
  if (!cfg_ptr) return TC_ACT_UNSPEC;
  const struct lvs_rs_config cfg = *cfg_ptr;
  if (skb->protocol != bpf_htons(ETH_P_IP) && skb->protocol != bpf_htons(ETH_P_IPV6)) {
    rs_count(LVS_RS_NOT_TUNNEL);
    return TC_ACT_UNSPEC;
  }

  struct lvs_rs_decap d;
  enum lvs_rs_status st = LVS_RS_NOT_TUNNEL;
  const __u8* frame = 0;
  const __u8* end = 0;
  /* Parse what is linear; if that was too short for a verdict, pull more in and parse again
   * (a GRO-built packet may hold little in its linear part). */
  for (int attempt = 0; attempt < 2; attempt++) {
    frame = (const __u8*)(long)skb->data;
    end = (const __u8*)(long)skb->data_end;
    st = lvs_rs_parse(frame, end, skb->len, &cfg, &d);
    if (!d.short_read || attempt == 1) break;
    const __u32 want = skb->len < LVS_RS_PULL_LEN ? skb->len : LVS_RS_PULL_LEN;
    if (bpf_skb_pull_data(skb, want) != 0) break;
  }
  frame = (const __u8*)(long)skb->data;
  end = (const __u8*)(long)skb->data_end;

  if (st == LVS_RS_NOT_TUNNEL) {
    rs_count(LVS_RS_NOT_TUNNEL);
    return TC_ACT_UNSPEC;
  }
  /* A tunnel packet for another host (forwarded, or taken by a bridge) is not ours to judge. */
  if (!rs_addr_in(&lvs_rs_local, frame, end, d.outer_daddr_off, d.outer_family)) {
    rs_count(LVS_RS_STAT_NOT_LOCAL);
    return TC_ACT_UNSPEC;
  }
  if (st != LVS_RS_DECAP) {
    rs_count((__u32)st);
    return TC_ACT_UNSPEC;
  }
  if (!rs_addr_in(&lvs_rs_vips, frame, end, d.inner_daddr_off, d.inner_family)) {
    rs_count(LVS_RS_STAT_NOT_VIP);
    return TC_ACT_UNSPEC;
  }
  int csum = 0;
  if (d.remcsum) {
    csum = lvs_rs_remcsum(frame, end, &d);
    if (csum < 0) { /* parse checked the bytes are there; kept for the verifier */
      rs_count(LVS_RS_ERR_REMCSUM);
      return TC_ACT_UNSPEC;
    }
  }
  rs_count(LVS_RS_DECAP);

  const __u64 flags =
      LVS_RS_ADJ_ROOM_FIXED_GSO |
      (d.inner_family == LVS_RS_V4 ? LVS_RS_ADJ_ROOM_DECAP_L3_IPV4 : LVS_RS_ADJ_ROOM_DECAP_L3_IPV6);
  const __s32 shrink = -(__s32)(d.outer_len & 0x1ff);
  if (bpf_skb_adjust_room(skb, shrink, BPF_ADJ_ROOM_MAC, flags) != 0) {
    /* Nothing was changed (the helper fails before it moves bytes), but the packet is one we
     * meant to take: without lvs-rs the kernel has no use for it either. */
    rs_count(LVS_RS_STAT_DECAP_FAILED);
    return TC_ACT_SHOT;
  }
  if (d.inner_family != d.outer_family) {
    /* The MAC header is outside CHECKSUM_COMPLETE's coverage: no checksum update. */
    const __be16 proto = bpf_htons(d.inner_family == LVS_RS_V4 ? ETH_P_IP : ETH_P_IPV6);
    if (bpf_skb_store_bytes(skb, 12, &proto, sizeof(proto), 0) != 0) {
      rs_count(LVS_RS_STAT_DECAP_FAILED);
      return TC_ACT_SHOT;
    }
  }
  if (d.remcsum) {
    const __u8 field[2] = {(__u8)(csum >> 8), (__u8)csum};
    const __u32 at = LVS_RS_ETH_HLEN + (d.remcsum_offset & 0xff);
    if (bpf_skb_store_bytes(skb, at, field, sizeof(field), BPF_F_RECOMPUTE_CSUM) != 0) {
      rs_count(LVS_RS_STAT_DECAP_FAILED);
      return TC_ACT_SHOT;
    }
  }
  bpf_set_hash_invalid(skb); /* RPS and flow hashes from the inner headers, not the tunnel's */
  rs_count(d.tun == LVS_RS_TUN_IPIP  ? LVS_RS_STAT_DECAP_IPIP
           : d.tun == LVS_RS_TUN_GUE ? LVS_RS_STAT_DECAP_GUE
                                     : LVS_RS_STAT_DECAP_GRE);
  return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";
