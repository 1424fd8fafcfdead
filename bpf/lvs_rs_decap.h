/* lvs-rs's tunnel parser: what a VS/TUN real server must strip from a packet the director sent,
 * for the three IPVS tunnel types (ipvsadm --tun-type):
 *
 *   ipip  outer IPv4 protocol 4 (IPv4 inside) or 41 (IPv6 inside), outer IPv6 next header 41 or
 *         4; either family inside either (IPVS sends 4in6 and 6in4 too).
 *   gue   outer IP + UDP to the configured port + GUE (draft-ietf-intarea-gue; Linux's
 *         include/net/gue.h, IPVS's ipvs_gue_encap):
 *           version 0: |Ver=0|C|Hlen(5)|proto/ctype|flags(16)|, then Hlen*4 bytes of options.
 *             C (control) is refused; proto 4 or 41. The only standard flag Linux knows is P
 *             (0x0001: a 4-byte private-flags word opens the options); the only private flag
 *             is REMCSUM (0x80000000: 2+2 bytes follow, checksum start and checksum field
 *             offset, both counted from the inner IP header). IPVS adds these 8 bytes
 *             (hlen 2) with --tun-remcsum when the inner transport checksum was left partial.
 *           version 1: "direct IP encapsulation", the inner IP header right after UDP.
 *   gre   outer IP protocol 47 + RFC 2784 GRE, protocol 0x0800 or 0x86DD, with the optional
 *         checksum word (C bit, --tun-csum). Routing, key and sequence number (RFC 1701/2890)
 *         and versions other than 0 are refused: IPVS never sends them.
 *
 * Written once, as plain C over a byte range, for two compilers: the tc program
 * (bpf/lvs_rs.bpf.c, with direct packet access: `frame` is skb->data, `end` is data_end) and
 * host C++ (fuzz/rs_decap_fuzz.cc, tests). Nothing here calls a BPF helper or a libc function.
 * Every read goes through lvs_rs_at(), which bounds it against `end`; in BPF that check is the
 * pointer comparison the verifier understands.
 *
 * Two lengths are given: `end - frame` is what can be read (the skb's linear part), `frame_len`
 * is the whole frame (skb->len). Length fields are checked against frame_len; bytes past `end`
 * are never read. A read that fails only because the linear part is short sets short_read, so
 * the caller may pull more data in and parse again.
 *
 * Outer checksums (IPv4 header excepted) are not verified: after decapsulation the inner
 * packet's own checksums are verified by the stack, end to end, which covers the payload.
 */
#ifndef LVS_RS_DECAP_H
#define LVS_RS_DECAP_H

#include <linux/types.h>

#ifdef __bpf__
#define LVS_RS_FN static inline __attribute__((always_inline))
#else
#include <stddef.h>
#define LVS_RS_FN static inline
#endif

#define LVS_RS_ETH_HLEN 14
#define LVS_RS_ETH_P_IP 0x0800
#define LVS_RS_ETH_P_IPV6 0x86DD
#define LVS_RS_PROTO_IPIP 4
#define LVS_RS_PROTO_UDP 17
#define LVS_RS_PROTO_IPV6 41
#define LVS_RS_PROTO_GRE 47

#define LVS_RS_GUE_FLAG_PRIV 0x0001u
#define LVS_RS_GUE_PFLAG_REMCSUM 0x80000000u
#define LVS_RS_GRE_CSUM 0x8000u
/* RFC 2784: a receiver must discard a packet with any of bits 1-5 set (routing, key, sequence
 * number, strict source route, recursion control), and any version but 0. Bits 6-12 are ignored. */
#define LVS_RS_GRE_REFUSED 0x7C00u
#define LVS_RS_GRE_VERSION 0x0007u

/* Remote checksum offload: the checksum start may lie this far into the inner packet (an IPv6
 * header with 88 bytes of extension headers), the field 2 bytes before start + 32. */
#define LVS_RS_REMCSUM_MAX_START 128
#define LVS_RS_REMCSUM_MAX_FIELD 32

/* Bytes the tc program makes linear before it parses a possible tunnel packet: more than the
 * largest header chain above (14 + 60 + 8 + 128 + 128 of remcsum start). */
#define LVS_RS_PULL_LEN 384

/* Tunnel types, as bits of lvs_rs_config.tun_mask. */
#define LVS_RS_TUN_IPIP 0x1
#define LVS_RS_TUN_GUE 0x2
#define LVS_RS_TUN_GRE 0x4

