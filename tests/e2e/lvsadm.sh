#!/usr/bin/env bash
# lvsadm against a running lvsd over its control socket, after real traffic:
#   VIP:80 rr NAT to three nginx servers (weights 1, 2, 3), 30 curl requests (5/10/15), then
#   - lvsadm -Ln           ipvsadm's table byte for byte: version line with the table size, the
#                          service, its servers sorted as ipvsadm sorts them, 0 active and the
#                          finished connections as InActConn
#   - lvsadm -L, -S        without -n: names from a hosts file (/etc/netns/<ns>/hosts, lvsadm
#                          run in a namespace of its own) and ports by /etc/services' names;
#                          -A/-a/-L/-D with NAME:http; ipvsadm's messages for unknown names
#   - lvsadm -Ln --stats   the Conns column per server (5, 10, 15) and for the service (30)
#   - lvsadm -Ln --rate    the estimator's rates, as GET /v1/state has them
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

# Names, as ipvsadm prints them without -n. lvsadm runs in a namespace of its own ("adm"; only
# the control socket matters to it), where `ip netns exec` puts /etc/netns/<ns>/hosts over
# /etc/hosts and resolv.conf over /etc/resolv.conf: a name missing from the hosts file is asked
# of 127.0.0.1, which refuses at once, so nothing leaves the namespace.
ns_add adm
ADM_ETC=/etc/netns/$E2E_PREFIX-adm
ADM_ETC_NETNS_MADE=
adm_cleanup() {  # the hosts files, then lib.sh's cleanup with the test's status
  local rc=$?
  set +e
  if [ "$BASHPID" = $$ ]; then
    rm -rf "$ADM_ETC"
    [ -z "$ADM_ETC_NETNS_MADE" ] || rmdir /etc/netns 2>/dev/null
  fi
  (exit "$rc")
  e2e_cleanup
}
trap adm_cleanup EXIT
# Left behind by a run that was killed (its PID gone), as e2e_reap_stale does for namespaces.
for d in /etc/netns/"${E2E_PREFIX%-*}"-[0-9]*-adm; do
  [ -d "$d" ] || continue
  pid=${d#/etc/netns/"${E2E_PREFIX%-*}"-}
  pid=${pid%-adm}
  [ -d "/proc/$pid" ] || rm -rf "$d"
done
[ -d /etc/netns ] || ADM_ETC_NETNS_MADE=1
mkdir -p "$ADM_ETC"
SPARE_IP=198.18.3.50  # a service address of the names test only
printf '%s\n' "127.0.0.1 localhost" \
  "$VIP vip.lvsadm.test vip" \
  "${RS_IPS[0]} web1.lvsadm.test web1" \
  "${RS_IPS[1]} web2.lvsadm.test web2" \
  "$SPARE_IP spare.lvsadm.test spare" >"$ADM_ETC/hosts"
printf '%s\n' "nameserver 127.0.0.1" "options timeout:1 attempts:1" >"$ADM_ETC/resolv.conf"
# Port 80 is "http" in /etc/services (netbase); a system without it gets one for the namespace.
if [ "$(getent services 80/tcp | awk '{print $1}')" != http ]; then
  printf '%s\n' "http 80/tcp www" >"$ADM_ETC/services"
fi
nadm() { nsx adm "$LVSADM" "$@"; }
nsx adm getent hosts web1 >/dev/null || fail "the namespace's hosts file is not in use"

# ipvsadm's print_service_entry formats: "%s %s" and "  -> %-28s %-7s %-6d %-10u %-10u".
nadm -L >"$E2E_TMP/names.out" || fail "lvsadm -L failed"
{
  printf '%s\n' "IP Virtual Server version 1.2.1 (size=$size)" \
    "Prot LocalAddress:Port Scheduler Flags" \
    "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn" \
    "TCP  vip.lvsadm.test:http wrr"
  printf '  -> %-28s %-7s %-6d %-10u %-10u\n' \
    web1.lvsadm.test:http Masq 1 0 5 \
    web2.lvsadm.test:http Masq 2 0 10 \
    "${RS_IPS[2]}:http" Masq 3 0 15
} >"$E2E_TMP/names.want"
diff -u "$E2E_TMP/names.want" "$E2E_TMP/names.out" || fail "lvsadm -L does not print names"
nadm -S >"$E2E_TMP/names-save.out" || fail "lvsadm -S failed"
printf '%s\n' "-A -t vip.lvsadm.test:http -s wrr" \
  "-a -t vip.lvsadm.test:http -r web1.lvsadm.test:http -m -w 1" \
  "-a -t vip.lvsadm.test:http -r web2.lvsadm.test:http -m -w 2" \
  "-a -t vip.lvsadm.test:http -r ${RS_IPS[2]}:http -m -w 3" >"$E2E_TMP/names-save.want"
diff -u "$E2E_TMP/names-save.want" "$E2E_TMP/names-save.out" || fail "lvsadm -S does not save names"
# -n still prints numbers, names or not.
nadm -Ln >"$E2E_TMP/ln-adm.out" || fail "lvsadm -Ln in the names namespace failed"
diff -u "$E2E_TMP/ln.want" "$E2E_TMP/ln-adm.out" || fail "lvsadm -Ln printed names"

# Names on the command line: hosts by gethostbyname (an alias here), ports by getservbyname.
nadm -A -t spare:http -s rr || fail "lvsadm -A -t spare:http failed"
nadm -a -t spare:http -r web1:http -m -w 2 || fail "lvsadm -a -r web1:http failed"
{
  printf '%s\n' "Prot LocalAddress:Port Scheduler Flags" \
    "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn" \
    "TCP  $SPARE_IP:80 rr"
  printf '  -> %-28s %-7s %-6d %-10u %-10u\n' "${RS_IPS[0]}:80" Masq 2 0 0
} >"$E2E_TMP/spare.want"
adm -Ln -t "$SPARE_IP:80" >"$E2E_TMP/spare.out" || fail "the service added by name is missing"
diff -u "$E2E_TMP/spare.want" "$E2E_TMP/spare.out" || fail "-A/-a by name: wrong service"
assert_eq "-L -t NAME:SERVICE" "$(nadm -L -t spare.lvsadm.test:http)" \
  "$(printf '%s\n' "Prot LocalAddress:Port Scheduler Flags" \
    "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn" \
    "TCP  spare.lvsadm.test:http rr"
  printf '  -> %-28s %-7s %-6d %-10u %-10u' web1.lvsadm.test:http Masq 2 0 0)"
