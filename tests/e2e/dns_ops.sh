#!/usr/bin/env bash
# DNS through VS/NAT with ONE-PACKET scheduling: dnsmasq on every real server answers
# "who.test TXT" with its own name.
#   UDP VIP:53 rr ops   30 queries from ONE client socket (source port 40053) -> 10/10/10:
#                       every datagram is scheduled on its own, and each answer still comes
#                       back from the VIP
#   UDP VIP:54 rr       the same 30 queries without ops -> all 30 to one server (the
#                       connection pins the client's socket, as IPVS does)
#   TCP VIP:53 rr       30 queries over TCP -> 10/10/10
source "$(dirname "$0")/lib.sh"

e2e_init dns_ops
e2e_require dnsmasq dig
lb_require
lb_is_lvsd || skip "ONE-PACKET has no nftables stand-in"

topo_create
topo_mode nat
for i in "${!RS_NAMES[@]}"; do
  rs=${RS_NAMES[$i]}
  for port in 53 54; do
    bg "$rs" "$E2E_TMP/dnsmasq-$rs-$port.log" dnsmasq --keep-in-foreground --no-resolv --no-hosts \
      --no-dhcp-interface= --bind-interfaces --listen-address="${RS_IPS[$i]}" --port="$port" \
      --txt-record="who.test,$rs" --pid-file= --user=root --log-facility=-
  done
done
for i in "${!RS_NAMES[@]}"; do
  for port in 53 54; do
    wait_for 5 nsx "${RS_NAMES[$i]}" bash -c "ss -Hlun | grep -q '${RS_IPS[$i]}:$port '" ||
      fail "dnsmasq on ${RS_NAMES[$i]} did not bind port $port"
  done
done
topo_warmup

svc_add UDP "$VIP" 53 rr NAT
svc_opt "ops"
for ip in "${RS_IPS[@]}"; do dest_add "$ip" 53; done
svc_add UDP "$VIP" 54 rr NAT
for ip in "${RS_IPS[@]}"; do dest_add "$ip" 54; done
svc_add TCP "$VIP" 53 rr NAT
for ip in "${RS_IPS[@]}"; do dest_add "$ip" 53; done
lb_start

# ask PORT [dig options]: 30 queries, one name per line (ERR when there is no answer).
ask() {
  local port=$1
  shift
  nsx client bash -c '
    port=$1; shift
    for ((i = 0; i < 30; i++)); do
      a=$(dig +short +tries=1 +time=2 -p "$port" "$@" who.test TXT) || a=
      [ -n "$a" ] && echo "${a//\"/}" || echo ERR
    done' _ "$port" "$@"
}

ask 53 -b "$CLIENT_IP#40053" "@$VIP" >"$E2E_TMP/ops.out"
expect_spread "UDP ops, one client socket" "$E2E_TMP/ops.out" 10 10 10
ask 54 -b "$CLIENT_IP#40054" "@$VIP" >"$E2E_TMP/noops.out"
e2e_log "UDP without ops, one client socket: $(show_spread "$E2E_TMP/noops.out")"
assert_eq "UDP without ops: failed queries" "$(count ERR "$E2E_TMP/noops.out")" 0
assert_eq "UDP without ops: one server answers all" "$(sort -u "$E2E_TMP/noops.out" | wc -l)" 1
ask 53 +tcp "@$VIP" >"$E2E_TMP/tcp.out"
expect_spread "TCP DNS" "$E2E_TMP/tcp.out" 10 10 10

stats_refresh
assert_eq "ops service: connections scheduled" "$(stat_svc "UDP $VIP:53" .stats.conns)" 30
assert_eq "ops service: answers translated" "$(stat_svc "UDP $VIP:53" .stats.outpkts)" 30
lb_stop || fail "lvsd did not exit cleanly on SIGTERM"
