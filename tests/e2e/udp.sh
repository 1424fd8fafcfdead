#!/usr/bin/env bash
# UDP through VS/NAT: every real server answers each datagram with its name (socat). The
# client opens 30 sockets and keeps them all open, so their source ports are distinct; each
# one is a new connection for the director, and rr spreads them 10 / 10 / 10. A datagram lost
# while a next hop is being resolved is sent again from the same socket (same connection).
# With lvsd, the stats count 30 connections, all inactive (UDP has no established state).
# Topology: see lib.sh.
source "$(dirname "$0")/lib.sh"

e2e_init udp
e2e_require socat dd timeout
lb_require

topo_create
topo_mode nat
rs_start_udp_name 9001
topo_warmup

svc_add UDP "$VIP" 9001 rr NAT
for ip in "${RS_IPS[@]}"; do dest_add "$ip" 9001; done
lb_start

n=30
# Prints one line per socket: the name that answered (or ERR), then "retries N" on stderr.
nsx client bash -c '
  retries=0
  fds=()
  for ((i = 0; i < $1; i++)); do
    exec {fd}<>"/dev/udp/$2/9001"
    fds+=("$fd")
    reply=ERR
    for try in 1 2 3; do
      printf "ping %d\n" "$i" >&"$fd"
      # One read(2) takes the whole datagram (bash read would take it a byte at a time).
      line=$(timeout 1 dd bs=512 count=1 status=none <&"$fd" || true)
      if [ -n "$line" ]; then reply=$line; break; fi
      retries=$((retries + 1))
    done
    echo "$reply"
  done
  echo "retries $retries" >&2
  for fd in "${fds[@]}"; do exec {fd}>&-; done' _ "$n" "$VIP" >"$E2E_TMP/udp.out" 2>"$E2E_TMP/udp-client.log"
e2e_log "client: $(cat "$E2E_TMP/udp-client.log")"
expect_spread "udp rr over $n sockets" "$E2E_TMP/udp.out" 10 10 10

if lb_is_lvsd; then
  stats_refresh
  key="UDP $VIP:9001"
  assert_eq "$key conns" "$(stat_svc "$key" .stats.conns)" "$n"
  assert_ge "$key inpkts" "$(stat_svc "$key" .stats.inpkts)" "$n"
  assert_ge "$key outpkts" "$(stat_svc "$key" .stats.outpkts)" "$n"
  for i in 0 1 2; do
    assert_eq "$key ${RS_IPS[$i]} conns" "$(stat_dest "$key" "${RS_IPS[$i]}" .stats.conns)" 10
    assert_eq "$key ${RS_IPS[$i]} inactive_conns" \
      "$(stat_dest "$key" "${RS_IPS[$i]}" .inactive_conns)" 10
    assert_eq "$key ${RS_IPS[$i]} active_conns" "$(stat_dest "$key" "${RS_IPS[$i]}" .active_conns)" 0
  done
  assert_eq "total conns" "$(stat_get .total.conns)" "$n"
fi
