#!/usr/bin/env bash
# Draining a real server by reconfiguration (VS/NAT):
#   1. a long socat session (8 s, a line every 100 ms, echoed) lands on some server S; its
#      first answer line names S;
#   2. the config is rewritten without S (in both services) and lvsd gets SIGHUP;
#   3. 60 new HTTP requests never reach S: 30 / 30 over the two others (rr);
#   4. the long session keeps exchanging data after the reload and ends normally, with every
#      byte echoed intact (a removed real server keeps its established connections);
#   5. (lvsd) a broken config on SIGHUP is refused: lvsd keeps running with the old one.
# Topology: see lib.sh.
source "$(dirname "$0")/lib.sh"

e2e_init drain
e2e_require curl socat od nginx
lb_require

topo_create
topo_mode nat
rs_start_nginx 80
rs_start_tcp_echo 9000
topo_warmup

for port in 80 9000; do
  svc_add TCP "$VIP" "$port" rr NAT
  for ip in "${RS_IPS[@]}"; do dest_add "$ip" "$port"; done
done
lb_start

lines=80
in=$E2E_TMP/sent.txt
out=$E2E_TMP/received.txt
for ((i = 1; i <= lines; i++)); do
  printf 'line %03d %s\n' "$i" "$(od -An -tx1 -N64 /dev/urandom | tr -d ' \n')"
done >"$in"
bg client "$E2E_TMP/session.log" bash -c '
  while IFS= read -r l; do printf "%s\n" "$l"; sleep 0.1; done <"$1" |
    socat -t 5 -T 20 - "TCP:$2:9000" >"$3"' _ "$in" "$VIP" "$out"
session=$BG_PID

wait_for 5 test -s "$out" || fail "the long session got no answer"
sleep 1
server=$(head -n1 "$out")
s_ip=
for i in "${!RS_NAMES[@]}"; do [ "${RS_NAMES[$i]}" = "$server" ] && s_ip=${RS_IPS[$i]}; done
[ -n "$s_ip" ] || fail "first line '$server' is not a real server's name"
e2e_log "long session is on $server ($s_ip); removing it from the config"

dest_del "$s_ip"
lb_reload
at_reload=$(wc -l <"$out")

http_seq 60 "http://$VIP:80/" "$E2E_TMP/after.out"
e2e_log "after the reload: $(show_spread "$E2E_TMP/after.out")"
assert_eq "requests answered by the removed $server" "$(count "$server" "$E2E_TMP/after.out")" 0
assert_eq "failed requests" "$(count ERR "$E2E_TMP/after.out")" 0
for rs in "${RS_NAMES[@]}"; do
  [ "$rs" = "$server" ] && continue
  assert_eq "requests answered by $rs" "$(count "$rs" "$E2E_TMP/after.out")" 30
done

sleep 1
after=$(wc -l <"$out")
assert_gt "session lines echoed after the reload" "$after" "$at_reload"

rc=0
wait "$session" || rc=$?
assert_eq "long session's socat exit status" "$rc" 0
tail -n +2 "$out" >"$E2E_TMP/echoed.txt"
cmp "$in" "$E2E_TMP/echoed.txt" || fail "the long session's echo differs from what was sent"
e2e_log "ok: long session on the removed $server ended normally, $(wc -c <"$in") bytes intact"

if lb_is_lvsd; then
  stats_refresh
  assert_eq "TCP $VIP:80 conns" "$(stat_svc "TCP $VIP:80" .stats.conns)" 60
  assert_eq "TCP $VIP:9000 conns" "$(stat_svc "TCP $VIP:9000" .stats.conns)" 1
  assert_eq "$server listed under TCP $VIP:80" \
    "$(stat_svc "TCP $VIP:80" "[.dests[] | select(.addr == \"$s_ip\")] | length")" 0

  # A broken config on SIGHUP is refused; the running one stays.
  good=$(cat "$LB_CONF")
  printf 'virtual_server %s 80 {\n    lb_algo nosuch\n' "$VIP" >"$LB_CONF"
  kill -HUP "$LB_PID"
  wait_for 5 grep -q "not reloaded" "$E2E_TMP/lvsd.log" ||
    fail "lvsd logged no refusal of the broken config"
  e2e_log "lvsd: $(grep -A1 "not reloaded" "$E2E_TMP/lvsd.log" | tail -n1 | sed "s|$E2E_TMP/||; s/^ *//")"
  kill -0 "$LB_PID" 2>/dev/null || fail "lvsd died on a broken config"
  stats_refresh
  assert_eq "real servers after a broken reload" "$(stats_dests | tr '\n' ' ')" "$(lb_model_dests | tr '\n' ' ')"
  http_seq 30 "http://$VIP:80/" "$E2E_TMP/broken.out"
  e2e_log "after a broken reload: $(show_spread "$E2E_TMP/broken.out")"
  assert_eq "failed requests after a broken reload" "$(count ERR "$E2E_TMP/broken.out")" 0
  assert_eq "requests answered by the removed $server" "$(count "$server" "$E2E_TMP/broken.out")" 0
  printf '%s\n' "$good" >"$LB_CONF"
  lb_stop || fail "lvsd did not exit cleanly on SIGTERM"
fi
