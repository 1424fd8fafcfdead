#!/usr/bin/env bash
# VS/NAT over HTTP: three nginx real servers that answer with their own name.
#   VIP:80 rr          300 sequential requests -> exactly 100 per real server
#   VIP:81 wrr 3:2:1   300 sequential requests -> 150 / 100 / 50
#   VIP:82 wlc 3:2:1   300 sequential requests -> 150 / 100 / 50 (each finished connection
#                      counts as inactive, so wlc picks by inactive/weight, as IPVS does)
#   wrk 5 s, 16 keep-alive connections on VIP:80 -> no error, no timeout
# With lvsd, the stats file must agree: connections per service and real server, packets and
# bytes both ways (NAT sees replies), and a clean exit on SIGTERM.
# Topology: see lib.sh.
source "$(dirname "$0")/lib.sh"

e2e_init nat_http
e2e_require curl wrk nginx
lb_require

topo_create
topo_mode nat
rs_start_nginx 80 81 82
topo_warmup

weights=(3 2 1)
svc_add TCP "$VIP" 80 rr NAT
for ip in "${RS_IPS[@]}"; do dest_add "$ip" 80; done
svc_add TCP "$VIP" 81 wrr NAT
for i in 0 1 2; do dest_add "${RS_IPS[$i]}" 81 "${weights[$i]}"; done
svc_add TCP "$VIP" 82 wlc NAT
for i in 0 1 2; do dest_add "${RS_IPS[$i]}" 82 "${weights[$i]}"; done
lb_start

http_seq 300 "http://$VIP:80/" "$E2E_TMP/rr.out"
expect_spread "rr" "$E2E_TMP/rr.out" 100 100 100
http_seq 300 "http://$VIP:81/" "$E2E_TMP/wrr.out"
expect_spread "wrr 3:2:1" "$E2E_TMP/wrr.out" 150 100 50
http_seq 300 "http://$VIP:82/" "$E2E_TMP/wlc.out"
expect_spread "wlc 3:2:1" "$E2E_TMP/wlc.out" 150 100 50

if lb_is_lvsd; then
  stats_refresh
  declare -A out_of=([80]=rr [81]=wrr [82]=wlc)
  for port in 80 81 82; do
    key="TCP $VIP:$port"
    assert_eq "$key conns" "$(stat_svc "$key" .stats.conns)" 300
    assert_gt "$key inpkts" "$(stat_svc "$key" .stats.inpkts)" 900
    assert_gt "$key outpkts" "$(stat_svc "$key" .stats.outpkts)" 900
    # 300 requests of ~80 bytes and answers of ~170 bytes, plus the handshakes' headers.
    assert_gt "$key inbytes" "$(stat_svc "$key" .stats.inbytes)" $((300 * 80))
    assert_gt "$key outbytes" "$(stat_svc "$key" .stats.outbytes)" $((300 * 170))
    for i in 0 1 2; do
      want=$(count "${RS_NAMES[$i]}" "$E2E_TMP/${out_of[$port]}.out")
      assert_eq "$key ${RS_IPS[$i]} conns" "$(stat_dest "$key" "${RS_IPS[$i]}" .stats.conns)" "$want"
      assert_eq "$key ${RS_IPS[$i]} active" "$(stat_dest "$key" "${RS_IPS[$i]}" .active_conns)" 0
      assert_eq "$key ${RS_IPS[$i]} fwd" "$(stat_dest "$key" "${RS_IPS[$i]}" .fwd)" Masq
    done
  done
  assert_eq "total conns" "$(stat_get .total.conns)" 900
  assert_eq "no_service drops" "$(stat_get .drops.no_service)" 0
fi

reqs=$(run_wrk "http://$VIP:80/" 5 16 "$E2E_TMP/wrk.log")
e2e_log "wrk: $reqs requests in 5 s, no errors"

if lb_is_lvsd; then
  stats_refresh
  key="TCP $VIP:80"
  assert_eq "$key conns after wrk (300 + 16 + 1 wrk probe)" "$(stat_svc "$key" .stats.conns)" 317
  sum=$(stat_svc "$key" '[.dests[].stats.conns] | add')
  assert_eq "$key conns = sum over real servers" "$sum" 317
  assert_ge "$key inpkts after wrk" "$(stat_svc "$key" .stats.inpkts)" "$reqs"
  assert_ge "$key outpkts after wrk" "$(stat_svc "$key" .stats.outpkts)" "$reqs"
  assert_eq "bad_ip_checksum drops" "$(stat_get .drops.bad_ip_checksum)" 0
  lb_stop || fail "lvsd did not exit cleanly on SIGTERM"
  e2e_log "lvsd exited cleanly on SIGTERM"
fi
