#!/usr/bin/env bash
# VS/NAT services that share a real server's port, reached by one client from one source port
# (40000, bound with SO_REUSEADDR as a client may): the server would see the same 4-tuple twice.
#   VIP:80   rr        rs1:80                one keep-alive connection, kept open throughout
#   VIP:8080 rr        rs1:80, rs2:80        rr picks rs1 (the list head, added last) first;
#                                            rs1 holds the tuple, so the connection goes to rs2
#                                            (nat_tuple.moved)
#   VIP:8081 rr        rs1:80                no other server: the SYN is dropped
#                                            (drops.nat_tuple_busy), the client times out; once
#                                            the kept connection is closed, it connects
#   UDP VIP:5300 rr    rs1:5300              a datagram from port 40000
#   UDP VIP:5301 rr    rs1:5300, rs2:5300    rs1 first, moved to rs2
#   UDP VIP:5302 rr    rs1:5300              no other server: shared as IPVS would (nat_tuple.shared)
# The kept connection answers from rs1 before and after each of these, never reset.
# Topology: see lib.sh.
source "$(dirname "$0")/lib.sh"

e2e_init nat_tuple
e2e_require python3 nginx socat
lb_require
lb_is_lvsd || skip "the 4-tuple check is lvsd's (the kernel's conntrack remaps ports instead)"

topo_create
topo_mode nat
rs_start_nginx 80
rs_start_udp_name 5300
topo_warmup

svc_add TCP "$VIP" 80 rr NAT
dest_add "${RS_IPS[0]}" 80
svc_add TCP "$VIP" 8080 rr NAT
dest_add "${RS_IPS[1]}" 80
dest_add "${RS_IPS[0]}" 80
svc_add TCP "$VIP" 8081 rr NAT
dest_add "${RS_IPS[0]}" 80
svc_add UDP "$VIP" 5300 rr NAT
dest_add "${RS_IPS[0]}" 5300
svc_add UDP "$VIP" 5301 rr NAT
dest_add "${RS_IPS[1]}" 5300
dest_add "${RS_IPS[0]}" 5300
svc_add UDP "$VIP" 5302 rr NAT
dest_add "${RS_IPS[0]}" 5300
lb_start

cat >"$E2E_TMP/client.py" <<'PY'
import json, socket, sys, time
vip, lport = sys.argv[1], 40000

def sock(kind, timeout):
    s = socket.socket(socket.AF_INET, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", lport))
    s.settimeout(timeout)
    return s

def tcp(vport, timeout=3):
    s = sock(socket.SOCK_STREAM, timeout)
    s.connect((vip, vport))
    return s

def get(s):  # one HTTP/1.1 request on a kept connection: the body (the server's name)
    s.sendall(b"GET / HTTP/1.1\r\nHost: lvs\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            return "closed"
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = [int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0]
    while len(body) < length:
        body += s.recv(4096)
    return body.decode().strip()

def attempt(f):
    try:
        return f()
    except socket.timeout:
        return "timeout"
    except OSError as e:
        return "%s: %s" % (type(e).__name__, e)

def udp(vport):
    s = sock(socket.SOCK_DGRAM, 2)
    s.connect((vip, vport))
    s.send(b"x\n")
    return s.recv(512).decode().strip()

r = {}
kept = tcp(80)
r["kept1"] = attempt(lambda: get(kept))
r["8080"] = attempt(lambda: get(tcp(8080)))
r["kept2"] = attempt(lambda: get(kept))
r["8081_busy"] = attempt(lambda: get(tcp(8081, 2.5)))
r["kept3"] = attempt(lambda: get(kept))
kept.close()
time.sleep(0.5)  # the server's FIN and the last ACK: the tuple is free at rs1
r["8081_free"] = attempt(lambda: get(tcp(8081)))
r["udp5300"] = attempt(lambda: udp(5300))
r["udp5301"] = attempt(lambda: udp(5301))
r["udp5302"] = attempt(lambda: udp(5302))
print(json.dumps(r))
PY

nsx client timeout 20 python3 "$E2E_TMP/client.py" "$VIP" >"$E2E_TMP/client.json" 2>"$E2E_TMP/client.err" ||
  fail "client failed: $(cat "$E2E_TMP/client.err")"
e2e_log "client: $(cat "$E2E_TMP/client.json")"
res() { jq -r --arg k "$1" '.[$k]' "$E2E_TMP/client.json"; }

assert_eq "kept connection (VIP:80)" "$(res kept1)" rs1
assert_eq "VIP:8080 from the same port: moved off rs1" "$(res 8080)" rs2
assert_eq "kept connection after VIP:8080" "$(res kept2)" rs1
assert_eq "VIP:8081 (rs1 only) from the same port: refused while the tuple is held" \
  "$(res 8081_busy)" timeout
assert_eq "kept connection after VIP:8081" "$(res kept3)" rs1
assert_eq "VIP:8081 once the kept connection closed" "$(res 8081_free)" rs1
assert_eq "UDP VIP:5300" "$(res udp5300)" rs1
assert_eq "UDP VIP:5301 from the same port: moved off rs1" "$(res udp5301)" rs2
assert_eq "UDP VIP:5302 (rs1 only): shared" "$(res udp5302)" rs1

stats_refresh
assert_eq "nat_tuple.moved (VIP:8080, UDP VIP:5301)" "$(stat_get .nat_tuple.moved)" 2
assert_eq "nat_tuple.shared (UDP VIP:5302)" "$(stat_get .nat_tuple.shared)" 1
# The SYN and its retransmission within the client's 2.5 s.
assert_ge "drops.nat_tuple_busy" "$(stat_get .drops.nat_tuple_busy)" 2
assert_eq "TCP VIP:8081 connections (only the one after the close)" \
  "$(stat_svc "TCP $VIP:8081" .stats.conns)" 1
curl -sS --max-time 5 --unix-socket "$LVSD_SOCKET" http://lvsd/metrics >"$E2E_TMP/metrics" ||
  fail "GET /metrics failed"
grep -qx 'lvs_nat_tuple_total{kind="moved"} 2' "$E2E_TMP/metrics" ||
  fail "metrics: no lvs_nat_tuple_total{kind=\"moved\"} 2: $(grep nat_tuple "$E2E_TMP/metrics")"
lb_stop || fail "lvsd did not exit cleanly on SIGTERM"
