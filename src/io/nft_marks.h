// Firewall marks set by the operator's nftables rules, as lvsd's data path needs them. IPVS
// fwmark services are fed by `meta mark set N` rules in prerouting (iptables' mangle table), but
// XDP hands the packet to lvsd before netfilter runs, so lvsd reads the ruleset of its namespace
// and works out which <proto, VIP, port> endpoints get which mark.
//
// What is read: base chains hooked at prerouting in tables of family ip, ip6 and inet (any type,
// any priority, in priority order), and the chains they jump or go to. Every rule is evaluated
// the way the kernel would for the first packet of a connection (what IPVS schedules on; later
// packets follow the connection): ct state is new, ct mark is 0, a later `meta mark set`
// overwrites an earlier one, accept ends a base chain (the next base chain still runs), return
// leaves a chain, drop and reject end everything. Understood expressions:
//   ip daddr / ip6 daddr (address, prefix, range, set, named set), meta l4proto, ip protocol,
//   ip6 nexthdr, tcp/udp/sctp/th dport (value, range, set), concatenations of those, iif and
//   iifname (names, no wildcards), meta nfproto, meta mark and ct mark (with & | ^), ct state,
//   meta mark set / ct mark set (constant, ct mark, meta mark, & | ^, or a map on packet
//   fields), verdict maps, accept/drop/reject/return/continue/jump/goto, counter, log and other
//   statements that cannot change the mark or the verdict.
// Anything else makes a rule "maybe": an endpoint whose final mark depends on such a rule is left
// out and named in a warning. A mark-setting rule is compiled into endpoints only when its
// conditions before the `mark set` pin single destination addresses (ip daddr / ip6 daddr);
// otherwise it still counts for the endpoints of other rules, and it is named in a warning.
//
// Entries hold only transports the classifier balances (TCP, UDP, SCTP).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/addr.h"

namespace lvs::io {

struct MarkEntry {
  net::IpAddr addr;
  uint8_t proto = 0;  // IPPROTO_TCP, IPPROTO_UDP or IPPROTO_SCTP
  // 0: every port of <addr, proto> that has no entry of its own (the classifier's port-0 entry).
  uint16_t port = 0;
  uint32_t mark = 0;
  // Empty: packets arriving on any interface that has no entries of its own for <addr, proto>.
  // A name: packets arriving on that interface (iif / iifname rules). When an interface has
  // entries of its own for <addr, proto>, they are the whole answer for it; mark 0 appears only
  // there, meaning "not marked on this interface".
  std::string iif;

  friend bool operator==(const MarkEntry&, const MarkEntry&) = default;
};

struct MarkRules {
  std::vector<MarkEntry> entries;  // sorted by family, address, proto, iif, port; no duplicates
  std::vector<std::string> warnings;
};

// Compiles the output of `nft -j list ruleset`. Pure: never fails; malformed input gives a
// warning and whatever could be read.
MarkRules compile_nft_json(std::string_view json);

// Reads the ruleset of the calling thread's network namespace through libnftables and compiles
// it. nullopt (with *err set) when libnftables cannot list it (e.g. without CAP_NET_ADMIN).
std::optional<MarkRules> read_nft_marks(std::string* err);

}  // namespace lvs::io
