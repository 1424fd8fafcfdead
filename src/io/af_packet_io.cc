#include "io/af_packet_io.h"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "net/checksum.h"
#include "net/headers.h"
#include "net/parse.h"

namespace lvs::io {

namespace {
std::string errstr() { return std::strerror(errno); }
}  // namespace

void complete_partial_checksum(uint8_t* frame, size_t len) {
  const net::ParsedPacket p = net::parse_packet(frame, len);
  if (!p.ok() || (!p.is_tcp() && !p.is_udp())) return;
  uint8_t* l4 = frame + p.l4_offset;
  const size_t check_off = p.is_tcp() ? net::TcpView::kCheck : net::UdpView::kCheck;
  const uint8_t* ip = frame + p.l3_offset;
  const bool v4 = p.family == net::Family::kV4;
  const net::IpAddr src = v4 ? net::IpAddr::v4(ip + net::Ipv4View::kSaddr)
                             : net::IpAddr::v6(ip + net::Ipv6View::kSaddr);
  const net::IpAddr dst = v4 ? net::IpAddr::v4(ip + net::Ipv4View::kDaddr)
                             : net::IpAddr::v6(ip + net::Ipv6View::kDaddr);
  net::store_be16(l4 + check_off, 0);
  const uint32_t sum = net::pseudo_header_sum(src, dst, p.l4_proto, p.l4_len());
  uint16_t c = uint16_t(~net::csum_fold(net::csum_partial(l4, p.l4_len(), sum)));
  if (p.is_udp() && c == 0) c = 0xffff;
  net::store_be16(l4 + check_off, c);
}

std::unique_ptr<AfPacketIo> AfPacketIo::create(const std::vector<PacketBinding>& bindings,
                                               const AfPacketOptions& opts, StealProgram& prog,
                                               std::string* err) {
  std::unique_ptr<AfPacketIo> io(new AfPacketIo());
  io->opts_ = opts;
  io->frames_.resize(size_t(opts.frame_count) * kFrameSize);
  for (uint32_t i = 0; i < opts.frame_count; ++i)
    io->free_.push_back(&io->frames_[size_t(i) * kFrameSize]);

  for (size_t bi = 0; bi < bindings.size(); ++bi) {
    const PacketBinding& b = bindings[bi];
    Ring r;
    r.ifindex = b.ifindex;
    auto fail = [&](const std::string& what) {
      *err = what + " on " + b.ifname + ": " + errstr();
      if (r.rx_fd >= 0) ::close(r.rx_fd);
      if (r.tx_fd >= 0) ::close(r.tx_fd);
      if (r.map) munmap(r.map, r.map_size);
      return nullptr;
    };
    // Protocol 0 receives nothing until bind(): the filter is in place before the first frame.
    r.rx_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (r.rx_fd < 0) return fail("cannot open a packet socket");
    const int filter = prog.socket_filter_fd();
    if (setsockopt(r.rx_fd, SOL_SOCKET, SO_ATTACH_BPF, &filter, sizeof(filter)) != 0) {
      return fail("cannot attach the socket filter");
    }
    const int version = TPACKET_V3;
    if (setsockopt(r.rx_fd, SOL_PACKET, PACKET_VERSION, &version, sizeof(version)) != 0) {
      return fail("cannot select TPACKET_V3");
    }
    const int one = 1;
    setsockopt(r.rx_fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
    tpacket_req3 req{};
    req.tp_block_size = opts.block_size;
    req.tp_block_nr = opts.block_count;
    req.tp_frame_size = 2048;
    req.tp_frame_nr = opts.block_size / 2048 * opts.block_count;
    req.tp_retire_blk_tov = 1;  // ms: hand over partly filled blocks quickly
    if (setsockopt(r.rx_fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) != 0) {
      return fail("cannot set up the receive ring");
    }
    r.map_size = size_t(opts.block_size) * opts.block_count;
    void* m =
        mmap(nullptr, r.map_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, r.rx_fd, 0);
    if (m == MAP_FAILED)
      m = mmap(nullptr, r.map_size, PROT_READ | PROT_WRITE, MAP_SHARED, r.rx_fd, 0);
    if (m == MAP_FAILED) return fail("cannot map the receive ring");
    r.map = static_cast<uint8_t*>(m);
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = int(b.ifindex);
    if (bind(r.rx_fd, reinterpret_cast<sockaddr*>(&sll), sizeof(sll)) != 0) {
      return fail("cannot bind the packet socket");
    }
    if (opts.worker_count > 1) {
      const int fanout = int(uint16_t(opts.fanout_base + bi)) | (PACKET_FANOUT_QM << 16);
      if (setsockopt(r.rx_fd, SOL_PACKET, PACKET_FANOUT, &fanout, sizeof(fanout)) != 0) {
        return fail("cannot join the fanout group");
      }
    }
    // A separate socket to send: protocol 0 receives nothing.
    r.tx_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (r.tx_fd < 0) return fail("cannot open a sending packet socket");
    setsockopt(r.tx_fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
    sll.sll_protocol = 0;
    if (bind(r.tx_fd, reinterpret_cast<sockaddr*>(&sll), sizeof(sll)) != 0) {
      return fail("cannot bind the sending packet socket");
    }
    io->rings_.push_back(r);
  }
  return io;
}

AfPacketIo::~AfPacketIo() {
  for (Ring& r : rings_) {
    if (r.map) munmap(r.map, r.map_size);
    if (r.rx_fd >= 0) ::close(r.rx_fd);
    if (r.tx_fd >= 0) ::close(r.tx_fd);
  }
}

std::vector<int> AfPacketIo::poll_fds() const {
  std::vector<int> fds;
  for (const Ring& r : rings_) fds.push_back(r.rx_fd);
  return fds;
}

uint8_t* AfPacketIo::base_of(const uint8_t* data) const {
  const size_t off = size_t(data - frames_.data());
  return const_cast<uint8_t*>(frames_.data()) + off / kFrameSize * kFrameSize;
}

size_t AfPacketIo::rx_burst(core::Packet* pkts, size_t max) {
  size_t n = 0;
  const size_t count = rings_.size();
  for (size_t k = 0; k < count && n < max; ++k) {
    Ring& r = rings_[(rx_next_ + k) % count];
    while (n < max) {
      auto* block =
          reinterpret_cast<tpacket_block_desc*>(r.map + size_t(r.block) * opts_.block_size);
      if (r.pkt_left == 0) {
        if (r.next != nullptr) {  // finished this block: hand it back, move on
          block->hdr.bh1.block_status = TP_STATUS_KERNEL;
          r.block = (r.block + 1) % opts_.block_count;
          r.next = nullptr;
          continue;
        }
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if ((block->hdr.bh1.block_status & TP_STATUS_USER) == 0) break;
        r.pkt_left = block->hdr.bh1.num_pkts;
        r.next = reinterpret_cast<uint8_t*>(block) + block->hdr.bh1.offset_to_first_pkt;
        if (r.pkt_left == 0) continue;
      }
      auto* h = reinterpret_cast<tpacket3_hdr*>(r.next);
      r.next += h->tp_next_offset;
      --r.pkt_left;
      const uint32_t len = h->tp_snaplen;
      if (len > kFrameSize - kHeadroom || free_.empty()) {
        ++counters_.alloc_failed;
        continue;
      }
      core::Packet& p = pkts[n++];
      alloc_frame(p);
      std::memcpy(p.data, reinterpret_cast<uint8_t*>(h) + h->tp_mac, len);
      p.len = len;
      p.tailroom = kFrameSize - kHeadroom - len;
      p.ifindex = r.ifindex;
      if (h->tp_status & TP_STATUS_CSUMNOTREADY) complete_partial_checksum(p.data, p.len);
      ++counters_.rx_frames;
    }
  }
  rx_next_ = count ? (rx_next_ + 1) % count : 0;
  return n;
}

bool AfPacketIo::alloc_frame(core::Packet& pkt) {
  if (free_.empty()) {
    ++counters_.alloc_failed;
    return false;
  }
  uint8_t* f = free_.back();
  free_.pop_back();
  pkt = core::Packet{};
  pkt.data = f + kHeadroom;
  pkt.headroom = kHeadroom;
  pkt.tailroom = kFrameSize - kHeadroom;
  return true;
}

AfPacketIo::Ring* AfPacketIo::ring_for(uint32_t ifindex) {
  for (Ring& r : rings_) {
    if (r.ifindex == ifindex) return &r;
  }
  return nullptr;
}

void AfPacketIo::tx_burst(core::Packet* pkts, size_t n) {
  constexpr size_t kMax = 64;
  for (Ring& r : rings_) {
    mmsghdr msgs[kMax];
    iovec iov[kMax];
    size_t m = 0;
    auto flush = [&] {
      size_t sent = 0;
      while (sent < m) {
        const int rc = sendmmsg(r.tx_fd, msgs + sent, unsigned(m - sent), MSG_DONTWAIT);
        if (rc <= 0) {
          counters_.tx_errors += m - sent;
          break;
        }
        sent += size_t(rc);
      }
      counters_.tx_frames += sent;
      m = 0;
    };
    for (size_t i = 0; i < n; ++i) {
      core::Packet& p = pkts[i];
      if (p.verdict != core::Verdict::kTx || p.out_ifindex != r.ifindex) continue;
      iov[m] = {p.data, p.len};
      msgs[m] = {};
      msgs[m].msg_hdr.msg_iov = &iov[m];
      msgs[m].msg_hdr.msg_iovlen = 1;
      if (++m == kMax) flush();
    }
    flush();
  }
  for (size_t i = 0; i < n; ++i) {
    core::Packet& p = pkts[i];
    if (p.verdict == core::Verdict::kTx && ring_for(p.out_ifindex) == nullptr)
      ++counters_.tx_no_socket;
    free_.push_back(base_of(p.data));
  }
}

}  // namespace lvs::io
