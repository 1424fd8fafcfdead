// Fuzzes lvs-rs's tunnel parser (bpf/lvs_rs_decap.h, the code the tc decapsulator runs) on the
// input as an Ethernet frame: with every tunnel type on, with each type alone, with nothing on,
// and with only part of the frame readable (a non-linear skb). Any result that describes bytes
// outside what it may read, or that disagrees with the bytes, aborts. The remote checksum
// value is checked against a plain recomputation.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "bpf/lvs_rs_decap.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

uint32_t be16(const uint8_t* p) { return uint32_t(p[0]) << 8 | p[1]; }

// The folded sum of the outer pseudo-header and of the bytes from the UDP header to the inner
// checksum start, written out plainly.
uint32_t remcsum_reference(const uint8_t* b, const lvs_rs_decap& d) {
  uint64_t sum = 0;
  const size_t addr_len = d.outer_family == LVS_RS_V4 ? 4 : 16;
  const size_t saddr = d.outer_daddr_off - addr_len;
  for (size_t i = 0; i < 2 * addr_len; i += 2) sum += be16(b + saddr + i);
  sum += 17 + be16(b + d.udp_off + 4);
  const size_t stop = size_t(LVS_RS_ETH_HLEN) + d.outer_len + d.remcsum_start;
  for (size_t i = d.udp_off; i < stop; i += 2) sum += be16(b + i);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return uint32_t(sum);
}

void parse_one(const uint8_t* b, size_t readable, uint32_t frame_len, const lvs_rs_config& cfg) {
  lvs_rs_decap d;
  const lvs_rs_status st = lvs_rs_parse(b, b + readable, frame_len, &cfg, &d);
  check(st >= LVS_RS_DECAP && st < LVS_RS_STATUS_MAX);
  if (d.short_read) check(readable < frame_len);
  if (cfg.tun_mask == 0) check(st == LVS_RS_NOT_TUNNEL);
  if (st == LVS_RS_NOT_TUNNEL) {
    check(d.outer_daddr_off == 0 && d.outer_len == 0);
    return;
  }
  // A tunnel of a configured type: its outer header was read.
  check(d.tun == LVS_RS_TUN_IPIP || d.tun == LVS_RS_TUN_GUE || d.tun == LVS_RS_TUN_GRE);
  check((d.tun & cfg.tun_mask) != 0);
  check(readable >= LVS_RS_ETH_HLEN);
  const uint32_t ethertype = be16(b + 12);
  const size_t addr_len = d.outer_family == LVS_RS_V4 ? 4 : 16;
  check(d.outer_family == (ethertype == LVS_RS_ETH_P_IP ? LVS_RS_V4 : LVS_RS_V6));
  check(ethertype == LVS_RS_ETH_P_IP || ethertype == LVS_RS_ETH_P_IPV6);
  check(d.outer_daddr_off + addr_len <= readable);
  check((b[LVS_RS_ETH_HLEN] >> 4) == d.outer_family);
  if (d.tun == LVS_RS_TUN_GUE) {
    check(d.udp_off + 8u <= readable);
    check(be16(b + d.udp_off + 2) == cfg.gue_port);
  }
  if (st != LVS_RS_DECAP) return;

  // Something to decapsulate: the inner header is readable and of the announced family.
  const size_t inner = size_t(LVS_RS_ETH_HLEN) + d.outer_len;
  const size_t inner_hlen = d.inner_family == LVS_RS_V4 ? 20 : 40;
  check(d.inner_family == LVS_RS_V4 || d.inner_family == LVS_RS_V6);
  check(inner + inner_hlen <= readable && inner + inner_hlen <= frame_len);
  check((b[inner] >> 4) == d.inner_family);
  check(d.inner_daddr_off == inner + (d.inner_family == LVS_RS_V4 ? 16 : 24));
  // Offsets stay small: the BPF program masks them with 0x1ff.
  check(d.outer_len < 0x200 && d.inner_daddr_off < 0x200 && d.outer_daddr_off < 0x200);
  const size_t l3_hlen = d.outer_family == LVS_RS_V4 ? size_t(b[LVS_RS_ETH_HLEN] & 0xf) * 4 : 40;
  check(d.outer_len >= l3_hlen);
  if (d.tun == LVS_RS_TUN_IPIP) check(d.outer_len == l3_hlen);
  if (d.tun == LVS_RS_TUN_GRE) {
    const uint32_t flags = be16(b + LVS_RS_ETH_HLEN + l3_hlen);
    check(d.outer_len == l3_hlen + ((flags & LVS_RS_GRE_CSUM) ? 8 : 4));
    check((flags & (LVS_RS_GRE_REFUSED | LVS_RS_GRE_VERSION)) == 0);
  }
  if (d.tun == LVS_RS_TUN_GUE) check(d.outer_len >= l3_hlen + 8);
  if (d.remcsum) {
    check(d.tun == LVS_RS_TUN_GUE);
    check(inner + d.remcsum_start <= readable);
    check(d.remcsum_start <= d.remcsum_offset && (d.remcsum_start % 2) == 0);
    check(be16(b + d.udp_off + 6) != 0);
    const int v = lvs_rs_remcsum(b, b + readable, &d);
    check(v >= 0 && uint32_t(v) == remcsum_reference(b, d));
  }
}

void run(const uint8_t* data, size_t size) {
  // An exact-size heap copy: ASan then flags any read past the end.
  std::vector<uint8_t> buf(data, data + size);
  const uint8_t* b = buf.data();
  const uint32_t len = uint32_t(size);
  const uint32_t masks[] = {LVS_RS_TUN_IPIP | LVS_RS_TUN_GUE | LVS_RS_TUN_GRE, LVS_RS_TUN_IPIP,
                            LVS_RS_TUN_GUE, LVS_RS_TUN_GRE, 0};
  for (uint32_t mask : masks) {
    lvs_rs_config cfg{};
    cfg.tun_mask = mask;
    cfg.gue_port = 6080;
    parse_one(b, size, len, cfg);
    // Only part of the frame linear, as in an skb whose rest sits in pages.
    parse_one(b, size / 2, len, cfg);
    parse_one(b, size > 60 ? 60 : size, len, cfg);
  }
  // GUE on whatever port the frame's UDP header names (IPv4, no options), so that mutated
  // ports still reach the GUE parser.
  if (size >= 14 + 20 + 4) {
    lvs_rs_config cfg{};
    cfg.tun_mask = LVS_RS_TUN_GUE;
    cfg.gue_port = uint16_t(be16(b + 14 + 20 + 2));
    parse_one(b, size, len, cfg);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  run(data, size);
  return 0;
}
