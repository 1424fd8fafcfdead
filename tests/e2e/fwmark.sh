#!/usr/bin/env bash
# fwmark services, with the mark set where IPVS operators set it: an nftables rule in mangle
# PREROUTING on the director. lvsd's data path runs before netfilter, so lvsd reads the ruleset
# (libnftables) and compiles the marking rules it understands into the classifier.
#   mark 1: VIP tcp dport {80, 81}            rr NAT      60 requests to each port -> 20/20/20
#                                                         through one service ("FWM 1")
#   mark 2: VIP tcp dport 8000-8001           rr NAT, persistence_timeout 60
#                                                         requests to both ports -> one server
#   a marking rule lvsd cannot compile (a rate limit) is reported in its log, naming the rule
source "$(dirname "$0")/lib.sh"

e2e_init fwmark
e2e_require curl nginx nft
lb_require
lb_is_lvsd || skip "fwmark services are checked on lvsd only"

topo_create
topo_mode nat
rs_start_nginx 80 81 8000 8001
topo_warmup

cat >"$E2E_TMP/marks.nft" <<NFT
table ip mangle {
  chain prerouting {
    type filter hook prerouting priority mangle; policy accept;
    ip daddr $VIP tcp dport { 80, 81 } meta mark set 1
    ip daddr $VIP tcp dport 8000-8001 meta mark set 2
    ip daddr $VIP tcp dport 9000 limit rate 10/second meta mark set 3
  }
}
NFT
nsx dir nft -f "$E2E_TMP/marks.nft"

svc_add TCP fwmark 1 rr NAT
for ip in "${RS_IPS[@]}"; do dest_add "$ip" 0; done
svc_add TCP fwmark 2 rr NAT
svc_opt "persistence_timeout 60"
for ip in "${RS_IPS[@]}"; do dest_add "$ip" 0; done
svc_add TCP fwmark 3 rr NAT
for ip in "${RS_IPS[@]}"; do dest_add "$ip" 0; done
lb_start

http_seq 60 "http://$VIP:80/" "$E2E_TMP/m80.out"
expect_spread "fwmark 1, port 80" "$E2E_TMP/m80.out" 20 20 20
http_seq 60 "http://$VIP:81/" "$E2E_TMP/m81.out"
expect_spread "fwmark 1, port 81" "$E2E_TMP/m81.out" 20 20 20

http_seq 10 "http://$VIP:8000/" "$E2E_TMP/m8000.out"
http_seq 10 "http://$VIP:8001/" "$E2E_TMP/m8001.out"
cat "$E2E_TMP/m8000.out" "$E2E_TMP/m8001.out" >"$E2E_TMP/m2.out"
e2e_log "fwmark 2 (persistent), ports 8000 and 8001: $(show_spread "$E2E_TMP/m2.out")"
assert_eq "fwmark 2: failed requests" "$(count ERR "$E2E_TMP/m2.out")" 0
assert_eq "fwmark 2: one server for both ports" "$(sort -u "$E2E_TMP/m2.out" | wc -l)" 1

stats_refresh
assert_eq "FWM 1 connections" "$(stat_svc "FWM 1" .stats.conns)" 120
assert_eq "FWM 2 connections" "$(stat_svc "FWM 2" .stats.conns)" 20
grep -q "limit rate" "$E2E_TMP/lvsd.log" ||
  fail "lvsd did not report the marking rule it cannot compile (see lvsd.log)"
e2e_log "lvsd reported: $(grep -m1 "limit rate" "$E2E_TMP/lvsd.log" | cut -c1-160)"
lb_stop || fail "lvsd did not exit cleanly on SIGTERM"
