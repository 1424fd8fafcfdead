#include "io/af_xdp_io.h"

#include <linux/if_xdp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace lvs::io {

namespace {
#ifndef XDP_MAX_TX_SKB_BUDGET
#define XDP_MAX_TX_SKB_BUDGET 9  // Linux 6.17: frames one sendto sends in copy mode (default 32)
#endif
// Frames kept back from the fill rings for packets handed over by other workers.
constexpr size_t kReserveFrames = 128;
constexpr int kMaxKicks = 64;
}  // namespace

std::unique_ptr<AfXdpIo> AfXdpIo::create(const std::vector<XskBinding>& bindings,
                                         const AfXdpOptions& opts, XdpProgram& prog,
                                         std::string* err) {
  if (bindings.empty()) {
    *err = "no queues to bind";
    return nullptr;
  }
  std::unique_ptr<AfXdpIo> io(new AfXdpIo());
  io->frame_size_ = opts.frame_size;
  io->ring_size_ = opts.ring_size;
  const size_t frames = size_t(opts.frames_per_socket) * bindings.size();
  io->area_size_ = frames * opts.frame_size;
  void* area = mmap(nullptr, io->area_size_, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (area == MAP_FAILED) {
    *err = std::string("cannot map UMEM: ") + std::strerror(errno);
    return nullptr;
  }
  io->area_ = static_cast<uint8_t*>(area);
  xsk_umem_config ucfg{};
  ucfg.fill_size = opts.ring_size;
  ucfg.comp_size = opts.ring_size;
  ucfg.frame_size = opts.frame_size;
  ucfg.frame_headroom = 0;
  if (int rc = xsk_umem__create(&io->umem_, io->area_, io->area_size_, &io->umem_fill_,
                                &io->umem_comp_, &ucfg)) {
    *err = std::string("cannot create UMEM: ") + std::strerror(-rc);
    return nullptr;
  }
  for (size_t i = 0; i < frames; ++i) io->free_.push_back(uint64_t(i) * opts.frame_size);

  xsk_socket_config scfg{};
  scfg.rx_size = opts.ring_size;
  scfg.tx_size = opts.ring_size;
  scfg.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;  // lvsd brings its own program
  scfg.bind_flags = XDP_USE_NEED_WAKEUP | (opts.force_copy ? XDP_COPY : 0);
  for (const XskBinding& b : bindings) {
    auto s = std::make_unique<Sock>();
    s->ifindex = b.ifindex;
    s->queue = b.queue;
    const int rc = xsk_socket__create_shared(&s->xsk, b.ifname.c_str(), b.queue, io->umem_, &s->rx,
                                             &s->tx, &s->fill, &s->comp, &scfg);
    if (rc != 0) {
      *err = "cannot create AF_XDP socket on " + b.ifname + " queue " + std::to_string(b.queue) +
             ": " + std::strerror(-rc);
      return nullptr;
    }
    s->fd = xsk_socket__fd(s->xsk);
    // One sendto per burst instead of one per 32 frames where the kernel allows it; older
    // kernels refuse the option and keep their fixed batch.
    const unsigned budget = opts.ring_size;
    setsockopt(s->fd, SOL_XDP, XDP_MAX_TX_SKB_BUDGET, &budget, sizeof(budget));
    if (!prog.set_socket(b.slot, b.queue, s->fd, err)) return nullptr;
    io->socks_.push_back(std::move(s));
  }
  for (auto& s : io->socks_) io->refill(*s);
  return io;
}

AfXdpIo::~AfXdpIo() {
  for (auto& s : socks_) {
    if (s->xsk) xsk_socket__delete(s->xsk);
  }
  if (umem_) xsk_umem__delete(umem_);
  if (area_) munmap(area_, area_size_);
}

std::vector<int> AfXdpIo::poll_fds() const {
  std::vector<int> fds;
  for (const auto& s : socks_) fds.push_back(s->fd);
  return fds;
}

void AfXdpIo::refill(Sock& s) {
  if (free_.size() <= kReserveFrames) return;
  const uint32_t want = uint32_t(std::min<size_t>(free_.size() - kReserveFrames, ring_size_));
  const uint32_t room = xsk_prod_nb_free(&s.fill, want);
  const uint32_t n = std::min(room, want);
  if (n == 0) return;
  uint32_t idx = 0;
  if (xsk_ring_prod__reserve(&s.fill, n, &idx) != n) return;
  for (uint32_t i = 0; i < n; ++i) {
    *xsk_ring_prod__fill_addr(&s.fill, idx + i) = free_.back();
    free_.pop_back();
  }
  xsk_ring_prod__submit(&s.fill, n);
  if (xsk_ring_prod__needs_wakeup(&s.fill)) {
    recvfrom(s.fd, nullptr, 0, MSG_DONTWAIT, nullptr, nullptr);
  }
}

size_t AfXdpIo::rx_burst(core::Packet* pkts, size_t max) {
  size_t n = 0;
  const size_t count = socks_.size();
  for (size_t k = 0; k < count && n < max; ++k) {
    Sock& s = *socks_[(rx_next_ + k) % count];
    refill(s);
    uint32_t idx = 0;
    const uint32_t got = xsk_ring_cons__peek(&s.rx, uint32_t(max - n), &idx);
    for (uint32_t j = 0; j < got; ++j) {
      const xdp_desc* d = xsk_ring_cons__rx_desc(&s.rx, idx + j);
      const uint64_t addr = xsk_umem__extract_addr(d->addr) + xsk_umem__extract_offset(d->addr);
      const uint64_t off_in_frame = addr & uint64_t(frame_size_ - 1);
      core::Packet& p = pkts[n++];
      p = core::Packet{};
      p.data = area_ + addr;
      p.len = d->len;
      p.headroom = uint32_t(off_in_frame);
      p.tailroom = uint32_t(frame_size_ - off_in_frame - d->len);
      p.ifindex = s.ifindex;
    }
    if (got) xsk_ring_cons__release(&s.rx, got);
    counters_.rx_frames += got;
  }
  rx_next_ = count ? (rx_next_ + 1) % count : 0;
  return n;
}

bool AfXdpIo::alloc_frame(core::Packet& pkt) {
  if (free_.empty()) {
    ++counters_.alloc_failed;
    return false;
  }
  const uint64_t chunk = free_.back();
  free_.pop_back();
  pkt = core::Packet{};
  pkt.data = area_ + chunk + XDP_PACKET_HEADROOM;
  pkt.headroom = XDP_PACKET_HEADROOM;
  pkt.tailroom = frame_size_ - XDP_PACKET_HEADROOM;
  return true;
}

AfXdpIo::Sock* AfXdpIo::tx_sock(uint32_t ifindex) {
  for (auto& s : socks_) {
    if (s->ifindex == ifindex) return s.get();
  }
  return nullptr;
}

void AfXdpIo::tx_burst(core::Packet* pkts, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    core::Packet& p = pkts[i];
    const uint64_t chunk = chunk_of(p.data);
    if (p.verdict != core::Verdict::kTx) {
      free_.push_back(chunk);
      continue;
    }
    Sock* s = tx_sock(p.out_ifindex);
    if (s == nullptr) {
      ++counters_.tx_no_socket;
      free_.push_back(chunk);
      continue;
    }
    uint32_t idx = 0;
    if (xsk_ring_prod__reserve(&s->tx, 1, &idx) != 1) {
      complete(*s);  // make room if the kernel has finished with earlier frames
      if (xsk_ring_prod__reserve(&s->tx, 1, &idx) != 1) {
        ++counters_.tx_ring_full;
        free_.push_back(chunk);
        continue;
      }
    }
    xdp_desc* d = xsk_ring_prod__tx_desc(&s->tx, idx);
    d->addr = uint64_t(p.data - area_);
    d->len = p.len;
    d->options = 0;
    ++s->reserved;
  }
  for (auto& s : socks_) {
    if (s->reserved) {
      xsk_ring_prod__submit(&s->tx, s->reserved);
      s->outstanding += s->reserved;
      counters_.tx_frames += s->reserved;
      s->reserved = 0;
    }
    if (s->outstanding) kick(*s);
    complete(*s);
  }
}

