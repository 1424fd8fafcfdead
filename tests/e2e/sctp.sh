#!/usr/bin/env bash
# SCTP through VS/NAT, IPv4 and IPv6. The kernel needs no SCTP module: sctp_peer.py crafts
# SCTP on raw IP sockets (its own CRC32c) on the client and on every real server, which answers
# each association's DATA with its name. One association per client port:
# INIT, COOKIE ECHO, DATA "hello" (answered by the server's name), SACK, SHUTDOWN, SHUTDOWN
# COMPLETE.
#   SCTP VIP:5000 rr        -> rs:5000   30 associations -> 10 / 10 / 10
#   SCTP VIP:6000 rr        -> rs:5000    9 associations ->  3 /  3 /  3 (ports rewritten, so
#                                         lvsd patches the CRC32c both ways)
#   SCTP [VIP6]:5000, :6000 the same over IPv6, 15 -> 5 / 5 / 5 and 6 -> 2 / 2 / 2
# The real servers count every packet whose CRC32c is wrong and ignore it: they must count none
# from lvsd (and exactly the one sent to rs1 directly with a broken CRC, to show they would).
# lvsd's stats: conns per service and real server, all closed (inactive) after SHUTDOWN
# COMPLETE, no bad_l4_header drops; a DATA chunk to the VIP without an INIT gets no answer and
# is counted as no_connection.
# Topology: see lib.sh. No nftables stand-in (lvsd only).
source "$(dirname "$0")/lib.sh"

e2e_init sctp
e2e_require python3 timeout
lb_require
lb_is_lvsd || skip "SCTP has no nftables stand-in"
# With a kernel SCTP stack, the kernel would answer our crafted packets too (ABORT).
[ ! -d /proc/sys/net/sctp ] || skip "the kernel has SCTP; this test crafts SCTP on raw sockets"

PEER=$(cd "$(dirname "$0")" && pwd)/sctp_peer.py
python3 "$PEER" selftest >"$E2E_TMP/selftest.log" 2>&1 || fail "sctp_peer.py selftest: $(cat "$E2E_TMP/selftest.log")"

topo_create --ipv6
topo_mode nat
RS_PIDS=()
for i in "${!RS_NAMES[@]}"; do
  rs=${RS_NAMES[$i]}
  bg "$rs" "$E2E_TMP/sctp-$rs.log" python3 -u "$PEER" server --addr "${RS_IPS[$i]}" \
    --addr "${RS_IP6S[$i]}" --port 5000 --name "$rs" --max-seconds "${E2E_TIMEOUT:-150}"
  RS_PIDS+=("$BG_PID")
done
for rs in "${RS_NAMES[@]}"; do
  wait_for 5 grep -q '^ready' "$E2E_TMP/sctp-$rs.log" || fail "sctp_peer.py server on $rs did not start"
done
topo_warmup

for vip in "$VIP" "$VIP6"; do
  ips=("${RS_IPS[@]}")
  [[ $vip == *:* ]] && ips=("${RS_IP6S[@]}")
  for vport in 5000 6000; do
    svc_add SCTP "$vip" "$vport" rr NAT
    for ip in "${ips[@]}"; do dest_add "$ip" 5000; done
  done
done
lb_start

# associate NAME VIP PORT COUNT SRC_PORT_BASE: one line per association in $E2E_TMP/NAME.out
# (the server's name, or ERR); the client's own lines, reasons included, in NAME.log.
associate() {
  local what=$1 vip=$2 port=$3 n=$4 base=$5
  nsx client timeout 60 python3 "$PEER" client --vip "$vip" --port "$port" --count "$n" \
    --src-port-base "$base" --timeout 3 --max-seconds 10 >"$E2E_TMP/$what.log" 2>&1 || true
  grep -v '^client: ' "$E2E_TMP/$what.log" | sed 's/^ERR .*/ERR/' >"$E2E_TMP/$what.out"
  e2e_log "$what: $(grep '^client: ' "$E2E_TMP/$what.log" || echo 'client printed no summary')"
  if grep -q '^ERR ' "$E2E_TMP/$what.log"; then
    e2e_log "$what errors: $(grep '^ERR ' "$E2E_TMP/$what.log" | sort | uniq -c | tr '\n' ';')"
  fi
}

