// How many real-server entries of the engine name each server address and port, alive or
// trashed (they still carry connections). Two or more mean that two services can hand that
// server one client's tuple (nat_tuple.cc); one means they cannot, and new connections skip
// the check. A slot per address and port, so the data path reads a count without hashing.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "net/addr.h"

namespace lvs::core {

class TupleUsers {
 public:
  TupleUsers();
  ~TupleUsers();
  TupleUsers(const TupleUsers&) = delete;
  TupleUsers& operator=(const TupleUsers&) = delete;

  // Counts one more entry for addr:port; returns its slot.
  uint32_t acquire(const net::IpAddr& addr, uint16_t port);
  // Counts one entry fewer; the slot is reused once none is left.
  void release(const net::IpAddr& addr, uint16_t port, uint32_t slot);
  uint32_t users(uint32_t slot) const { return users_[slot]; }

 private:
  struct Slots;
  std::unique_ptr<Slots> slots_;
  std::vector<uint32_t> users_;
  std::vector<uint32_t> free_;
};

}  // namespace lvs::core
