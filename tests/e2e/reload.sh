#!/usr/bin/env bash
# Reload under load (VS/NAT): traffic runs through the VIP while 100 reloads are applied, half
# by SIGHUP and half by POST /v1/reload, each waited for before the next.
#   A  TCP VIP:80   wrr, the three nginx servers; unchanged throughout. wrk (keep-alive) and
#                   a loop of fresh curl connections run through it the whole time: no socket
#                   error, no non-2xx answer, no failed curl.
#   B  UDP VIP:5300 rr, a UDP echo on every real server; unchanged. 8 client sockets send
#                   numbered datagrams at 200/s: every one is answered, and each socket stays
#                   on one real server (its connection outlives every reload).
#   W  TCP VIP:8080 wrr; the weights of its servers change on nearly every reload (0 included:
#                   quiesced). 6 keep-alive connections send a request every 100 ms: none
#                   fails and none is reopened (established connections survive weight changes).
#   churn           TCP VIP:81, :82, :83 and UDP VIP:5301 come and go, gain and lose real
#                   servers, change weights and (VIP:82) scheduler. After every reload
#                   `lvsadm -Sn` equals the config, the present TCP ones answer, the absent
#                   ones refuse, UDP VIP:5301 echoes while present.
#   broken          one config (the next step's, with an invalid weight on its last line) is
#                   sent by POST /v1/reload (400 naming file:line:col) and by SIGHUP (logged
#                   "not reloaded" with file:line:col): `lvsadm -Sn` and `-Ln` (connection
#                   counts masked) are identical before and after; traffic is unaffected.
# At the end `lvsadm -Ln` is the final config exactly (connection counts masked), and a summary
# gives the reloads, wrk's requests, the UDP datagrams and lvsd's reload durations.
# A, W and the churn services reach nginx on ports of their own (80, 8080, 8081): a churn probe
# from a source port that one of A's or W's kept connections uses would otherwise meet it at
# the server (the same 4-tuple under NAT), and lvsd would refuse a single-server probe for as
# long as the kept connection lives (see tests/e2e/nat_tuple.sh). UDP VIP:5301 shares B's echo
# port, always with three servers: a probe from one of B's ports is sent to another server.
# Topology: see lib.sh.
source "$(dirname "$0")/lib.sh"

e2e_init reload
e2e_require curl nginx wrk python3 timeout awk sort
lb_require
lb_is_lvsd || skip "reloads with lvsd's log, control socket and lvsadm"
LVSADM=${LVSADM:-}
[ -n "$LVSADM" ] || skip "LVSADM is not set (path to the lvsadm binary)"
[ -x "$LVSADM" ] || fail "LVSADM=$LVSADM is not an executable"

RELOADS=${RELOADS:-100}
BROKEN_AT=$((RELOADS / 2))  # broken by the API at this step, by SIGHUP at the next
STEP_SECS=0.25              # a reload starts at most every STEP_SECS
MAX_TRAFFIC_SECS=55        # traffic runs until the reloads are done, at most this long
UDP_PORT=5300

topo_create
topo_mode nat
rs_start_nginx 80 8080 8081

# A UDP echo on every real server (python, not socat: socat's fork mode spawns a process per
# datagram, 200 a second here): the server's name, a space, the datagram.
cat >"$E2E_TMP/udp_echo.py" <<'PY'
import socket, sys
name, port = sys.argv[1].encode(), int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
s.bind(("0.0.0.0", port))
while True:
    data, peer = s.recvfrom(2048)
    s.sendto(name + b" " + data, peer)
PY
for rs in "${RS_NAMES[@]}"; do
  bg "$rs" "$E2E_TMP/udp-$rs.log" python3 "$E2E_TMP/udp_echo.py" "$rs" "$UDP_PORT"
done
for rs in "${RS_NAMES[@]}"; do
  wait_for 5 nsx "$rs" bash -c "ss -Hlun | grep -q ':$UDP_PORT '" ||
    fail "udp echo on $rs did not bind port $UDP_PORT"
done
topo_warmup

# ---------------------------------------------------------------------------------------------
# The configuration of step I (0: the one lvsd starts with), in lib.sh's model.

