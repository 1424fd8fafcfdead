#!/usr/bin/env bash
# FULLNAT: the director rewrites both addresses, so real servers need no route back through it.
# Real servers route by default via the router (as for DR) and hold no VIP; replies reach the
# director because they are addressed to its local addresses (198.18.1.50, .51 on d-int).
#   VIP:80 rr FNAT                300 requests -> 100 per real server; nginx sees a local address
#                                 as the client, both local addresses in use
#   VIP:81 rr FNAT proxy_protocol nginx `listen 81 proxy_protocol` sees the real client in
#                                 $proxy_protocol_addr; wrk with keep-alive (the PROXY header
#                                 shifts the client's sequence space for the whole connection)
#   [VIP6]:80 rr FNAT             the same over IPv6 with local address 2001:2:1::50
#   [VIP6]:82 rr FNAT (NAT64)     IPv6 clients, IPv4 real servers reached from the IPv4 local
#                                 addresses
#   UDP VIP:9000, [VIP6]:9000     no listener on the real servers: their port unreachable, about
#                                 local address -> RS, reaches the client as about client -> VIP
#                                 (connected UDP sockets see ECONNREFUSED)
#   UDP [VIP6]:9001 (NAT64)       the same, the IPv4 error becoming ICMPv6 on the way
source "$(dirname "$0")/lib.sh"

e2e_init fullnat
e2e_require curl wrk nginx
lb_require
lb_is_lvsd || skip "FULLNAT has no nftables stand-in"

topo_create --ipv6
topo_mode fnat
LADDRS=(198.18.1.50 198.18.1.51)
LADDR6=2001:2:1::50
for a in "${LADDRS[@]}"; do ip -n "$E2E_PREFIX-dir" addr add "$a/24" dev d-int; done
ip -n "$E2E_PREFIX-dir" -6 addr add "$LADDR6/64" dev d-int nodad

# nginx: port 80 answers "<rs> <remote_addr>", port 81 (PROXY v2) "<rs> <proxy_protocol_addr>".
for rs in "${RS_NAMES[@]}"; do
  d=$E2E_TMP/nginx-$rs
  mkdir -p "$d"
  nginx_conf "$d" 4096 >"$d/nginx.conf" <<CONF
    keepalive_requests 1000000;
    server {
        listen 80;
        listen [::]:80;
        location / { default_type text/plain; return 200 "$rs \$remote_addr\n"; }
    }
    server {
        listen 81 proxy_protocol;
        location / { default_type text/plain; return 200 "$rs \$proxy_protocol_addr\n"; }
    }
CONF
  bg "$rs" "$E2E_TMP/nginx-$rs.log" nginx -p "$d" -e "$d/error.log" -c "$d/nginx.conf"
done
for rs in "${RS_NAMES[@]}"; do
  for p in 80 81; do
    wait_for 5 nsx "$rs" bash -c "exec 3<>/dev/tcp/127.0.0.1/$p" || fail "nginx on $rs: no port $p"
  done
done
topo_warmup

LB_EXTRA="
local_address_group laddr4 {
    ${LADDRS[0]}
    ${LADDRS[1]}
}
local_address_group laddr6 {
    $LADDR6
}
"
svc_add TCP "$VIP" 80 rr FNAT
svc_opt "laddr_group_name laddr4"
for ip in "${RS_IPS[@]}"; do dest_add "$ip" 80; done
svc_add TCP "$VIP" 81 rr FNAT
svc_opt "laddr_group_name laddr4"
svc_opt "proxy_protocol v2"
for ip in "${RS_IPS[@]}"; do dest_add "$ip" 81; done
svc_add TCP "$VIP6" 80 rr FNAT
svc_opt "laddr_group_name laddr6"
for ip in "${RS_IP6S[@]}"; do dest_add "$ip" 80; done
svc_add TCP "$VIP6" 82 rr FNAT
svc_opt "laddr_group_name laddr4"
for ip in "${RS_IPS[@]}"; do dest_add "$ip" 80; done
svc_add UDP "$VIP" 9000 rr FNAT
svc_opt "laddr_group_name laddr4"
for ip in "${RS_IPS[@]}"; do dest_add "$ip" 9000; done
svc_add UDP "$VIP6" 9000 rr FNAT
svc_opt "laddr_group_name laddr6"
for ip in "${RS_IP6S[@]}"; do dest_add "$ip" 9000; done
svc_add UDP "$VIP6" 9001 rr FNAT
svc_opt "laddr_group_name laddr4"
for ip in "${RS_IPS[@]}"; do dest_add "$ip" 9000; done
lb_start