#define LVS_RS_V4 4
#define LVS_RS_V6 6

/* What lvs_rs_parse found. Every value from LVS_RS_ERR_TRUNCATED on is a tunnel packet of a
 * configured type that is malformed or that lvs-rs does not handle: it is counted (the status is
 * also its counter index) and left to the kernel unchanged. */
enum lvs_rs_status {
  LVS_RS_DECAP = 0,           /* decapsulate: *out says how */
  LVS_RS_NOT_TUNNEL = 1,      /* not IP, or not a tunnel of a configured type: not ours */
  LVS_RS_ERR_TRUNCATED = 2,   /* a header or a length field runs past the packet */
  LVS_RS_ERR_OUTER_IP = 3,    /* outer IPv4 lengths or header checksum wrong; IPv6 length 0 */
  LVS_RS_ERR_FRAGMENT = 4,    /* outer IPv4 fragment: only the kernel could reassemble it */
  LVS_RS_ERR_UDP = 5,         /* GUE: UDP length shorter than its header or past the IP payload */
  LVS_RS_ERR_GUE_VERSION = 6, /* GUE version 2 or 3; version 1 without an IPv4/IPv6 header */
  LVS_RS_ERR_GUE_CONTROL = 7, /* GUE control message (C bit) */
  LVS_RS_ERR_GUE_FLAGS = 8,   /* unknown (private) flags, or their fields longer than Hlen */
  LVS_RS_ERR_GUE_PROTO = 9,   /* GUE proto/ctype neither 4 nor 41 */
  LVS_RS_ERR_REMCSUM = 10,    /* remcsum option unusable (see lvs_rs_parse) */
  LVS_RS_ERR_GRE_FLAGS = 11,  /* GRE routing, key, sequence, recursion bits or version != 0 */
  LVS_RS_ERR_GRE_PROTO = 12,  /* GRE protocol neither 0x0800 nor 0x86DD */
  LVS_RS_ERR_INNER = 13,      /* inner IP header truncated or not of the announced family */
  LVS_RS_STATUS_MAX = 14
};

/* Counters of lvs_rs_stats (per-CPU array): one per parse status, then the program's own. */
enum lvs_rs_stat {
  /* 0 .. LVS_RS_STATUS_MAX-1: lvs_rs_status values (LVS_RS_DECAP: parsed as decapsulable) */
  LVS_RS_STAT_RX = LVS_RS_STATUS_MAX, /* every packet the program saw */
  LVS_RS_STAT_NOT_LOCAL,  /* a tunnel packet whose outer destination is not ours: untouched */
  LVS_RS_STAT_NOT_VIP,    /* well-formed, but the inner destination is no VIP: untouched */
  LVS_RS_STAT_DECAP_IPIP, /* decapsulated, per type */
  LVS_RS_STAT_DECAP_GUE,
  LVS_RS_STAT_DECAP_GRE,
  LVS_RS_STAT_DECAP_FAILED, /* a helper failed half-way: dropped */
  LVS_RS_STAT_MAX
};

/* Value of lvs_rs_config (an array of one). */
struct lvs_rs_config {
  __u32 tun_mask; /* LVS_RS_TUN_* accepted; 0 decapsulates nothing */
  __u16 gue_port; /* GUE's UDP destination port, host byte order; 0 if GUE is off */
  __u16 reserved;
};

/* Key of lvs_rs_local (outer destinations: this host's addresses) and lvs_rs_vips (inner
 * destinations). IPv4 fills the first 4 bytes of addr, the rest is zero. */
struct lvs_rs_addr {
  __u8 family; /* LVS_RS_V4 or LVS_RS_V6 */
  __u8 pad[3];
  __u8 addr[16];
};

/* How to decapsulate one packet. Offsets count from the start of the frame (Ethernet). */
struct lvs_rs_decap {
  __u16 outer_len;       /* outer IP header + UDP/GUE or GRE: the bytes to remove after Ethernet */
  __u16 outer_daddr_off; /* set as soon as a configured tunnel is recognised, errors included */
  __u16 inner_daddr_off;
  __u16 udp_off;       /* GUE: the UDP header */
  __u16 remcsum_start; /* GUE remcsum: checksum start and field, from the inner IP header */
  __u16 remcsum_offset;
  __u8 tun;          /* LVS_RS_TUN_* */
  __u8 outer_family; /* LVS_RS_V4 / LVS_RS_V6 */
  __u8 inner_family;
  __u8 remcsum;    /* 1: the inner transport checksum must be completed */
  __u8 short_read; /* 1: a read needed bytes past `end` but within frame_len */
  __u8 pad[3];
};

