#!/usr/bin/env bash
# VS/NAT over HTTP with lvsd's AF_PACKET backend (io af_packet: TPACKET_V3 sockets, a socket
# filter admitting service traffic and NAT replies, a tc program keeping the kernel from also
# answering them): 300 sequential requests spread 100 / 100 / 100 by rr, a short wrk run
# without errors, and stats that agree. (The nftables stand-in has no I/O backend; there
# this is the plain NAT check.)
# Topology: see lib.sh.
source "$(dirname "$0")/lib.sh"

e2e_init af_packet
e2e_require curl wrk nginx
LB_IO=af_packet
lb_require

topo_create
topo_mode nat
rs_start_nginx 80
topo_warmup

svc_add TCP "$VIP" 80 rr NAT
for ip in "${RS_IPS[@]}"; do dest_add "$ip" 80; done
lb_start

http_seq 300 "http://$VIP:80/" "$E2E_TMP/rr.out"
expect_spread "rr (af_packet)" "$E2E_TMP/rr.out" 100 100 100

if lb_is_lvsd; then
  stats_refresh
  key="TCP $VIP:80"
  assert_eq "$key conns" "$(stat_svc "$key" .stats.conns)" 300
  assert_gt "$key inpkts" "$(stat_svc "$key" .stats.inpkts)" 900
  assert_gt "$key outpkts" "$(stat_svc "$key" .stats.outpkts)" 900
  for i in 0 1 2; do
    assert_eq "$key ${RS_IPS[$i]} conns" "$(stat_dest "$key" "${RS_IPS[$i]}" .stats.conns)" 100
  done
fi

reqs=$(run_wrk "http://$VIP:80/" 3 16 "$E2E_TMP/wrk.log")
e2e_log "wrk: $reqs requests in 3 s, no errors"

if lb_is_lvsd; then
  stats_refresh
  assert_eq "$key conns after wrk (300 + 16 + 1 wrk probe)" "$(stat_svc "$key" .stats.conns)" 317
  assert_ge "$key outpkts after wrk" "$(stat_svc "$key" .stats.outpkts)" "$reqs"
  lb_stop || fail "lvsd did not exit cleanly on SIGTERM"
fi