void AfXdpIo::kick(Sock& s) {
  // In copy mode each sendto transmits a bounded batch and answers EAGAIN while more wait (or
  // while the peer is busy); completions are drained in between so the kernel has room. It
  // stops once the kernel has taken every descriptor.
  for (int i = 0; i < kMaxKicks; ++i) {
    if (xsk_prod_nb_free(&s.tx, ring_size_) == ring_size_) return;
    const ssize_t rc = sendto(s.fd, nullptr, 0, MSG_DONTWAIT, nullptr, 0);
    complete(s);
    if (rc >= 0 || errno == EAGAIN || errno == EBUSY) continue;
    if (errno != ENOBUFS && errno != ENETDOWN) ++counters_.tx_errors;
    return;
  }
}

bool AfXdpIo::tx_pending() const {
  for (const auto& s : socks_) {
    if (s->outstanding) return true;
  }
  return false;
}

void AfXdpIo::complete(Sock& s) {
  uint32_t idx = 0;
  const uint32_t done = xsk_ring_cons__peek(&s.comp, ring_size_, &idx);
  for (uint32_t i = 0; i < done; ++i) {
    const uint64_t addr = *xsk_ring_cons__comp_addr(&s.comp, idx + i);
    free_.push_back(xsk_umem__extract_addr(addr) & ~uint64_t(frame_size_ - 1));
  }
  if (done) {
    xsk_ring_cons__release(&s.comp, done);
    s.outstanding -= std::min<uint64_t>(s.outstanding, done);
  }
}

void AfXdpIo::service() {
  for (auto& s : socks_) {
    if (s->outstanding) kick(*s);
    complete(*s);
    refill(*s);
  }
}

IoCounters AfXdpIo::counters() const {
  IoCounters c = counters_;
  for (const auto& s : socks_) {
    xdp_statistics st{};
    socklen_t len = sizeof(st);
    if (getsockopt(s->fd, SOL_XDP, XDP_STATISTICS, &st, &len) == 0) {
      c.rx_dropped += st.rx_dropped;
      c.rx_ring_full += st.rx_ring_full;
      c.fill_empty += st.rx_fill_ring_empty_descs;
    }
  }
  return c;
}

}  // namespace lvs::io