/* `n` readable bytes at `off` from `base`, or 0. `off` must stay bounded (it comes from header
 * fields) so that the verifier accepts base + off. */
LVS_RS_FN const __u8* lvs_rs_at(const __u8* base, __u32 off, __u32 n, const __u8* end) {
#ifdef __bpf__
  const __u8* p = base + off;
  if (p + n > end) return 0;
  return p;
#else
  const size_t avail = (size_t)(end - base);
  if (off > avail || n > avail - off) return 0;
  return base + off;
#endif
}

LVS_RS_FN __u32 lvs_rs_be16(const __u8* p) { return ((__u32)p[0] << 8) | p[1]; }

LVS_RS_FN __u32 lvs_rs_be32(const __u8* p) {
  return ((__u32)p[0] << 24) | ((__u32)p[1] << 16) | ((__u32)p[2] << 8) | p[3];
}

LVS_RS_FN __u32 lvs_rs_fold(__u32 sum) {
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return sum;
}

/* Adds `words` big-endian 16-bit words at `off` to *sum, at most `max_words` of them (a
 * constant, so the loop is bounded for the verifier). 0 if they are not all readable. */
LVS_RS_FN int lvs_rs_sum_words(const __u8* frame, const __u8* end, __u32 off, __u32 words,
                               __u32 max_words, __u32* sum) {
  __u32 s = *sum;
  for (__u32 i = 0; i < max_words; i++) {
    if (i >= words) break;
    const __u8* w = lvs_rs_at(frame, off + 2 * i, 2, end);
    if (!w) return 0;
    s += lvs_rs_be16(w);
  }
  *sum = s;
  return 1;
}

LVS_RS_FN void lvs_rs_decap_init(struct lvs_rs_decap* d) {
  d->outer_len = 0;
  d->outer_daddr_off = 0;
  d->inner_daddr_off = 0;
  d->udp_off = 0;
  d->remcsum_start = 0;
  d->remcsum_offset = 0;
  d->tun = 0;
  d->outer_family = 0;
  d->inner_family = 0;
  d->remcsum = 0;
  d->short_read = 0;
  d->pad[0] = d->pad[1] = d->pad[2] = 0;
}

/* A failed bounds check: truncated if frame_len says the bytes are not there either, else only
 * the linear part was short. */
LVS_RS_FN enum lvs_rs_status lvs_rs_short(struct lvs_rs_decap* d, __u32 need, __u32 frame_len,
                                          enum lvs_rs_status if_short) {
  if (need <= frame_len) d->short_read = 1;
  return if_short;
}

/* Parses one Ethernet frame. `frame_len` >= end - frame. On LVS_RS_DECAP, *d says what to
 * remove and which inner family follows; on an error, d->outer_daddr_off (and the rest found so
 * far) is set, so the caller can tell traffic for this host from forwarded traffic.
 *
 * The remcsum option is usable when: the outer UDP checksum is present (IPVS always sets it
 * with --tun-remcsum; the inner checksum is derived from it), start and offset are even, start
 * <= offset, start <= LVS_RS_REMCSUM_MAX_START, offset <= start + LVS_RS_REMCSUM_MAX_FIELD and
 * the field lies inside the inner packet. */
