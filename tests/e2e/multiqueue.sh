#!/usr/bin/env bash
# Multi-queue VS/NAT: the director's links (both ends) have 2 rx/tx queues, so lvsd runs two
# workers. A NAT reply is hashed to a queue by its own addresses, so it often arrives on the
# other worker's queue than its request and must be handed over. 200 sequential requests and
# a 4 s wrk run must all succeed, every real server must answer, and (lvsd) the stats must
# show 2 workers and steered > 0.
# Topology: see lib.sh (topo_create --queues 2).
source "$(dirname "$0")/lib.sh"

e2e_init multiqueue
e2e_require curl wrk nginx
lb_require

topo_create --queues 2
topo_mode nat
rs_start_nginx 80
topo_warmup

svc_add TCP "$VIP" 80 rr NAT
for ip in "${RS_IPS[@]}"; do dest_add "$ip" 80; done
lb_start

if lb_is_lvsd; then
  stats_refresh
  assert_eq "workers" "$(stat_get .workers)" 2
fi

http_seq 200 "http://$VIP:80/" "$E2E_TMP/seq.out"
e2e_log "200 requests: $(show_spread "$E2E_TMP/seq.out")"
assert_eq "failed requests" "$(count ERR "$E2E_TMP/seq.out")" 0
for rs in "${RS_NAMES[@]}"; do assert_gt "answers from $rs" "$(count "$rs" "$E2E_TMP/seq.out")" 0; done

reqs=$(run_wrk "http://$VIP:80/" 4 16 "$E2E_TMP/wrk.log")
e2e_log "wrk: $reqs requests in 4 s, no errors"

if lb_is_lvsd; then
  stats_refresh
  key="TCP $VIP:80"
  assert_eq "$key conns (200 + 16 + 1 wrk probe)" "$(stat_svc "$key" .stats.conns)" 217
  assert_eq "$key conns = sum over real servers" "$(stat_svc "$key" '[.dests[].stats.conns] | add')" 217
  assert_gt "steered (replies handed to the owning worker)" "$(stat_get .steered)" 0
  assert_ge "$key outpkts" "$(stat_svc "$key" .stats.outpkts)" "$reqs"
  lb_stop || fail "lvsd did not exit cleanly on SIGTERM"
fi
