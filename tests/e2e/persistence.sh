#!/usr/bin/env bash
# Persistence (VS/NAT, rr over 3 nginx real servers):
#   1. without persistence, 30 requests from one client spread 10 / 10 / 10;
#   2. persistence_timeout 60: the same 30 requests all land on one server, whose
#      persist_conns is 1 (one template);
#   3. a port-0 (all ports) persistent service: the client's requests to port 80 and to port
#      8080 reach the same server, which answers on the port the client used;
#   4. persistence_granularity 255.255.255.0: a second client address in the same /24 is pinned
#      to the first one's server; without it (rr) it goes to the next server.
# Topology: see lib.sh.
source "$(dirname "$0")/lib.sh"

e2e_init persistence
e2e_require curl nginx
lb_require
lb_is_lvsd || skip "persistence needs lvsd (the nftables stand-in has none)"

topo_create
topo_mode nat
rs_start_nginx 80 8080
# A second client address in the same /24.
CLIENT_IP_B=198.18.0.2
ip -n "$E2E_PREFIX-client" addr add "$CLIENT_IP_B/24" dev c-eth0
topo_warmup

# only_one_server WHAT FILE N: all N answers from one real server; prints its name.
only_one_server() {
  local what=$1 file=$2 n=$3 rs winner=
  e2e_log "$what: $(show_spread "$file")" >&2
  assert_eq "$what: failed requests" "$(count ERR "$file")" 0
  for rs in "${RS_NAMES[@]}"; do
    if [ "$(count "$rs" "$file")" = "$n" ]; then winner=$rs; fi
  done
  [ -n "$winner" ] || fail "$what: the answers are spread: $(show_spread "$file")"
  echo "$winner"
}

# 1. No persistence: rr spreads.
svc_add TCP "$VIP" 80 rr NAT
for ip in "${RS_IPS[@]}"; do dest_add "$ip" 80; done
lb_start
http_seq 30 "http://$VIP/" "$E2E_TMP/plain.out"
expect_spread "no persistence" "$E2E_TMP/plain.out" 10 10 10
lb_stop

# 2. Persistent service.
lb_reset
svc_add TCP "$VIP" 80 rr NAT
svc_opt "persistence_timeout 60"
for ip in "${RS_IPS[@]}"; do dest_add "$ip" 80; done
lb_start
http_seq 30 "http://$VIP/" "$E2E_TMP/persist.out"
pinned=$(only_one_server "persistent" "$E2E_TMP/persist.out" 30)
stats_refresh
key="TCP $VIP:80"
assert_eq "$key persistence_timeout" "$(stat_svc "$key" .persistence_timeout)" 60
for i in "${!RS_NAMES[@]}"; do
  want=0
  [ "${RS_NAMES[$i]}" = "$pinned" ] && want=1
  assert_eq "$key: templates on ${RS_NAMES[$i]}" \
    "$(stat_svc "$key" ".dests[] | select(.addr == \"${RS_IPS[$i]}\") | .persist_conns")" "$want"
done
lb_stop

# 3. Port 0: every port of the VIP, one server per client.
lb_reset
svc_add TCP "$VIP" 0 rr NAT
svc_opt "persistence_timeout 60"
for ip in "${RS_IPS[@]}"; do dest_add "$ip" 0; done
lb_start
http_seq 10 "http://$VIP:80/" "$E2E_TMP/p0-80.out"
http_seq 10 "http://$VIP:8080/" "$E2E_TMP/p0-8080.out"
cat "$E2E_TMP/p0-80.out" "$E2E_TMP/p0-8080.out" >"$E2E_TMP/p0.out"
only_one_server "port 0, ports 80 and 8080" "$E2E_TMP/p0.out" 20 >/dev/null
lb_stop

# 4. Granularity: a /24 shares one server.
http_from() {  # ADDR N OUT
  nsx client bash -c 'for ((i = 0; i < $2; i++)); do
      curl -s --max-time 5 --interface "$1" "http://'"$VIP"'/" || echo ERR; done' _ "$1" "$2" >"$3"
}
for gran in none 255.255.255.0; do
  lb_reset
  svc_add TCP "$VIP" 80 rr NAT
  svc_opt "persistence_timeout 60"
  [ "$gran" = none ] || svc_opt "persistence_granularity $gran"
  for ip in "${RS_IPS[@]}"; do dest_add "$ip" 80; done
  lb_start
  http_from "$CLIENT_IP" 5 "$E2E_TMP/a-$gran.out"
  http_from "$CLIENT_IP_B" 5 "$E2E_TMP/b-$gran.out"
  a=$(only_one_server "granularity $gran, client A" "$E2E_TMP/a-$gran.out" 5)
  b=$(only_one_server "granularity $gran, client B" "$E2E_TMP/b-$gran.out" 5)
  if [ "$gran" = none ]; then
    [ "$a" != "$b" ] || fail "without granularity two clients were pinned to one server ($a)"
  else
    assert_eq "granularity /24: client B's server" "$b" "$a"
  fi
  lb_stop
done
