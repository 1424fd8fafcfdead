#!/usr/bin/env bash
# Every scheduler through lvsd on real connections (VS/NAT, 3 nginx real servers with weights
# rs1:3 rs2:2 rs3:1, 30 sequential curl requests from one client, each a new connection that
# closes before the next: so every server's active count is 0 and its inactive count is the
# connections it got). What IPVS does with that:
#   rr 10/10/10, wrr 15/10/5; lc 10/10/10 and wlc 15/10/5 (least inactive, per weight);
#   sed, fo: always the heaviest (rs1); nq: always the first idle server in list order;
#   ovf: the heaviest under its cap (rs1, its active count never reaches its weight);
#   dh, lblc, lblcr: one destination (the VIP) -> one server; sh, mh: one client -> one server;
#   sh-port, mh-port: the source port spreads the client over more than one server;
#   twos: random by weight -> more than one server.
# Topology: see lib.sh.
source "$(dirname "$0")/lib.sh"

e2e_init schedulers
e2e_require curl nginx
lb_require
lb_is_lvsd || skip "the schedulers are lvsd's (the nftables stand-in has none)"

topo_create
topo_mode nat
rs_start_nginx 80
topo_warmup
weights=(3 2 1)

# run ALGO [OPTION]: a fresh lvsd with that scheduler; 30 requests into $E2E_TMP/ALGO.out.
run() {
  local algo=$1 opt=${2:-} i
  lb_reset
  svc_add TCP "$VIP" 80 "$algo" NAT
  [ -z "$opt" ] || svc_opt "$opt"
  for i in "${!RS_IPS[@]}"; do dest_add "${RS_IPS[$i]}" 80 "${weights[$i]}"; done
  lb_start
  OUT=$E2E_TMP/$algo${opt:+-$opt}.out
  http_seq 30 "http://$VIP/" "$OUT"
  lb_stop
}
# servers_used FILE: how many real servers answered.
servers_used() {
  local rs n=0
  for rs in "${RS_NAMES[@]}"; do [ "$(count "$rs" "$1")" = 0 ] || n=$((n + 1)); done
  echo "$n"
}
one_server() {  # WHAT FILE
  e2e_log "$1: $(show_spread "$2")"
  assert_eq "$1: failed requests" "$(count ERR "$2")" 0
  assert_eq "$1: servers used" "$(servers_used "$2")" 1
}
spread() {  # WHAT FILE
  e2e_log "$1: $(show_spread "$2")"
  assert_eq "$1: failed requests" "$(count ERR "$2")" 0
  assert_gt "$1: servers used" "$(servers_used "$2")" 1
}

run rr;   expect_spread "rr" "$OUT" 10 10 10
run wrr;  expect_spread "wrr" "$OUT" 15 10 5
run lc;   expect_spread "lc" "$OUT" 10 10 10
run wlc;  expect_spread "wlc" "$OUT" 15 10 5
run sed;  expect_spread "sed" "$OUT" 30 0 0
run fo;   expect_spread "fo" "$OUT" 30 0 0
run ovf;  expect_spread "ovf" "$OUT" 30 0 0
# nq: every server is idle; the first in IPVS list order is the last one configured (rs3).
run nq;   expect_spread "nq" "$OUT" 0 0 30
run dh;   one_server "dh" "$OUT"
run lblc; one_server "lblc" "$OUT"
run lblcr; one_server "lblcr" "$OUT"
run sh;   one_server "sh" "$OUT"
run mh;   one_server "mh" "$OUT"
run sh sh-port; spread "sh sh-port" "$OUT"
run mh mh-port; spread "mh mh-port" "$OUT"
run twos; spread "twos" "$OUT"