# IPv4, no PROXY header: spread and the source nginx saw.
http_seq 300 "http://$VIP:80/" "$E2E_TMP/p80.out"
cut -d' ' -f1 "$E2E_TMP/p80.out" >"$E2E_TMP/p80.names"
expect_spread "FNAT rr" "$E2E_TMP/p80.names" 100 100 100
for a in "${LADDRS[@]}"; do
  assert_eq "requests from local address $a" "$(grep -c " $a\$" "$E2E_TMP/p80.out" || true)" 150
done

# PROXY v2: nginx sees the real client.
http_seq 90 "http://$VIP:81/" "$E2E_TMP/p81.out"
cut -d' ' -f1 "$E2E_TMP/p81.out" >"$E2E_TMP/p81.names"
expect_spread "FNAT rr proxy_protocol" "$E2E_TMP/p81.names" 30 30 30
assert_eq "proxy_protocol_addr is the client" \
  "$(grep -c " $CLIENT_IP\$" "$E2E_TMP/p81.out" || true)" 90
reqs=$(run_wrk "http://$VIP:81/" 4 16 "$E2E_TMP/wrk81.log")
e2e_log "wrk through PROXY v2 keep-alive connections: $reqs requests in 4 s, no errors"

# IPv6.
http_seq 60 "http://[$VIP6]:80/" "$E2E_TMP/p6.out"
cut -d' ' -f1 "$E2E_TMP/p6.out" >"$E2E_TMP/p6.names"
expect_spread "FNAT IPv6 rr" "$E2E_TMP/p6.names" 20 20 20
assert_eq "IPv6 requests from $LADDR6" "$(grep -c " $LADDR6\$" "$E2E_TMP/p6.out" || true)" 60

# NAT64: IPv6 in front, IPv4 behind.
http_seq 60 "http://[$VIP6]:82/" "$E2E_TMP/p64.out"
cut -d' ' -f1 "$E2E_TMP/p64.out" >"$E2E_TMP/p64.names"
expect_spread "NAT64 rr" "$E2E_TMP/p64.names" 20 20 20
assert_eq "NAT64 requests from the IPv4 local addresses" \
  "$(grep -cE " (${LADDRS[0]}|${LADDRS[1]})\$" "$E2E_TMP/p64.out" || true)" 60
reqs=$(run_wrk "http://[$VIP6]:82/" 3 8 "$E2E_TMP/wrk64.log")
e2e_log "wrk through NAT64: $reqs requests in 3 s, no errors"

# ICMP errors about FULLNAT connections, translated at both ends.
udp_refused 4 "$VIP" 9000 >"$E2E_TMP/r4.out"
assert_eq "IPv4: port unreachable through FULLNAT" "$(count REFUSED "$E2E_TMP/r4.out")" 6
udp_refused 6 "$VIP6" 9000 >"$E2E_TMP/r6.out"
assert_eq "IPv6: port unreachable through FULLNAT" "$(count REFUSED "$E2E_TMP/r6.out")" 6
udp_refused 6 "$VIP6" 9001 >"$E2E_TMP/r64.out"
assert_eq "NAT64: IPv4 port unreachable reaches the IPv6 client" "$(count REFUSED "$E2E_TMP/r64.out")" 6

stats_refresh
assert_eq "FNAT dest fwd" "$(stat_dest "TCP $VIP:80" "${RS_IPS[0]}" .fwd)" FullNat
assert_eq "no_local_port drops" "$(stat_get .drops.no_local_port)" 0
assert_eq "no_service drops" "$(stat_get .drops.no_service)" 0
lb_stop || fail "lvsd did not exit cleanly on SIGTERM"
