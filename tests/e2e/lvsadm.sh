#!/usr/bin/env bash
# lvsadm against a running lvsd over its control socket, after real traffic:
#   VIP:80 rr NAT to three nginx servers (weights 1, 2, 3), 30 curl requests (5/10/15), then
#   - lvsadm -Ln           ipvsadm's table byte for byte: version line with the table size, the
#                          service, its servers sorted as ipvsadm sorts them, 0 active and the
#                          finished connections as InActConn
#   - lvsadm -Ln --stats   the Conns column per server (5, 10, 15) and for the service (30)
#   - lvsadm -Lnc          30 connection entries, each TCP in TIME_WAIT from the client to the VIP
#   - lvsadm -Sn           the ipvsadm-restore form of the table
#   - lvsadm -Ln --timeout the timeouts of the configuration
#   - lvsadm -L -t VIP:81  "No such service", status 1, as ipvsadm
#   - changes: -A/-a a second service on VIP:81 that then carries traffic (the classifier
#     learns it), -e a weight, -d, -D; ipvsadm's messages and status 255 for a duplicate
#     service, a server of a missing service, a missing server; -Z zeroes --stats; --set
#     changes --timeout; -C then -R with the -S output restores the same table
#   - GET /metrics         Prometheus text, read by prometheus_client's parser;
#                          lvs_service_conns_total counts the restored service's 6 connections
#   - lvsd gone            lvsadm says it cannot reach lvsd, status 1
source "$(dirname "$0")/lib.sh"

e2e_init lvsadm
e2e_require curl nginx python3
lb_require
lb_is_lvsd || skip "lvsadm talks to lvsd"
LVSADM=${LVSADM:-}
[ -n "$LVSADM" ] || skip "LVSADM is not set (path to the lvsadm binary)"
[ -x "$LVSADM" ] || fail "LVSADM=$LVSADM is not an executable"

topo_create
topo_mode nat
rs_start_nginx 80
topo_warmup

svc_add TCP "$VIP" 80 wrr NAT
dest_add "${RS_IPS[0]}" 80 1
dest_add "${RS_IPS[1]}" 80 2
dest_add "${RS_IPS[2]}" 80 3
lb_start
wait_for 5 test -S "$LVSD_SOCKET" || fail "lvsd did not create its control socket $LVSD_SOCKET"

http_seq 30 "http://$VIP:80/" "$E2E_TMP/seq.out"
expect_spread "wrr 1:2:3" "$E2E_TMP/seq.out" 5 10 15

adm() { "$LVSADM" "$@"; }
size=$(jq -r .conn_capacity "$STATS")

adm -Ln >"$E2E_TMP/ln.out" || fail "lvsadm -Ln failed"
# Real servers in ipvsadm's sort order (by address); every connection is over by now: InActConn.
printf '%s\n' \
  "IP Virtual Server version 1.2.1 (size=$size)" \
  "Prot LocalAddress:Port Scheduler Flags" \
  "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn" \
  "TCP  $VIP:80 wrr" \
  "  -> ${RS_IPS[0]}:80               Masq    1      0          5         " \
  "  -> ${RS_IPS[1]}:80               Masq    2      0          10        " \
  "  -> ${RS_IPS[2]}:80               Masq    3      0          15        " >"$E2E_TMP/ln.want"
diff -u "$E2E_TMP/ln.want" "$E2E_TMP/ln.out" || fail "lvsadm -Ln is not ipvsadm's table"
e2e_log "lvsadm -Ln: ipvsadm's table, byte for byte"

adm -Ln --stats >"$E2E_TMP/stats.out" || fail "lvsadm -Ln --stats failed"
assert_eq "--stats service Conns" "$(awk '$1 == "TCP" {print $3}' "$E2E_TMP/stats.out")" 30
for i in 0 1 2; do
  assert_eq "--stats Conns of ${RS_IPS[$i]}" \
    "$(awk -v a="${RS_IPS[$i]}:80" '$2 == a {print $3}' "$E2E_TMP/stats.out")" $((5 * (i + 1)))
done

adm -Lnc >"$E2E_TMP/conns.out" || fail "lvsadm -Lnc failed"
assert_eq "-c header" "$(sed -n 1p "$E2E_TMP/conns.out")" "IPVS connection entries"
assert_eq "-c entries in TIME_WAIT to the VIP" \
  "$(awk -v v="$VIP:80" '$1 == "TCP" && $3 == "TIME_WAIT" && $5 == v' "$E2E_TMP/conns.out" | wc -l)" 30

adm -Sn >"$E2E_TMP/save.out" || fail "lvsadm -Sn failed"
printf '%s\n' "-A -t $VIP:80 -s wrr" \
  "-a -t $VIP:80 -r ${RS_IPS[0]}:80 -m -w 1" \
  "-a -t $VIP:80 -r ${RS_IPS[1]}:80 -m -w 2" \
  "-a -t $VIP:80 -r ${RS_IPS[2]}:80 -m -w 3" >"$E2E_TMP/save.want"
diff -u "$E2E_TMP/save.want" "$E2E_TMP/save.out" || fail "lvsadm -Sn is not ipvsadm's save form"

assert_eq "--timeout" "$(adm -Ln --timeout)" "Timeout (tcp tcpfin udp): 900 120 300"

