#include "core/xmit_proxy.h"

#include <cstring>

#include "net/checksum.h"
#include "net/headers.h"
#include "net/proxy_v2.h"

namespace lvs::core {

namespace {

// Sequence-space comparisons modulo 2^32, as the kernel's before()/after().
inline bool seq_after(uint32_t a, uint32_t b) { return int32_t(a - b) > 0; }

// The header's length for this connection: the client's family decides it.
inline uint32_t header_len(const Conn& c) {
  return uint32_t(net::proxy_v2_size(c.family()));
}

// A real-server acknowledgement (or SACK edge) in the client's sequence space: bytes past the
// header move down by its length; bytes inside it acknowledge nothing of the client's.
inline uint32_t map_ack(uint32_t ack, const Conn& c, uint32_t n) {
  const uint32_t first = c.isn + 1;
  if (!seq_after(ack, first)) return ack;
  const uint32_t back = ack - n;
  return seq_after(back, first) ? back : first;
}

void set_be32(uint8_t* at, uint32_t v, net::CsumDelta& d) {
  d.replace32(net::load_be32(at), v);
  net::store_be32(at, v);
}

}  // namespace

bool proxy_v2_in(Packet& pkt, net::ParsedPacket& p, const Conn& c) {
  uint8_t* l4 = pkt.data + p.l4_offset;
  const uint32_t thl = uint32_t(l4[net::TcpView::kDataOff] >> 4) * 4;
  const uint32_t payload = p.l4_len() - thl;
  const uint32_t seq = net::load_be32(l4 + net::TcpView::kSeq);
  const uint32_t n = header_len(c);
  net::CsumDelta tcp;
  if (seq_after(seq, c.isn + 1)) {
    set_be32(l4 + net::TcpView::kSeq, seq + n, tcp);
    net::csum_apply_at(l4 + net::TcpView::kCheck, tcp);
    return true;
  }
  if (seq != c.isn + 1 || payload == 0) return true;
  if (pkt.headroom < n) return false;
  // Headers move back by n; the payload stays where it is and the header goes in between.
  const uint32_t head = p.l4_offset + thl;
  std::memmove(pkt.data - n, pkt.data, head);
  pkt.data -= n;
  pkt.headroom -= n;
  pkt.len += n;
  uint8_t* ip = pkt.data + p.l3_offset;
  l4 = pkt.data + p.l4_offset;
  uint8_t* hdr = l4 + thl;
  const uint16_t old_l4 = p.l4_len();
  net::proxy_v2_write(hdr, n, c.client(), c.cport, c.vip(), c.vport, net::kProtoTcp);
  // The header sits at an even offset of the segment, so its words add to the sum as they are.
  static constexpr uint8_t kZeros[net::kProxyV2MaxWriteLen] = {};
  tcp.replace_bytes(kZeros, hdr, n);
  tcp.replace16(old_l4, uint16_t(old_l4 + n));  // pseudo-header length
  net::csum_apply_at(l4 + net::TcpView::kCheck, tcp);
  if (p.family == net::Family::kV4) {
    const uint16_t old_len = net::load_be16(ip + net::Ipv4View::kTotLen);
    net::CsumDelta ipd;
    ipd.replace16(old_len, uint16_t(old_len + n));
    net::store_be16(ip + net::Ipv4View::kTotLen, uint16_t(old_len + n));
    net::csum_apply_at(ip + net::Ipv4View::kCheck, ipd);
  } else {
    const uint16_t old_len = net::load_be16(ip + net::Ipv6View::kPayloadLen);
    net::store_be16(ip + net::Ipv6View::kPayloadLen, uint16_t(old_len + n));
  }
  p.l3_len = uint16_t(p.l3_len + n);
  return true;
}

void proxy_v2_out(uint8_t* frame, const net::ParsedPacket& p, const Conn& c) {
  uint8_t* l4 = frame + p.l4_offset;
  const uint32_t n = header_len(c);
  net::CsumDelta tcp;
  if (p.tcp_flags & net::kTcpAck) {
    const uint32_t ack = net::load_be32(l4 + net::TcpView::kAck);
    const uint32_t mapped = map_ack(ack, c, n);
    if (mapped != ack) set_be32(l4 + net::TcpView::kAck, mapped, tcp);
  }
  // Options: MSS on the SYN-ACK, SACK blocks on any segment. They may sit at odd offsets, so
  // the sum is patched over the whole option area (even start, a multiple of 4 long).
  const uint32_t thl = uint32_t(l4[net::TcpView::kDataOff] >> 4) * 4;
  if (thl > 20) {
    uint8_t before[40];
    std::memcpy(before, l4 + 20, thl - 20);
    bool changed = false;
    for (uint32_t i = 20; i < thl;) {
      const uint8_t kind = l4[i];
      if (kind == 0) break;
      if (kind == 1) {
        ++i;
        continue;
      }
      if (i + 1 >= thl) break;
      const uint32_t len = l4[i + 1];
      if (len < 2 || i + len > thl) break;
      if (kind == 2 && len == 4 && (p.tcp_flags & net::kTcpSyn)) {
        const uint16_t mss = net::load_be16(l4 + i + 2);
        if (mss > n) {
          net::store_be16(l4 + i + 2, uint16_t(mss - n));
          changed = true;
        }
      } else if (kind == 5 && len >= 10 && (len - 2) % 8 == 0) {
        for (uint32_t e = i + 2; e + 4 <= i + len; e += 4) {
          const uint32_t edge = net::load_be32(l4 + e);
          const uint32_t mapped = map_ack(edge, c, n);
          if (mapped != edge) {
            net::store_be32(l4 + e, mapped);
            changed = true;
          }
        }
      }
      i += len;
    }
    if (changed) tcp.replace_bytes(before, l4 + 20, thl - 20);
  }
  if (!tcp.empty()) net::csum_apply_at(l4 + net::TcpView::kCheck, tcp);
}

}  // namespace lvs::core