model_step() {
  local i=$1 rs w
  lb_reset
  svc_add TCP "$VIP" 80 wrr NAT  # A
  for ip in "${RS_IPS[@]}"; do dest_add "$ip" 80 1; done
  svc_add UDP "$VIP" "$UDP_PORT" rr NAT  # B
  for ip in "${RS_IPS[@]}"; do dest_add "$ip" "$UDP_PORT" 1; done
  svc_add TCP "$VIP" 8080 wrr NAT  # W: weights 1..3 / 2 or 0 / 1..2
  dest_add "${RS_IPS[0]}" 8080 $((1 + i % 3))
  dest_add "${RS_IPS[1]}" 8080 $((i % 4 == 3 ? 0 : 2))
  dest_add "${RS_IPS[2]}" 8080 $((1 + i % 2))
  if ((i % 4 == 1 || i % 4 == 2)); then
    svc_add TCP "$VIP" 81 rr NAT
    dest_add "${RS_IPS[0]}" 8081 1
    dest_add "${RS_IPS[1]}" 8081 $((1 + i % 3))
    dest_add "${RS_IPS[2]}" 8081 1
  fi
  if ((i % 3 != 0)); then
    if ((i % 2)); then w=rr; else w=wlc; fi
    svc_add TCP "$VIP" 82 "$w" NAT
    dest_add "${RS_IPS[0]}" 8081 $((1 + i % 5))
    dest_add "${RS_IPS[1]}" 8081 1
    if ((i % 2)); then dest_add "${RS_IPS[2]}" 8081 2; fi
  fi
  if ((i % 7 < 4)); then
    svc_add TCP "$VIP" 83 rr NAT  # one real server, a different one each step
    dest_add "${RS_IPS[$((i % 3))]}" 8081 1
  fi
  if ((i % 5 < 3)); then
    svc_add UDP "$VIP" 5301 rr NAT
    for ip in "${RS_IPS[@]}"; do dest_add "$ip" "$UDP_PORT" $((1 + (i + ${ip##*.}) % 2)); done
  fi
}

model_has() {  # PROTO PORT: is the service in the model?
  local s
  for s in "${LB_SVCS[@]}"; do
    [[ $s == "$1 $VIP $2 "* ]] && return 0
  done
  return 1
}

# The model as `lvsadm -Sn` prints it: services by protocol then port, servers by address then
# port (ipvsadm's order; one VIP, servers in one /24).
model_save() {
  local i d proto vip port algo kind si dip dport weight o pn
  for i in "${!LB_SVCS[@]}"; do
    read -r proto vip port algo kind <<<"${LB_SVCS[$i]}"
    if [ "$proto" = TCP ]; then o=-t pn=6; else o=-u pn=17; fi
    printf '%s\t%s\t0\t0\t0\t%s\n' "$pn" "$port" "-A $o $vip:$port -s $algo"
    for d in "${LB_DESTS[@]}"; do
      read -r si dip dport weight <<<"$d"
      [ "$si" = "$i" ] || continue
      printf '%s\t%s\t1\t%s\t%s\t%s\n' "$pn" "$port" "${dip##*.}" "$dport" \
        "-a $o $vip:$port -r $dip:$dport -m -w $weight"
    done
  done | sort -t$'\t' -k1,1n -k2,2n -k3,3n -k4,4n -k5,5n | cut -f6
}

# The model as `lvsadm -Ln` prints it, with mask_counts applied (ipvsadm's formats).
model_list() {
  local size=$1
  printf '%s\n' "IP Virtual Server version 1.2.1 (size=$size)" \
    "Prot LocalAddress:Port Scheduler Flags" \
    "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn"
  model_save | while read -r op o addr _ b _ _ e _; do
    if [ "$op" = -A ]; then
      if [ "$o" = -t ]; then printf 'TCP  %s %s\n' "$addr" "$b"; else printf 'UDP  %s %s\n' "$addr" "$b"; fi
    else
      printf '  -> %-28s %-7s %-6d # #\n' "$b" Masq "$e"
    fi
  done
}

# ActiveConn and InActConn move with the traffic: masked in both lists.
mask_counts() { sed -E '/^  -> [0-9]/ s/ [0-9]+ +[0-9]+ *$/ # #/'; }

adm() { "$LVSADM" "$@"; }

# ---------------------------------------------------------------------------------------------
# Reloads

log_reloads() { grep -c 'configuration reloaded:' "$E2E_TMP/lvsd.log" || true; }
log_refusals() { grep -c 'not reloaded' "$E2E_TMP/lvsd.log" || true; }

# wait_log_count FN N: until FN prints at least N (10 s at most).
wait_log_count() {
  local fn=$1 want=$2 n=500
  while (($($fn) < want)); do
    ((n-- > 0)) || return 1
    sleep 0.02
  done
}

GOOD_RELOADS=0
RELOAD_LOG=$E2E_TMP/reloads.txt  # "step how start end" (epoch seconds), to match any loss
: >"$RELOAD_LOG"

# reload_via sighup|api STEP: apply the config file; fails unless lvsd took it.
reload_via() {
  local how=$1 step=$2 t0 t1 ans code
  t0=$(date +%s.%N)
  if [ "$how" = sighup ]; then
    kill -HUP "$LB_PID"
    wait_log_count log_reloads $((GOOD_RELOADS + 1)) ||
      fail "step $step: lvsd logged no reload within 10 s of SIGHUP"
  else
    ans=$(curl -sS --max-time 10 --unix-socket "$LVSD_SOCKET" -o "$E2E_TMP/api.out" \
      -w '%{http_code}' -X POST http://lvsd/v1/reload) || fail "step $step: POST /v1/reload failed"
    code=$ans
    [ "$code" = 200 ] || fail "step $step: POST /v1/reload answered $code: $(cat "$E2E_TMP/api.out")"
    grep -q '"reloaded":true' "$E2E_TMP/api.out" || fail "step $step: POST /v1/reload: $(cat "$E2E_TMP/api.out")"
    wait_log_count log_reloads $((GOOD_RELOADS + 1)) || fail "step $step: reload not logged"
  fi
  t1=$(date +%s.%N)
  GOOD_RELOADS=$((GOOD_RELOADS + 1))
  echo "$step $how $t0 $t1" >>"$RELOAD_LOG"
  kill -0 "$LB_PID" 2>/dev/null || fail "step $step: lvsd is gone"
}

# check_step STEP: the table is the model's; the churn services answer or refuse as configured
# (one shell in the client for all the probes: a namespace switch is slow under this load).
check_step() {
  local step=$1 port got rc udp=0 line
  adm -Sn >"$E2E_TMP/sn.out" 2>&1 || fail "step $step: lvsadm -Sn failed: $(cat "$E2E_TMP/sn.out")"
  model_save >"$E2E_TMP/sn.want"
  diff -u "$E2E_TMP/sn.want" "$E2E_TMP/sn.out" >"$E2E_TMP/sn.diff" ||
    fail "step $step: lvsadm -Sn is not the config:
$(cat "$E2E_TMP/sn.diff")"
  model_has UDP 5301 && udp=1
  # One line per probe: "tcp PORT STATUS ANSWER" (curl's status), then "udp ANSWER".
  nsx client bash -c '
    for port in 81 82 83; do
      rc=0
      got=$(curl -sS --max-time 3 "http://$1:$port/" 2>&1) || rc=$?
      echo "tcp $port $rc $(tr "\n" " " <<<"$got")"
    done
    if [ "$3" = 1 ]; then
      exec 3<>"/dev/udp/$1/5301"
      printf "probe %s\n" "$2" >&3
      echo "udp $(timeout 2 dd bs=512 count=1 status=none <&3)"
    fi' _ "$VIP" "$step" "$udp" >"$E2E_TMP/probe.out" 2>&1
  for port in 81 82 83; do
    line=$(grep "^tcp $port " "$E2E_TMP/probe.out") || fail "step $step: no probe of VIP:$port"
    read -r _ _ rc got <<<"$line"
    if model_has TCP "$port"; then
      if [ "$rc" != 0 ] || [[ $got != rs[123] ]]; then
        fail "step $step: TCP $VIP:$port is configured; curl: status $rc, '$got'"
      fi
    else
      # Status 7: could not connect (the director's kernel resets the SYN).
      [ "$rc" = 7 ] ||
        fail "step $step: TCP $VIP:$port was deleted: expected a refusal, got status $rc, '$got'"
    fi
  done
  if [ "$udp" = 1 ]; then
    got=$(sed -n 's/^udp //p' "$E2E_TMP/probe.out")
    [[ $got == "rs"[123]" probe $step" ]] ||
      fail "step $step: UDP $VIP:5301 is configured; its probe got '$got'"
  fi
}

# ---------------------------------------------------------------------------------------------
# Clients

# udp_stream VIP PORT SOCKETS RATE STOPFILE MAXSECS: numbered datagrams, round robin over the
# sockets, until STOPFILE exists; then a 2 s grace for late answers. Prints one JSON line.
cat >"$E2E_TMP/udp_stream.py" <<'PY'
import json, os, select, socket, sys, time
vip, port, n, rate, stop, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5], float(sys.argv[6])
socks = []
for _ in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((vip, port))
    s.setblocking(False)
    socks.append(s)
sent_at, got, dup, bad, servers, errors = {}, set(), 0, [], [{} for _ in range(n)], []
def drain(s, k):
    global dup
    while True:
        try:
            data = s.recv(2048)
        except BlockingIOError:
            return
        except OSError as e:  # e.g. an ICMP error reported on the connected socket
            errors.append("%.3f %d %s" % (time.time(), k, e))
            continue
        parts = data.decode(errors="replace").split()
        if len(parts) != 3 or int(parts[1]) != k:
            bad.append(data.decode(errors="replace"))
            continue
        seq = int(parts[2])
        if seq in got:
            dup += 1
        got.add(seq)
        servers[k][parts[0]] = servers[k].get(parts[0], 0) + 1
start = time.monotonic()
nxt, seq = start, 0
while time.monotonic() < start + secs and not os.path.exists(stop):
    now = time.monotonic()
    while now >= nxt:
        k = seq % n
        sent_at[seq] = time.time()
        socks[k].send(b"%d %d" % (k, seq))
        seq += 1
        nxt += 1.0 / rate
    r, _, _ = select.select(socks, [], [], max(0.0, nxt - time.monotonic()))
    for s in r:
        drain(s, socks.index(s))
grace = time.monotonic() + 2
while len(got) < seq and time.monotonic() < grace:
    r, _, _ = select.select(socks, [], [], 0.1)
    for s in r:
        drain(s, socks.index(s))
lost = sorted(set(range(seq)) - got)
print(json.dumps({"sent": seq, "received": len(got), "dup": dup, "bad": bad[:10],
                  "errors": errors[:10], "lost": len(lost),
                  "lost_sample": [[q, q % n, round(sent_at[q], 3)] for q in lost[:20]],
                  "servers": servers}))
PY

# keepalive VIP PORT CONNS INTERVAL STOPFILE MAXSECS: HTTP/1.1 connections each sending a request
# every INTERVAL until STOPFILE exists; the local ports used tell whether one was reopened.
cat >"$E2E_TMP/keepalive.py" <<'PY'
import http.client, json, os, sys, threading, time
vip, port, n, interval, stop, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5], float(sys.argv[6])
results = [None] * n
def run(k):
    reqs, errors, servers, ports = 0, [], {}, set()
    c = http.client.HTTPConnection(vip, port, timeout=3)
    end = time.monotonic() + secs
    while time.monotonic() < end and not os.path.exists(stop):
        try:
            c.request("GET", "/")
            r = c.getresponse()
            body = r.read().decode().strip()
            ports.add(c.sock.getsockname()[1])
            if r.status != 200:
                errors.append("%.3f status %d" % (time.time(), r.status))
            else:
                servers[body] = servers.get(body, 0) + 1
            reqs += 1
        except Exception as e:
            errors.append("%.3f %s: %s" % (time.time(), type(e).__name__, e))
            c.close()
            c = http.client.HTTPConnection(vip, port, timeout=3)
        time.sleep(interval)
    c.close()
    results[k] = {"requests": reqs, "errors": errors[:10], "servers": servers,
                  "connections": len(ports)}
ts = [threading.Thread(target=run, args=(k,)) for k in range(n)]
for t in ts: t.start()
for t in ts: t.join()
print(json.dumps(results))
PY

# ---------------------------------------------------------------------------------------------
# Start: step 0, traffic, then the reloads.

model_step 0
lb_start
wait_for 5 test -S "$LVSD_SOCKET" || fail "lvsd did not create its control socket $LVSD_SOCKET"
size=$(jq -r .conn_capacity "$STATS")
check_step 0
# Every real server answers through A before the load starts (next hops resolved).
http_seq 3 "http://$VIP:80/" "$E2E_TMP/warm.out"
expect_spread "warm-up through VIP:80" "$E2E_TMP/warm.out" 1 1 1

STOP=$E2E_TMP/stop
# wrk runs until SIGINT (it then prints its results as at the end of -d); $BG_PID is wrk's own
# (ip netns exec and nice exec it). Niced: it would take a whole core from the reload loop.
bg client "$E2E_TMP/wrk.log" nice -n 10 wrk -t 1 -c 8 -d "${MAX_TRAFFIC_SECS}s" --timeout 3s "http://$VIP:80/"
wrk_pid=$BG_PID
bg client "$E2E_TMP/udp-stream.log" python3 "$E2E_TMP/udp_stream.py" "$VIP" "$UDP_PORT" 8 200 \
  "$STOP" "$MAX_TRAFFIC_SECS"
udp_pid=$BG_PID
bg client "$E2E_TMP/keepalive.log" python3 "$E2E_TMP/keepalive.py" "$VIP" 8080 6 0.1 \
  "$STOP" "$MAX_TRAFFIC_SECS"
ka_pid=$BG_PID
# Fresh connections to A, one after another (bounded: 4000 or the stop file).
bg client "$E2E_TMP/curl-loop.log" bash -c '
  for ((i = 0; i < 4000; i++)); do
    [ -e "$2" ] && break
    out=$(curl -sS --max-time 3 "http://$1:80/" 2>&1) || out="ERR $(date +%s.%N) $out"
    echo "$out"
    sleep 0.02
  done' _ "$VIP" "$STOP"
curl_pid=$BG_PID
sleep 1

e2e_log "traffic running; $RELOADS reloads (SIGHUP and POST /v1/reload in turn)"
t_start=$(date +%s.%N)
for ((step = 1; step <= RELOADS; step++)); do
  t_step=$(date +%s.%N)
  if ((step == BROKEN_AT)); then
    adm -Sn >"$E2E_TMP/broken-before.sn"
    adm -Ln | mask_counts >"$E2E_TMP/broken-before.ln"
    model_step "$step"
    lb_render_lvsd "$LB_CONF"
    # This step's config (adds, deletes, weights) with one bad value near its end.
    sed -i '$d' "$LB_CONF"
    printf '    real_server %s 81 {\n        weight 1x\n    }\n}\n' "${RS_IPS[0]}" >>"$LB_CONF"
    bad_line=$(($(wc -l <"$LB_CONF") - 2))
    code=$(curl -sS --max-time 10 --unix-socket "$LVSD_SOCKET" -o "$E2E_TMP/api.out" \
      -w '%{http_code}' -X POST http://lvsd/v1/reload) || fail "POST /v1/reload failed"
    assert_eq "broken config: POST /v1/reload status" "$code" 400
    want="$LB_CONF:$bad_line:16: invalid weight '1x' (expected 0..2147483647)"
    grep -qF "$want" <(jq -r .error "$E2E_TMP/api.out") ||
      fail "broken config: the API's error does not name '$want': $(cat "$E2E_TMP/api.out")"
    e2e_log "ok: POST /v1/reload refused it: $(jq -r .error "$E2E_TMP/api.out" | tail -n1 | sed "s|$E2E_TMP/||")"
    echo "$step api-broken $t_step $(date +%s.%N)" >>"$RELOAD_LOG"
    refusals=$(log_refusals)
    ((step++))
    t_step=$(date +%s.%N)
    kill -HUP "$LB_PID"
    wait_log_count log_refusals $((refusals + 1)) || fail "broken config: SIGHUP: no refusal logged"
    grep -qF "$want" "$E2E_TMP/lvsd.log" ||
      fail "broken config: lvsd's log does not name '$want'"
    e2e_log "ok: SIGHUP refused it, lvsd logged file:line:col"
    echo "$step sighup-broken $t_step $(date +%s.%N)" >>"$RELOAD_LOG"
    kill -0 "$LB_PID" 2>/dev/null || fail "lvsd died on a broken config"
    adm -Sn >"$E2E_TMP/broken-after.sn"
    adm -Ln | mask_counts >"$E2E_TMP/broken-after.ln"
    diff -u "$E2E_TMP/broken-before.sn" "$E2E_TMP/broken-after.sn" ||
      fail "broken config: lvsadm -Sn changed"
    diff -u "$E2E_TMP/broken-before.ln" "$E2E_TMP/broken-after.ln" ||
      fail "broken config: lvsadm -Ln changed"
    e2e_log "ok: lvsadm -Sn and -Ln (counts masked) identical before and after the broken config"
    model_step $((step - 2))  # the running config, for the checks that follow
    check_step "$step"
  else
    model_step "$step"
    lb_render_lvsd "$LB_CONF"
    if ((step % 2)); then reload_via sighup "$step"; else reload_via api "$step"; fi
    check_step "$step"
  fi
  # Pace: at most one reload every STEP_SECS.
  sleep "$(awk -v a="$t_step" -v b="$(date +%s.%N)" -v s="$STEP_SECS" \
    'BEGIN { d = s - (b - a); print (d > 0 ? d : 0) }')"
done
t_end=$(date +%s.%N)
seq_secs=$(awk -v a="$t_start" -v b="$t_end" 'BEGIN { printf "%.1f", b - a }')
e2e_log "$RELOADS reloads done in ${seq_secs}s ($GOOD_RELOADS applied, 2 refused)"
kill -0 "$wrk_pid" 2>/dev/null ||
  fail "wrk ended before the reloads did (${seq_secs}s; MAX_TRAFFIC_SECS=$MAX_TRAFFIC_SECS)"
kill -0 "$udp_pid" 2>/dev/null || fail "the UDP stream ended before the reloads did"
kill -0 "$ka_pid" 2>/dev/null || fail "the keep-alive client ended before the reloads did"

# ---------------------------------------------------------------------------------------------
# Results

wait_pid() {  # PID WHAT SECONDS
  local n=$(($3 * 10))
  while kill -0 "$1" 2>/dev/null && ((n-- > 0)); do sleep 0.1; done
  kill -0 "$1" 2>/dev/null && fail "$2 did not end in time"
  wait "$1" || fail "$2 exited with status $?: $(tail -n 5 "$4")"
}
sleep 1  # traffic after the last reload too
touch "$STOP"
kill -INT "$wrk_pid"
wait_pid "$wrk_pid" wrk 10 "$E2E_TMP/wrk.log"
wait_pid "$udp_pid" "the UDP stream" 10 "$E2E_TMP/udp-stream.log"
wait_pid "$ka_pid" "the keep-alive client" 10 "$E2E_TMP/keepalive.log"
wait_pid "$curl_pid" "the curl loop" 10 "$E2E_TMP/curl-loop.log"

# A: wrk and fresh connections.
wrk_reqs=$(awk '/requests in/ {print $1}' "$E2E_TMP/wrk.log")
[ -n "$wrk_reqs" ] || fail "wrk printed no request count: $(cat "$E2E_TMP/wrk.log")"
wrk_sock=$(grep 'Socket errors' "$E2E_TMP/wrk.log" || true)
wrk_non2xx=$(awk '/Non-2xx/ {print $NF}' "$E2E_TMP/wrk.log")
assert_eq "A (unchanged): wrk socket errors" "${wrk_sock:-none}" none
assert_eq "A (unchanged): wrk non-2xx answers" "${wrk_non2xx:-0}" 0
assert_gt "A (unchanged): wrk requests" "$wrk_reqs" 0
curl_total=$(wc -l <"$E2E_TMP/curl-loop.log")
curl_err=$(grep -c '^ERR' "$E2E_TMP/curl-loop.log" || true)
e2e_log "A: fresh curl connections: $(show_spread "$E2E_TMP/curl-loop.log") of $curl_total"
[ "$curl_err" = 0 ] || fail "A (unchanged): $curl_err fresh connections failed:
$(grep '^ERR' "$E2E_TMP/curl-loop.log" | head -n 5)"
assert_gt "A (unchanged): fresh connections answered" "$curl_total" 0
for rs in "${RS_NAMES[@]}"; do
  assert_gt "A (unchanged): fresh connections answered by $rs" "$(count "$rs" "$E2E_TMP/curl-loop.log")" 0
done

# B: every datagram answered, each socket on one server.
udp_json=$(tail -n 1 "$E2E_TMP/udp-stream.log")
jq -e . <<<"$udp_json" >/dev/null || fail "UDP stream: no result: $(cat "$E2E_TMP/udp-stream.log")"
udp_sent=$(jq -r .sent <<<"$udp_json")
udp_recv=$(jq -r .received <<<"$udp_json")
if [ "$(jq -r .lost <<<"$udp_json")" != 0 ]; then
  e2e_log "UDP lost (seq, socket, sent at): $(jq -c .lost_sample <<<"$udp_json")"
  e2e_log "reloads (step how start end): see $RELOAD_LOG"
fi
assert_gt "B (unchanged): datagrams sent" "$udp_sent" 0
assert_eq "B (unchanged): datagrams answered" "$udp_recv" "$udp_sent"
assert_eq "B (unchanged): duplicate answers" "$(jq -r .dup <<<"$udp_json")" 0
assert_eq "B (unchanged): malformed answers" "$(jq -c .bad <<<"$udp_json")" "[]"
assert_eq "B (unchanged): socket errors" "$(jq -c .errors <<<"$udp_json")" "[]"
assert_eq "B (unchanged): sockets answered by exactly one server" \
  "$(jq '[.servers[] | select(length == 1)] | length' <<<"$udp_json")" 8
e2e_log "B: servers per socket: $(jq -c '[.servers[] | keys[0]]' <<<"$udp_json")"

# W: weight changes under established connections.
ka_json=$(tail -n 1 "$E2E_TMP/keepalive.log")
jq -e . <<<"$ka_json" >/dev/null || fail "keep-alive client: no result: $(cat "$E2E_TMP/keepalive.log")"
ka_reqs=$(jq '[.[].requests] | add' <<<"$ka_json")
assert_eq "W (weights changed): failed requests" "$(jq -c '[.[].errors[]]' <<<"$ka_json")" "[]"
assert_eq "W (weights changed): connections used (6: none reopened)" \
  "$(jq '[.[].connections] | add' <<<"$ka_json")" 6
assert_eq "W (weights changed): connections answered by one server each" \
  "$(jq '[.[].servers | select(length == 1)] | length' <<<"$ka_json")" 6
assert_gt "W (weights changed): requests" "$ka_reqs" 0
e2e_log "W: servers per connection: $(jq -c '[.[].servers | keys[0]]' <<<"$ka_json")"

# The final table, exactly (connection counts masked).
model_step "$RELOADS"
adm -Ln >"$E2E_TMP/final.ln" || fail "lvsadm -Ln failed"
mask_counts <"$E2E_TMP/final.ln" >"$E2E_TMP/final.masked"
model_list "$size" >"$E2E_TMP/final.want"
diff -u "$E2E_TMP/final.want" "$E2E_TMP/final.masked" || fail "lvsadm -Ln is not the final config"
e2e_log "ok: lvsadm -Ln is the final config ($(grep -c '^[TU]' "$E2E_TMP/final.ln") services, $(grep -c '^  -> [0-9]' "$E2E_TMP/final.ln") servers)"

# lvsd's own account: one "configuration reloaded" line per applied reload.
assert_eq "reloads logged by lvsd" "$(log_reloads)" "$GOOD_RELOADS"
durations=$(sed -nE 's/.*configuration reloaded: ([0-9]+) changes? in ([0-9.]+) ms.*/\2 \1/p' \
  "$E2E_TMP/lvsd.log" | sort -n | awk '
  { d[NR] = $1; c += $2 } END {
    if (NR == 0) { print "none logged"; exit }
    printf "%d logged, %d changes, ms min %.1f median %.1f p95 %.1f max %.1f", NR, c, d[1],
      d[int((NR + 1) / 2)], d[int(NR * 0.95 + 0.5)], d[NR] }')
# Services whose block was written as before are copied from the running config, not parsed.
copied=$(sed -nE 's/.*reading [0-9.]+ ms, ([0-9]+) of ([0-9]+) services as before.*/\1 \2/p' \
  "$E2E_TMP/lvsd.log" | awk '{ c += $1; t += $2 } END { printf "%d %d", c, t }')
[ "${copied%% *}" -gt 0 ] || fail "no reload copied an unchanged service ($copied)"
e2e_log "ok: reloads copied ${copied%% *} of ${copied##* } services written as before"
stats_refresh
drops=$(jq -c '.drops | with_entries(select(.value > 0))' "$STATS_NOW")
e2e_log "lvsd drops: $drops; 4-tuples held at a server: $(jq -c .nat_tuple "$STATS_NOW")"

printf '[reload] summary: %d reloads (%d applied: SIGHUP and API in turn; 2 refused) in %ss;' \
  "$RELOADS" "$GOOD_RELOADS" "$seq_secs" >&2
printf ' wrk %s requests, 0 errors; %s fresh connections, 0 failed; W %s keep-alive requests,' \
  "$wrk_reqs" "$curl_total" "$ka_reqs" >&2
printf ' 0 failed; UDP %s sent, %s received; reload durations: %s\n' \
  "$udp_sent" "$udp_recv" "$durations" >&2
lb_stop || fail "lvsd did not exit cleanly on SIGTERM"