# ipvsadm's messages for names that do not resolve.
expect_error "unknown host" 2 "illegal virtual server address[:port] specified" \
  nadm -A -t nosuch:http
expect_error "unknown service name" 2 "illegal virtual server address[:port] specified" \
  nadm -A -t spare:nosuchservice
expect_error "unknown real server" 2 "illegal real server address[:port] specified" \
  nadm -a -t spare:http -r nosuch:http
nadm -D -t spare:http || fail "lvsadm -D -t spare:http failed"
expect_error "service deleted by name" 1 "No such service" nadm -L -t spare:http
e2e_log "lvsadm without -n: names from the hosts file and /etc/services; -A/-a/-D by name"

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

# --rate: the estimator's figures from GET /v1/state ("rates"). It samples every 2 s from a
# baseline taken at its first sample, so the load runs until a sample has seen some of it;
# then lvsadm is read between two equal answers, so no sample falls in between.
state_rates() {  # "NAME CPS INPPS OUTPPS INBPS OUTBPS" of VIP:80 and its servers, sorted
  curl -s --max-time 5 --unix-socket "$LVSD_SOCKET" http://lvsd/v1/state |
    jq -r --arg k "TCP $VIP:80" '
      def figures: .rates | "\(.cps) \(.inpps) \(.outpps) \(.inbps) \(.outbps)";
      .services[] | select(.key == $k) |
      "TCP \(.addr):\(.port) \(figures)", (.dests[] | "\(.addr):\(.port) \(figures)")' |
    sort
}
rates_seen() {
  local inpps
  inpps=$(state_rates | awk '$1 == "TCP" {print $4}')
  [ "${inpps:-0}" -gt 0 ]
}
deadline=$((SECONDS + 10))
until rates_seen; do
  ((SECONDS < deadline)) || fail "lvsd's rates of VIP:80 stay 0 under load"
  http_seq 5 "http://$VIP:80/" "$E2E_TMP/rate-load.out"
done
for _ in 1 2 3; do
  before=$(state_rates)
  adm -Ln --rate >"$E2E_TMP/rate.out" || fail "lvsadm -Ln --rate failed"
  [ "$(state_rates)" = "$before" ] && break
done
assert_eq "--rate title" "$(sed -n 2p "$E2E_TMP/rate.out")" \
  "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS"
# The service line as "TCP ADDR:PORT" and the figures; the servers' lines (after the title).
listed=$(awk '$1 == "TCP" {print $1, $2, $3, $4, $5, $6, $7}
  NR > 3 && $1 == "->" {print $2, $3, $4, $5, $6, $7}' "$E2E_TMP/rate.out" | sort)
assert_eq "--rate figures" "$listed" "$before"
e2e_log "lvsadm -Ln --rate: lvsd's rates ($(awk '$1 == "TCP"' <<<"$before"))"

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