associate v4 "$VIP" 5000 30 40000
expect_spread "SCTP IPv4 rr, 30 associations" "$E2E_TMP/v4.out" 10 10 10
associate v4-nat-port "$VIP" 6000 9 40100
expect_spread "SCTP IPv4 rr, VIP port 6000 -> 5000" "$E2E_TMP/v4-nat-port.out" 3 3 3
associate v6 "$VIP6" 5000 15 41000
expect_spread "SCTP IPv6 rr, 15 associations" "$E2E_TMP/v6.out" 5 5 5
associate v6-nat-port "$VIP6" 6000 6 41100
expect_spread "SCTP IPv6 rr, VIP port 6000 -> 5000" "$E2E_TMP/v6-nat-port.out" 2 2 2

stats_refresh
e2e_log "drops: $(jq -c '.drops | with_entries(select(.value > 0))' "$STATS_NOW")"
check_service() {  # KEY ASSOCIATIONS RS_ADDR...
  local key=$1 n=$2 ip
  shift 2
  assert_eq "$key conns" "$(stat_svc "$key" .stats.conns)" "$n"
  # Per association at least INIT, COOKIE ECHO, DATA, SACK, SHUTDOWN, SHUTDOWN COMPLETE in and
  # INIT ACK, COOKIE ACK, SACK+DATA, SHUTDOWN ACK out (more if something was retransmitted).
  assert_ge "$key inpkts" "$(stat_svc "$key" .stats.inpkts)" $((6 * n))
  assert_ge "$key outpkts" "$(stat_svc "$key" .stats.outpkts)" $((4 * n))
  for ip in "$@"; do
    assert_eq "$key $ip conns" "$(stat_dest "$key" "$ip" .stats.conns)" $((n / 3))
    # SHUTDOWN COMPLETE closed them all: none active (ESTABLISHED), all inactive.
    assert_eq "$key $ip active_conns" "$(stat_dest "$key" "$ip" .active_conns)" 0
    assert_eq "$key $ip inactive_conns" "$(stat_dest "$key" "$ip" .inactive_conns)" $((n / 3))
  done
}
check_service "SCTP $VIP:5000" 30 "${RS_IPS[@]}"
check_service "SCTP $VIP:6000" 9 "${RS_IPS[@]}"
check_service "SCTP [$VIP6]:5000" 15 "${RS_IP6S[@]}"
check_service "SCTP [$VIP6]:6000" 6 "${RS_IP6S[@]}"
assert_eq "total conns" "$(stat_get .total.conns)" 60
assert_eq "drops bad_l4_header" "$(stat_get .drops.bad_l4_header)" 0

# A DATA chunk from a port that sent no INIT: IPVS schedules SCTP on INIT only.
no_conn=$(stat_get .drops.no_connection)
answer=$(nsx client timeout 10 python3 "$PEER" stray --dst "$VIP" --port 5000 --src-port 42000 \
  --chunk data --wait 1) || true
assert_eq "DATA without INIT: answer" "$answer" NOANSWER
stats_refresh
assert_eq "DATA without INIT: drops no_connection" \
  "$(($(stat_get .drops.no_connection) - no_conn))" 1
assert_eq "DATA without INIT: no connection made" "$(stat_get .total.conns)" 60
assert_eq "drops bad_l4_header" "$(stat_get .drops.bad_l4_header)" 0

# The servers' CRC check at work: an INIT with a broken CRC32c straight to rs1 (by the router,
# not lvsd) is counted there and not answered.
answer=$(nsx client timeout 10 python3 "$PEER" stray --dst "${RS_IPS[0]}" --port 5000 \
  --src-port 42001 --chunk init --bad-crc --wait 1) || true
assert_eq "INIT with a bad CRC to rs1: answer" "$answer" NOANSWER

# Stop the servers; each prints its counters on SIGTERM.
for p in "${RS_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
for p in "${RS_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
server_stat() {  # RS FIELD: from the server's last stats line
  grep '^stats ' "$E2E_TMP/sctp-$1.log" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$2=//p"
}
for i in "${!RS_NAMES[@]}"; do
  rs=${RS_NAMES[$i]}
  e2e_log "$rs: $(grep '^stats ' "$E2E_TMP/sctp-$rs.log" | tail -n 1)"
  want_bad=0
  [ "$i" = 0 ] && want_bad=1
  assert_eq "$rs bad CRC32c" "$(server_stat "$rs" bad_crc)" "$want_bad"
  assert_eq "$rs bad verification tags" "$(server_stat "$rs" bad_vtag)" 0
  assert_eq "$rs malformed packets" "$(server_stat "$rs" malformed)" 0
  assert_eq "$rs associations established" "$(server_stat "$rs" established)" 20
  assert_eq "$rs associations shut down" "$(server_stat "$rs" completed)" 20
done
lb_stop || fail "lvsd did not exit cleanly on SIGTERM"