LVS_RS_FN enum lvs_rs_status lvs_rs_parse(const __u8* frame, const __u8* end, __u32 frame_len,
                                          const struct lvs_rs_config* cfg, struct lvs_rs_decap* d) {
  lvs_rs_decap_init(d);
  const __u8* eth = lvs_rs_at(frame, 0, LVS_RS_ETH_HLEN, end);
  if (!eth || cfg->tun_mask == 0) return LVS_RS_NOT_TUNNEL;
  const __u32 ethertype = lvs_rs_be16(eth + 12);
  const __u32 l3 = LVS_RS_ETH_HLEN;
  __u32 l3_hlen, l4, proto, pay_len; /* pay_len: bytes after the outer IP header */
  __u32 frag = 0;                    /* IPv4 MF | offset */

  if (ethertype == LVS_RS_ETH_P_IP) {
    const __u8* ip = lvs_rs_at(frame, l3, 20, end);
    if (!ip) return lvs_rs_short(d, l3 + 20, frame_len, LVS_RS_NOT_TUNNEL);
    if ((ip[0] >> 4) != 4 || (ip[0] & 0xf) < 5) return LVS_RS_NOT_TUNNEL;
    proto = ip[9];
    l3_hlen = (__u32)(ip[0] & 0xf) * 4;
    frag = lvs_rs_be16(ip + 6) & 0x3fff;
    d->outer_family = LVS_RS_V4;
  } else if (ethertype == LVS_RS_ETH_P_IPV6) {
    const __u8* ip = lvs_rs_at(frame, l3, 40, end);
    if (!ip) return lvs_rs_short(d, l3 + 40, frame_len, LVS_RS_NOT_TUNNEL);
    if ((ip[0] >> 4) != 6) return LVS_RS_NOT_TUNNEL;
    proto = ip[6]; /* extension headers are not walked: IPVS sends none */
    l3_hlen = 40;
    d->outer_family = LVS_RS_V6;
  } else {
    return LVS_RS_NOT_TUNNEL; /* ARP, a VLAN tag left in the frame, ... */
  }
  l4 = l3 + l3_hlen;

  /* Which tunnel, if any: known from the outer header alone, except GUE (the UDP port). */
  if ((proto == LVS_RS_PROTO_IPIP || proto == LVS_RS_PROTO_IPV6) &&
      (cfg->tun_mask & LVS_RS_TUN_IPIP)) {
    d->tun = LVS_RS_TUN_IPIP;
  } else if (proto == LVS_RS_PROTO_GRE && (cfg->tun_mask & LVS_RS_TUN_GRE)) {
    d->tun = LVS_RS_TUN_GRE;
  } else if (proto == LVS_RS_PROTO_UDP && (cfg->tun_mask & LVS_RS_TUN_GUE) && cfg->gue_port) {
    if (frag & 0x1fff) return LVS_RS_NOT_TUNNEL; /* a later fragment: no UDP header to look at */
    const __u8* udp = lvs_rs_at(frame, l4, 8, end);
    if (!udp) return lvs_rs_short(d, l4 + 8, frame_len, LVS_RS_NOT_TUNNEL);
    if (lvs_rs_be16(udp + 2) != cfg->gue_port) return LVS_RS_NOT_TUNNEL;
    d->tun = LVS_RS_TUN_GUE;
    d->udp_off = (__u16)l4;
  } else {
    return LVS_RS_NOT_TUNNEL;
  }
  d->outer_daddr_off = (__u16)(l3 + (d->outer_family == LVS_RS_V4 ? 16 : 24));

  /* The outer IP header, now that the packet is a tunnel's. */
  if (d->outer_family == LVS_RS_V4) {
    const __u8* ip = lvs_rs_at(frame, l3, 20, end);
    if (!ip) return LVS_RS_ERR_TRUNCATED; /* read above already */
    const __u32 tot_len = lvs_rs_be16(ip + 2);
    if (tot_len < l3_hlen) return LVS_RS_ERR_OUTER_IP;
    if (l3 + tot_len > frame_len) return LVS_RS_ERR_TRUNCATED;
    __u32 sum = 0;
    if (!lvs_rs_sum_words(frame, end, l3, l3_hlen / 2, 30, &sum)) {
      return lvs_rs_short(d, l3 + l3_hlen, frame_len, LVS_RS_ERR_TRUNCATED);
    }
    if (lvs_rs_fold(sum) != 0xffff) return LVS_RS_ERR_OUTER_IP;
    if (frag) return LVS_RS_ERR_FRAGMENT;
    pay_len = tot_len - l3_hlen;
  } else {
    const __u8* ip = lvs_rs_at(frame, l3, 40, end);
    if (!ip) return LVS_RS_ERR_TRUNCATED;
    pay_len = lvs_rs_be16(ip + 4);
    if (pay_len == 0) return LVS_RS_ERR_OUTER_IP; /* a jumbogram, or nothing inside */
    if (l3 + 40 + pay_len > frame_len) return LVS_RS_ERR_TRUNCATED;
  }

  /* The tunnel header: its length from l4 (UDP included for GUE), the inner family, and the
   * bytes it leaves for the inner packet. */
  __u32 tun_len = 0, inner_len;
  if (d->tun == LVS_RS_TUN_IPIP) {
    d->inner_family = proto == LVS_RS_PROTO_IPIP ? LVS_RS_V4 : LVS_RS_V6;
  } else if (d->tun == LVS_RS_TUN_GRE) {
    if (pay_len < 4) return LVS_RS_ERR_TRUNCATED;
    const __u8* gre = lvs_rs_at(frame, l4, 4, end);
    if (!gre) return lvs_rs_short(d, l4 + 4, frame_len, LVS_RS_ERR_TRUNCATED);
    const __u32 flags = lvs_rs_be16(gre);
    const __u32 gproto = lvs_rs_be16(gre + 2);
    if (flags & (LVS_RS_GRE_REFUSED | LVS_RS_GRE_VERSION)) return LVS_RS_ERR_GRE_FLAGS;
    tun_len = (flags & LVS_RS_GRE_CSUM) ? 8 : 4;
    if (pay_len < tun_len) return LVS_RS_ERR_TRUNCATED;
    if (gproto == LVS_RS_ETH_P_IP) {
      d->inner_family = LVS_RS_V4;
    } else if (gproto == LVS_RS_ETH_P_IPV6) {
      d->inner_family = LVS_RS_V6;
    } else {
      return LVS_RS_ERR_GRE_PROTO;
    }
  } else { /* GUE */
    const __u8* udp = lvs_rs_at(frame, l4, 8, end);
    if (!udp) return LVS_RS_ERR_TRUNCATED;
    const __u32 ulen = lvs_rs_be16(udp + 4);
    if (ulen < 8 || ulen > pay_len) return LVS_RS_ERR_UDP;
    pay_len = ulen; /* bytes past the UDP length are not the tunnel's */
    if (ulen < 8 + 1) return LVS_RS_ERR_TRUNCATED;
    const __u8* gue = lvs_rs_at(frame, l4 + 8, 1, end);
    if (!gue) return lvs_rs_short(d, l4 + 9, frame_len, LVS_RS_ERR_TRUNCATED);
    const __u32 version = gue[0] >> 6;
    if (version == 1) {
      /* Direct IP encapsulation: the first nibble is the inner IP version. */
      if ((gue[0] >> 4) == 4) {
        d->inner_family = LVS_RS_V4;
      } else if ((gue[0] >> 4) == 6) {
        d->inner_family = LVS_RS_V6;
      } else {
        return LVS_RS_ERR_GUE_VERSION;
      }
      tun_len = 8;
    } else if (version != 0) {
      return LVS_RS_ERR_GUE_VERSION;
    } else {
      if (gue[0] & 0x20) return LVS_RS_ERR_GUE_CONTROL;
      const __u32 optlen = (__u32)(gue[0] & 0x1f) * 4;
      tun_len = 8 + 4 + optlen;
      if (tun_len > ulen) return LVS_RS_ERR_TRUNCATED;
      const __u8* h = lvs_rs_at(frame, l4 + 8, 4, end);
      if (!h) return lvs_rs_short(d, l4 + 12, frame_len, LVS_RS_ERR_TRUNCATED);
      const __u32 gproto = h[1];
      const __u32 flags = lvs_rs_be16(h + 2);
      if (flags & ~LVS_RS_GUE_FLAG_PRIV) return LVS_RS_ERR_GUE_FLAGS;
      if (flags & LVS_RS_GUE_FLAG_PRIV) {
        if (optlen < 4) return LVS_RS_ERR_GUE_FLAGS;
        const __u8* pf = lvs_rs_at(frame, l4 + 12, 4, end);
        if (!pf) return lvs_rs_short(d, l4 + 16, frame_len, LVS_RS_ERR_TRUNCATED);
        const __u32 pflags = lvs_rs_be32(pf);
        if (pflags & ~LVS_RS_GUE_PFLAG_REMCSUM) return LVS_RS_ERR_GUE_FLAGS;
        if (pflags & LVS_RS_GUE_PFLAG_REMCSUM) {
          if (optlen < 8) return LVS_RS_ERR_GUE_FLAGS;
          const __u8* rc = lvs_rs_at(frame, l4 + 16, 4, end);
          if (!rc) return lvs_rs_short(d, l4 + 20, frame_len, LVS_RS_ERR_TRUNCATED);
          d->remcsum = 1;
          d->remcsum_start = (__u16)lvs_rs_be16(rc);
          d->remcsum_offset = (__u16)lvs_rs_be16(rc + 2);
          if (lvs_rs_be16(udp + 6) == 0) return LVS_RS_ERR_REMCSUM;
        }
      }
      if (gproto == LVS_RS_PROTO_IPIP) {
        d->inner_family = LVS_RS_V4;
      } else if (gproto == LVS_RS_PROTO_IPV6) {
        d->inner_family = LVS_RS_V6;
      } else {
        return LVS_RS_ERR_GUE_PROTO;
      }
    }
  }
  inner_len = pay_len - tun_len; /* tun_len <= pay_len checked per type above */

  /* The inner IP header. */
  const __u32 inner = l4 + tun_len;
  const __u32 inner_hlen = d->inner_family == LVS_RS_V4 ? 20 : 40;
  if (inner_len < inner_hlen) return LVS_RS_ERR_INNER;
  const __u8* in = lvs_rs_at(frame, inner, inner_hlen, end);
  if (!in) return lvs_rs_short(d, inner + inner_hlen, frame_len, LVS_RS_ERR_INNER);
  if ((in[0] >> 4) != d->inner_family) return LVS_RS_ERR_INNER;
  if (d->inner_family == LVS_RS_V4 && (in[0] & 0xf) < 5) return LVS_RS_ERR_INNER;
  d->inner_daddr_off = (__u16)(inner + (d->inner_family == LVS_RS_V4 ? 16 : 24));

  if (d->remcsum) {
    const __u32 start = d->remcsum_start, field = d->remcsum_offset;
    if ((start | field) & 1) return LVS_RS_ERR_REMCSUM;
    if (start > LVS_RS_REMCSUM_MAX_START || field < start ||
        field > start + LVS_RS_REMCSUM_MAX_FIELD || field + 2 > inner_len) {
      return LVS_RS_ERR_REMCSUM;
    }
    /* lvs_rs_remcsum reads [udp, inner + start): make sure it can. */
    if (!lvs_rs_at(frame, inner, start, end)) {
      return lvs_rs_short(d, inner + start, frame_len, LVS_RS_ERR_TRUNCATED);
    }
  }
  d->outer_len = (__u16)(l3_hlen + tun_len);
  return LVS_RS_DECAP;
}

