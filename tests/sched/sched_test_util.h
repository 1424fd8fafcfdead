// A hand-built service for scheduler tests: servers named by one letter, kept in IPVS list order
// (new servers at the head) and announced to the scheduler through its hooks, as the engine does.
// Sequences of picks read as strings: "AABABCABC", with '-' for "no server".
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sched/registry.h"
#include "sched/scheduler.h"

namespace lvs::sched::testing {

enum class Setup {
  // ipvsadm -A, then -a for each server: init_service on an empty list, then add_dest hooks
  // (servers given last to first, each added at the head, so the list is in the order given).
  kAddOneByOne,
  // ipvsadm -E changing the scheduler: init_service on the complete list.
  kBindToExisting,
};

class TestService {
 public:
  TestService(std::string_view sched, std::vector<std::pair<char, int32_t>> servers,
              Setup setup = Setup::kAddOneByOne)
      : sched_(make_scheduler(sched)) {
    EXPECT_NE(sched_, nullptr) << sched;
    if (setup == Setup::kBindToExisting) {
      for (const auto& [name, weight] : servers) list_.push_back(&make(name, weight));
      sched_->init_service(list_);
      return;
    }
    sched_->init_service(list_);
    for (auto it = servers.rbegin(); it != servers.rend(); ++it) add(it->first, it->second);
  }
  ~TestService() { sched_->done_service(); }

  // Adds at the head of the list, as ip_vs_add_dest does.
  Dest& add(char name, int32_t weight) {
    Dest& d = make(name, weight);
    d.list_seq = next_seq_++;  // as the engine: later added = earlier in the list
    list_.insert(list_.begin(), &d);
    sched_->add_dest(list_, d, 0);
    return d;
  }
  void del(char name) {
    for (size_t i = 0; i < list_.size(); ++i) {
      if (list_[i]->port == uint16_t(name)) {
        Dest& d = *list_[i];
        list_.erase(list_.begin() + ptrdiff_t(i));
        d.flags &= ~kDestAvailable;
        sched_->del_dest(list_, d, i);
        return;
      }
    }
    ADD_FAILURE() << "no server " << name;
  }
  void set_weight(char name, int32_t weight) {
    Dest& d = (*this)[name];
    d.weight = weight;
    sched_->upd_dest(list_, d);
  }
  void set_overloaded(char name, bool on) {
    Dest& d = (*this)[name];
    if (on) {
      d.flags |= kDestOverload;
    } else {
      d.flags &= ~kDestOverload;
    }
    sched_->on_conn_counts(d);  // the engine reports every overload change this way
  }
  void set_all_overloaded(bool on) {
    for (Dest* d : list_) set_overloaded(char(d->port), on);
  }
  Dest& operator[](char name) {
    for (Dest* d : list_) {
      if (d->port == uint16_t(name)) return *d;
    }
    ADD_FAILURE() << "no server " << name;
    return storage_.front();
  }

  Dest* schedule() { return sched_->schedule(list_, SchedPacket{}); }
  char pick() {
    Dest* d = schedule();
    return d ? char(d->port) : '-';
  }
  std::string picks(size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s += pick();
    return s;
  }
  // The list as letters, to check the order the test relies on.
  std::string order() const {
    std::string s;
    for (const Dest* d : list_) s += char(d->port);
    return s;
  }
  Scheduler& sched() { return *sched_; }
  DestList list() const { return list_; }

 private:
  uint64_t next_seq_ = 1;
  Dest& make(char name, int32_t weight) {
    Dest& d = storage_.emplace_back();
    d.port = uint16_t(name);
    d.weight = weight;
    d.flags = kDestAvailable;
    return d;
  }

  std::unique_ptr<Scheduler> sched_;
  std::deque<Dest> storage_;  // stable addresses
  std::vector<Dest*> list_;
};

inline std::string repeat(std::string_view s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

}  // namespace lvs::sched::testing