set +e
err=$(adm -L -t "$VIP:81" 2>&1 >/dev/null)
rc=$?
set -e
assert_eq "missing service: status" "$rc" 1
assert_eq "missing service: message" "$err" "No such service"

# Changes through the API.
adm -A -t "$VIP:81" -s rr || fail "lvsadm -A failed"
for ip in "${RS_IPS[@]}"; do adm -a -t "$VIP:81" -r "$ip:80" -m -w 1 || fail "lvsadm -a $ip"; done
http_seq 9 "http://$VIP:81/" "$E2E_TMP/p81.out"
expect_spread "a service added with lvsadm" "$E2E_TMP/p81.out" 3 3 3
adm -e -t "$VIP:81" -r "${RS_IPS[0]}:80" -m -w 0 || fail "lvsadm -e failed"
assert_eq "-e: weight 0" \
  "$(adm -Ln -t "$VIP:81" | awk -v a="${RS_IPS[0]}:80" '$2 == a {print $4}')" 0
adm -d -t "$VIP:81" -r "${RS_IPS[2]}:80" || fail "lvsadm -d failed"
assert_eq "-d: servers left" "$(adm -Ln -t "$VIP:81" | grep -c -- '-> 198\.')" 2
expect_error() {  # WHAT STATUS MESSAGE cmd...
  local what=$1 want_rc=$2 want=$3 got rc
  shift 3
  set +e
  got=$("$@" 2>&1 >/dev/null)
  rc=$?
  set -e
  assert_eq "$what: status" "$rc" "$want_rc"
  assert_eq "$what: message" "$got" "$want"
}
expect_error "duplicate service" 255 "Service already exists" adm -A -t "$VIP:81" -s rr
expect_error "server of a missing service" 255 "Service not defined" \
  adm -a -t "$VIP:82" -r "${RS_IPS[0]}:80" -m
expect_error "missing server" 255 "No such destination" \
  adm -e -t "$VIP:81" -r "${RS_IPS[2]}:80" -m -w 3
expect_error "unknown scheduler" 255 "Scheduler or persistence engine not found" \
  adm -E -t "$VIP:81" -s nosuch
adm -D -t "$VIP:81" || fail "lvsadm -D failed"
expect_error "deleted service" 1 "No such service" adm -L -t "$VIP:81"

adm -Z || fail "lvsadm -Z failed"
assert_eq "-Z: service Conns" "$(adm -Ln --stats | awk '$1 == "TCP" {print $3}')" 0
adm --set 600 60 200 || fail "lvsadm --set failed"
assert_eq "--set" "$(adm -Ln --timeout)" "Timeout (tcp tcpfin udp): 600 60 200"

adm -Sn >"$E2E_TMP/before.rules"
adm -C || fail "lvsadm -C failed"
assert_eq "-C: no service left" "$(adm -Ln | grep -c '^TCP' || true)" 0
adm -R <"$E2E_TMP/before.rules" || fail "lvsadm -R failed"
adm -Sn >"$E2E_TMP/after.rules"
diff -u "$E2E_TMP/before.rules" "$E2E_TMP/after.rules" || fail "-R did not restore the table"
http_seq 6 "http://$VIP:80/" "$E2E_TMP/restored.out"
assert_eq "restored service answers" "$(count ERR "$E2E_TMP/restored.out")" 0
e2e_log "lvsadm -A -a -e -d -D -Z --set -C -R through the API"

curl -s --max-time 5 --unix-socket "$LVSD_SOCKET" http://lvsd/metrics >"$E2E_TMP/metrics.txt" ||
  fail "GET /metrics failed"
grep -qx "lvs_service_conns_total{service=\"TCP $VIP:80\"} 6" "$E2E_TMP/metrics.txt" ||
  fail "/metrics lacks the restored service's 6 connections"
# Debian's python3 (python3-prometheus-client, from scripts/install-deps.sh), whatever else is
# first on PATH.
pyprom=/usr/bin/python3
"$pyprom" -c 'import prometheus_client' 2>/dev/null ||
  fail "python3-prometheus-client is missing (scripts/install-deps.sh installs it)"
fams=$("$pyprom" - "$E2E_TMP/metrics.txt" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
fams = list(text_string_to_metric_families(open(sys.argv[1]).read()))
assert len(fams) > 10, "too few metric families"
assert all(f.documentation and f.type in ("counter", "gauge") for f in fams)
print(len(fams))
PY
) || fail "/metrics does not parse as Prometheus text"
e2e_log "/metrics: $fams families, parsed by prometheus_client, each with HELP and TYPE"
curl -s --max-time 5 --unix-socket "$LVSD_SOCKET" -o /dev/null -w '%{http_code}' \
  http://lvsd/v1/nothing >"$E2E_TMP/404.out"
assert_eq "unknown resource" "$(cat "$E2E_TMP/404.out")" 404

lb_stop || fail "lvsd did not exit cleanly on SIGTERM"
[ ! -e "$LVSD_SOCKET" ] || fail "lvsd left its control socket behind"
set +e
err=$(adm -Ln 2>&1)
rc=$?
set -e
assert_eq "no lvsd: status" "$rc" 1
case $err in "Can't reach lvsd at $LVSD_SOCKET"*) ;; *) fail "no lvsd: unclear message: $err" ;; esac