/* GUE remote checksum offload: the value for the inner transport checksum field, which the
 * sender left holding only the pseudo-header sum (CHECKSUM_PARTIAL). Linux's receiver
 * (skb_remcsum_process / remcsum_adjust) sums the inner packet from `start` to its end and
 * stores the folded complement. That sum need not be computed over the whole payload: the outer
 * UDP checksum (always set with remcsum) makes the sum of everything it covers 0xffff, so the
 * part from `start` to the end is the complement of the part before it; the field's new value
 * is therefore the folded sum of the outer pseudo-header and of the bytes from the UDP header
 * to the inner packet's `start`. A packet corrupted in flight then fails the inner check, as it
 * would have failed the outer one. Returns 0..0xffff, or -1 if a byte is unreadable (parse has
 * checked they are not). Only valid after lvs_rs_parse returned LVS_RS_DECAP with remcsum. */
LVS_RS_FN int lvs_rs_remcsum(const __u8* frame, const __u8* end, const struct lvs_rs_decap* d) {
  const __u32 addr_off = d->outer_daddr_off - (d->outer_family == LVS_RS_V4 ? 4 : 16);
  const __u32 addr_words = d->outer_family == LVS_RS_V4 ? 4 : 16; /* saddr + daddr */
  __u32 sum = 0;
  if (!lvs_rs_sum_words(frame, end, addr_off & 0xff, addr_words, 16, &sum)) return -1;
  const __u8* udp = lvs_rs_at(frame, d->udp_off & 0xff, 8, end);
  if (!udp) return -1;
  sum += LVS_RS_PROTO_UDP + lvs_rs_be16(udp + 4); /* pseudo-header: protocol, UDP length */
  /* UDP header, GUE header and options, inner packet up to start: all even lengths. */
  const __u32 inner = LVS_RS_ETH_HLEN + d->outer_len;
  const __u32 words = (inner + d->remcsum_start - d->udp_off) / 2;
  if (!lvs_rs_sum_words(frame, end, d->udp_off & 0xff, words,
                        (8 + 4 + 124 + LVS_RS_REMCSUM_MAX_START) / 2, &sum)) {
    return -1;
  }
  return (int)lvs_rs_fold(sum);
}

#endif /* LVS_RS_DECAP_H */
