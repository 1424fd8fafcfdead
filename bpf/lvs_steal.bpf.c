/* For lvsd's AF_PACKET backend (where AF_XDP is not used), two programs that agree on what is
 * lvsd's traffic:
 *   lvs_sock_filter  SO_ATTACH_BPF on lvsd's ETH_P_ALL packet socket: admits only our received
 *                    frames (returns their length), everything else 0.
 *   lvs_tc_steal     tc ingress: drops our frames (TC_ACT_SHOT) so the kernel does not also answer
 *                    them. tc ingress runs after the packet taps, so lvsd's socket already holds
 *                    its copy; everything else TC_ACT_OK.
 * Both read the same bytes (Ethernet header to the end of the linear data), so they cannot
 * disagree about a frame. lvs_tc_steal keeps lvs_stats (each received frame once, as XDP does);
 * lvs_sock_filter counts nothing, since it runs for every attached socket and direction.
 *
 * On the receive path the kernel moves a VLAN tag out of the frame (skb->vlan_tci) before taps
 * and tc, so both programs also test vlan_present; a frame still carrying its tag is caught by
 * the ethertype test of lvs_classify(). */
#include <linux/if_packet.h>
#include <linux/pkt_cls.h>

#include "lvs_classify.h"

SEC("socket")
int lvs_sock_filter(struct __sk_buff* skb) {
  /* lvsd's own transmissions and the host's come back to ETH_P_ALL sockets as PACKET_OUTGOING. */
  if (skb->pkt_type == PACKET_OUTGOING || skb->vlan_present) return 0;
  const struct lvs_pkt p = {.skb = skb};
  if (lvs_classify(&p, LVS_ACCESS_LOAD) == LVS_NOT_OURS) return 0;
  return skb->len;
}

SEC("tc")
int lvs_tc_steal(struct __sk_buff* skb) {
  if (skb->vlan_present) {
    lvs_count(LVS_STAT_RX);
    lvs_count(LVS_STAT_PASS);
    return TC_ACT_OK;
  }
  const struct lvs_pkt p = {
      .data = (void*)(long)skb->data,
      .data_end = (void*)(long)skb->data_end,
  };
  return lvs_classify_counted(&p, LVS_ACCESS_DIRECT) == LVS_NOT_OURS ? TC_ACT_OK : TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "GPL";
