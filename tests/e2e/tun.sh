#!/usr/bin/env bash
# VS/TUN with every tunnel type, IPv4 and IPv6: the director wraps each client packet in an
# outer header to the real server, whose own decapsulator (lvs-rs, a tc BPF program: this kernel
# has no ipip/fou/gre modules) unwraps it; nginx answers from the VIP straight to the client.
# Per type (ipip, gue port 6080, gre): lvs-rs up on every real server, lvsd with
#   VIP:80 rr TUN          150 requests -> 50 per real server, the director sees no reply
#   [VIP6]:80 rr TUN       60 requests over IPv6 -> 20 per real server
# then lvs-rs --down. With ipip, a 200 KB upload crosses the tunnel: full-size segments no longer
# fit, the director answers "fragmentation needed" with the tunnel's MTU, and the client's path
# MTU discovery carries on (the upload would stall otherwise).
source "$(dirname "$0")/lib.sh"

e2e_init tun
e2e_require curl nginx
lb_require
lb_is_lvsd || skip "VS/TUN has no nftables stand-in"
LVS_RS=${LVS_RS:-}
[ -n "$LVS_RS" ] || skip "LVS_RS is not set (path to the lvs-rs binary)"
# lvs-rs keeps its state per interface name: every real server's is eth0, so one directory each.
rs_tool() {  # RS ARGS...
  local rs=$1
  shift
  nsx "$rs" env "LVS_RS_STATE_DIR=$E2E_TMP/rs-state-$rs" "$LVS_RS" "$@"
}

topo_create --ipv6
topo_mode fnat  # default route via the router, no VIP: lvs-rs adds it
rs_start_nginx 80
topo_warmup
head -c 200000 /dev/zero | tr '\0' x >"$E2E_TMP/upload"

run_type() {  # TYPE LVS_METHOD_OPTIONS LVS_RS_OPTIONS...
  local type=$1 opts=$2 rs
  shift 2
  for rs in "${RS_NAMES[@]}"; do
    rs_tool "$rs" --vip "$VIP" --vip "$VIP6" --mode tun --tun-type "$type" "$@" --dev eth0 ||
      fail "lvs-rs up on $rs ($type)"
  done
  lb_reset
  svc_add TCP "$VIP" 80 rr "TUN $opts"
  for ip in "${RS_IPS[@]}"; do dest_add "$ip" 80; done
  svc_add TCP "$VIP6" 80 rr "TUN $opts"
  for ip in "${RS_IP6S[@]}"; do dest_add "$ip" 80; done
  lb_start

  http_seq 150 "http://$VIP:80/" "$E2E_TMP/$type.out"
  expect_spread "TUN $type" "$E2E_TMP/$type.out" 50 50 50
  http_seq 60 "http://[$VIP6]:80/" "$E2E_TMP/$type-6.out"
  expect_spread "TUN $type IPv6" "$E2E_TMP/$type-6.out" 20 20 20
  if [ "$type" = ipip ]; then
    local got
    got=$(nsx client curl -s --max-time 20 --data-binary "@$E2E_TMP/upload" "http://$VIP:80/" || echo ERR)
    case $got in rs1 | rs2 | rs3) ;; *) fail "200 KB upload through ipip: '$got'" ;; esac
    stats_refresh
    assert_gt "packets too big for the tunnel, each answered with frag-needed" "$(stat_get .drops.mtu_exceeded)" 0
    e2e_log "200 KB upload through ipip answered by $got after $(stat_get .drops.mtu_exceeded) frag-needed errors"
  fi
  stats_refresh
  assert_eq "TUN $type: dest fwd" "$(stat_dest "TCP $VIP:80" "${RS_IPS[0]}" .fwd)" Tunnel
  assert_eq "TUN $type: replies seen by the director" "$(stat_svc "TCP $VIP:80" .stats.outpkts)" 0
  assert_gt "TUN $type: packets in" "$(stat_svc "TCP $VIP:80" .stats.inpkts)" 600
  lb_stop || fail "lvsd did not exit cleanly"
  for rs in "${RS_NAMES[@]}"; do rs_tool "$rs" --down --dev eth0 || fail "lvs-rs down on $rs"; done
}

run_type ipip ""
run_type gue "type gue port 6080" --tun-port 6080
run_type gre "type gre"
