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
// A condition lvsd cannot decide (ip saddr, limit, fib, ...) lets the packet both match and not;
// a statement it cannot follow (dnat, queue, numgen marks, iptables-nft xt targets, ...) leaves
// its fate unknown. An endpoint whose final mark then depends on it is left out and named in a
// warning. A mark-setting rule is compiled into endpoints only when its
// conditions before the `mark set` pin single destination addresses (ip daddr / ip6 daddr);
// otherwise it still counts for the endpoints of other rules, and it is named in a warning.
//
// Entries hold only transports the classifier balances (TCP, UDP, SCTP). Every port of a VIP is
// one port-0 entry (plus exceptions); listed ports are one entry each, whichever is shorter.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/addr.h"

namespace lvs::io {

// Lookup, as the classifier and the engine should do it: for a packet to <addr, proto> arriving
// on interface I, use the entries of <addr, proto, iif I> if there are any, else those of
// <addr, proto, iif "">; among them, the entry of the packet's port, else the port-0 entry; none:
// no mark. Mark 0 only appears as such an exception: "this port (or this interface) gets no
// mark", e.g. SSH accepted before `ip daddr VIP meta mark set 1` marks every other port; the
// classifier must leave those packets to the kernel.
struct MarkEntry {
  net::IpAddr addr;
  uint8_t proto = 0;  // IPPROTO_TCP, IPPROTO_UDP or IPPROTO_SCTP
  uint16_t port = 0;  // 0: every port without an entry of its own
  uint32_t mark = 0;  // 0: an exception, not marked
  std::string iif;    // empty: any interface without entries of its own (iif / iifname rules)

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
