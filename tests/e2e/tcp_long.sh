#!/usr/bin/env bash
# One long TCP session through VS/NAT: socat on the client sends a 0.5 KB line every 100 ms for
# 8 s, the real server (socat) says its name and echoes every byte back. Checks that data flows
# both ways during the session (not only at its end), that the session ends normally, and that
# what came back is exactly what was sent. With lvsd, the connection is counted active on its
# real server while it lasts, and the rate estimator shows its bytes and packets per second.
# Topology: see lib.sh.
source "$(dirname "$0")/lib.sh"

e2e_init tcp_long
e2e_require socat od
lb_require

topo_create
topo_mode nat
rs_start_tcp_echo 9000
topo_warmup

svc_add TCP "$VIP" 9000 rr NAT
for ip in "${RS_IPS[@]}"; do dest_add "$ip" 9000; done
lb_start

lines=80
in=$E2E_TMP/sent.txt
out=$E2E_TMP/received.txt
for ((i = 1; i <= lines; i++)); do
  printf 'line %03d %s\n' "$i" "$(od -An -tx1 -N256 /dev/urandom | tr -d ' \n')"
done >"$in"

bg client "$E2E_TMP/session.log" bash -c '
  while IFS= read -r l; do printf "%s\n" "$l"; sleep 0.1; done <"$1" |
    socat -t 5 -T 20 - "TCP:$2:9000" >"$3"' _ "$in" "$VIP" "$out"
session=$BG_PID

sleep 4
mid=$(wc -l <"$out")
server=$(head -n1 "$out")
e2e_log "after 4 s: $mid lines back from '$server'"
assert_ge "lines echoed within the first 4 s" "$mid" 10
case " ${RS_NAMES[*]} " in *" $server "*) ;; *) fail "first line '$server' is not a real server's name" ;; esac

if lb_is_lvsd; then
  stats_refresh
  key="TCP $VIP:9000"
  for i in "${!RS_NAMES[@]}"; do
    [ "${RS_NAMES[$i]}" = "$server" ] || continue
    assert_eq "$key ${RS_IPS[$i]} active_conns mid-session" \
      "$(stat_dest "$key" "${RS_IPS[$i]}" .active_conns)" 1
  done
  assert_eq "$key conns mid-session" "$(stat_svc "$key" .stats.conns)" 1
  # IPVS's estimator (2 s samples, 1/4 weight): ~5.6 KB/s each way has shown up by now, on the
  # service and on the server that carries it, and lvsadm --rate prints the same figures.
  e2e_log "rates mid-session: $(stat_svc "$key" .rates | tr -d ' \n')"
  assert_ge "$key rates.inbps mid-session" "$(stat_svc "$key" .rates.inbps)" 500
  assert_ge "$key rates.outbps mid-session" "$(stat_svc "$key" .rates.outbps)" 500
  assert_ge "$key rates.inpps mid-session" "$(stat_svc "$key" .rates.inpps)" 1
  assert_eq "$key rates.cps (one connection in 4 s)" "$(stat_svc "$key" .rates.cps)" 0
  for i in "${!RS_NAMES[@]}"; do
    [ "${RS_NAMES[$i]}" = "$server" ] || continue
    assert_ge "$key ${RS_IPS[$i]} rates.inbps mid-session" \
      "$(stat_dest "$key" "${RS_IPS[$i]}" .rates.inbps)" 500
  done
fi

rc=0
wait "$session" || rc=$?
assert_eq "client socat exit status" "$rc" 0
tail -n +2 "$out" >"$E2E_TMP/echoed.txt"
cmp "$in" "$E2E_TMP/echoed.txt" || fail "echoed data differs from what was sent"
e2e_log "ok: $(wc -c <"$in") bytes echoed intact by $server"

if lb_is_lvsd; then
  stats_refresh
  key="TCP $VIP:9000"
  assert_eq "$key conns" "$(stat_svc "$key" .stats.conns)" 1
  assert_gt "$key inpkts" "$(stat_svc "$key" .stats.inpkts)" "$lines"
  assert_gt "$key outpkts" "$(stat_svc "$key" .stats.outpkts)" "$lines"
  assert_ge "$key inbytes" "$(stat_svc "$key" .stats.inbytes)" "$(wc -c <"$in")"
  assert_ge "$key outbytes" "$(stat_svc "$key" .stats.outbytes)" "$(wc -c <"$out")"
  assert_eq "$key active_conns after the end" "$(stat_svc "$key" '[.dests[].active_conns] | add')" 0
fi
