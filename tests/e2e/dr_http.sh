#!/usr/bin/env bash
# VS/DR over HTTP: the VIP sits on each real server's lo, the director only rewrites the
# destination MAC, and replies go straight to the router, bypassing the director.
#   VIP:80 rr          300 sequential requests -> exactly 100 per real server
#   VIP:81 wrr 3:2:1   300 sequential requests -> 150 / 100 / 50
#   VIP:82 wlc 3:2:1   300 sequential requests -> 150 / 100 / 50
#   wrk 5 s, 16 keep-alive connections on VIP:80 -> no error, no timeout
# With lvsd, the stats show inbound packets growing while outbound ones stay 0 (the director
# never sees a reply), and the real servers' forwarding method is "Route".
# (The nftables stand-in hashes flows, so there only "every server answered" is checked.)
# Topology: see lib.sh.
source "$(dirname "$0")/lib.sh"

e2e_init dr_http
e2e_require curl wrk nginx
lb_require

topo_create
topo_mode dr
rs_start_nginx 80 81 82
topo_warmup

weights=(3 2 1)
svc_add TCP "$VIP" 80 rr DR
for ip in "${RS_IPS[@]}"; do dest_add "$ip" 80; done
svc_add TCP "$VIP" 81 wrr DR
for i in 0 1 2; do dest_add "${RS_IPS[$i]}" 81 "${weights[$i]}"; done
svc_add TCP "$VIP" 82 wlc DR
for i in 0 1 2; do dest_add "${RS_IPS[$i]}" 82 "${weights[$i]}"; done
lb_start

# expect_dr_spread WHAT FILE N1 N2 N3: exact shares with lvsd; the stand-in only has to reach
# every server without errors.
expect_dr_spread() {
  if lb_is_lvsd; then
    expect_spread "$@"
  else
    e2e_log "$1: $(show_spread "$2")"
    assert_eq "$1: failed requests" "$(count ERR "$2")" 0
    local rs
    for rs in "${RS_NAMES[@]}"; do assert_gt "$1: answers from $rs" "$(count "$rs" "$2")" 0; done
  fi
}

http_seq 300 "http://$VIP:80/" "$E2E_TMP/rr.out"
expect_dr_spread "rr" "$E2E_TMP/rr.out" 100 100 100

if lb_is_lvsd; then
  stats_refresh
  key="TCP $VIP:80"
  in1=$(stat_svc "$key" .stats.inpkts)
  assert_eq "$key conns" "$(stat_svc "$key" .stats.conns)" 300
  assert_gt "$key inpkts" "$in1" 900
  assert_eq "$key outpkts (replies bypass the director)" "$(stat_svc "$key" .stats.outpkts)" 0
  assert_eq "$key outbytes" "$(stat_svc "$key" .stats.outbytes)" 0
  for i in 0 1 2; do
    assert_eq "$key ${RS_IPS[$i]} conns" "$(stat_dest "$key" "${RS_IPS[$i]}" .stats.conns)" 100
    assert_eq "$key ${RS_IPS[$i]} fwd" "$(stat_dest "$key" "${RS_IPS[$i]}" .fwd)" Route
  done
fi

http_seq 300 "http://$VIP:81/" "$E2E_TMP/wrr.out"
expect_dr_spread "wrr 3:2:1" "$E2E_TMP/wrr.out" 150 100 50
http_seq 300 "http://$VIP:82/" "$E2E_TMP/wlc.out"
expect_dr_spread "wlc 3:2:1" "$E2E_TMP/wlc.out" 150 100 50

reqs=$(run_wrk "http://$VIP:80/" 5 16 "$E2E_TMP/wrk.log")
e2e_log "wrk: $reqs requests in 5 s, no errors"

if lb_is_lvsd; then
  stats_refresh
  key="TCP $VIP:80"
  assert_eq "$key conns after wrk (300 + 16 + 1 wrk probe)" "$(stat_svc "$key" .stats.conns)" 317
  assert_gt "$key inpkts grew with wrk" "$(stat_svc "$key" .stats.inpkts)" "$((in1 + reqs))"
  assert_eq "$key outpkts after wrk" "$(stat_svc "$key" .stats.outpkts)" 0
  assert_eq "total outpkts" "$(stat_get .total.outpkts)" 0
  assert_eq "total conns" "$(stat_get .total.conns)" 917
  lb_stop || fail "lvsd did not exit cleanly on SIGTERM"
fi
