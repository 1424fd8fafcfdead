#!/usr/bin/env bash
# ICMP through VS/NAT, IPv4 and IPv6:
#   - a UDP datagram to VIP:9000, where the real servers have no listener: each real server's
#     kernel answers "port unreachable" quoting <client -> RS:9000>; lvsd relays it to the client
#     as <client -> VIP:9000>, so the client's connected UDP socket sees ECONNREFUSED (it would
#     time out if the quote were left untranslated);
#   - a datagram that reaches the director with TTL (hop limit) 1 cannot be forwarded: the client
#     gets time exceeded from the VIP (IPVS's decrement_ttl), read from its socket's error queue;
#   - ping to the VIP is answered (by the director's kernel: lvsd leaves echo alone);
#   - an error quoting a flow lvsd has no connection for is dropped and counted.
source "$(dirname "$0")/lib.sh"

e2e_init icmp
e2e_require python3 ping
lb_require
lb_is_lvsd || skip "ICMP relaying is checked on lvsd only"

topo_create --ipv6
topo_mode nat
topo_warmup
svc_add UDP "$VIP" 9000 rr NAT
for ip in "${RS_IPS[@]}"; do dest_add "$ip" 9000; done
svc_add UDP "$VIP6" 9000 rr NAT
for ip in "${RS_IP6S[@]}"; do dest_add "$ip" 9000; done
svc_add TCP "$VIP" 80 rr NAT
for ip in "${RS_IPS[@]}"; do dest_add "$ip" 80; done
lb_start

udp_refused 4 "$VIP" 9000 >"$E2E_TMP/r4.out"
assert_eq "IPv4: sockets told 'connection refused' through the VIP" "$(count REFUSED "$E2E_TMP/r4.out")" 6
udp_refused 6 "$VIP6" 9000 >"$E2E_TMP/r6.out"
assert_eq "IPv6: sockets told 'connection refused' through the VIP" "$(count REFUSED "$E2E_TMP/r6.out")" 6

# expired FAMILY ADDR: one datagram with TTL 2 (the router takes one); prints the ICMP origin,
# type, code and sender from the socket's error queue, or NONE.
expired() {
  nsx client python3 - "$1" "$2" <<'PY'
import socket, struct, sys, time
v6 = sys.argv[1] == "6"
s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
if v6:
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 2)
    s.setsockopt(socket.IPPROTO_IPV6, 25, 1)  # IPV6_RECVERR
else:
    s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 2)
    s.setsockopt(socket.IPPROTO_IP, 11, 1)  # IP_RECVERR
s.setblocking(False)
s.connect((sys.argv[2], 9000))
s.send(b"hello")
deadline = time.time() + 3
while time.time() < deadline:
    try:
        _, anc, _, _ = s.recvmsg(512, 512, socket.MSG_ERRQUEUE)
    except BlockingIOError:
        time.sleep(0.05)
        continue
    for _, _, d in anc:
        _, origin, etype, code = struct.unpack_from("=IBBB", d, 0)
        who = socket.inet_ntop(socket.AF_INET6, d[24:40]) if v6 else socket.inet_ntop(
            socket.AF_INET, d[20:24])
        print(origin, etype, code, who)
        sys.exit(0)
print("NONE")
PY
}
assert_eq "IPv4 TTL 1 at the director" "$(expired 4 "$VIP")" "2 11 0 $VIP"
assert_eq "IPv6 hop limit 1 at the director" "$(expired 6 "$VIP6")" "3 3 0 $VIP6"

nsx client ping -c 2 -W 2 -q "$VIP" >/dev/null || fail "ping to the VIP got no answer"
nsx client ping -6 -c 2 -W 2 -q "$VIP6" >/dev/null || fail "ping to the IPv6 VIP got no answer"
e2e_log "ping to the VIP (v4 and v6) answered"

# A "fragmentation needed" about VIP:80 -> client:55555, a connection that does not exist.
nsx router python3 - "$VIP" "$CLIENT_IP" <<'PY'
import socket, struct, sys
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
vip, client = socket.inet_aton(sys.argv[1]), socket.inet_aton(sys.argv[2])
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 0, 0x4000, 64, 6, 0, vip, client)
ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
tcp = struct.pack("!HHIIBBHHH", 80, 55555, 1, 1, 0x50, 0x12, 1000, 0, 0)
body = struct.pack("!BBHHH", 3, 4, 0, 0, 1400) + ip + tcp
body = body[:2] + struct.pack("!H", csum(body)) + body[4:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.sendto(body, (sys.argv[1], 0))
PY
sleep 0.5
stats_refresh
assert_eq "error about an unknown flow counted" "$(stat_get .drops.icmp_no_connection)" 1
assert_eq "UDP service out packets (the relayed errors)" "$(stat_svc "UDP $VIP:9000" .stats.outpkts)" 6
lb_stop || fail "lvsd did not exit cleanly on SIGTERM"
