#!/usr/bin/env bash
# What lvsd does with its checkers' verdicts (VS/NAT, nginx on every real server answering its
# name). MISC_CHECK scripts whose exit status the test sets (state files, or a queue of codes)
# drive most of it:
#   VIP:80 rr   quorum 2, hysteresis 1, sorry_server rs3:8080 ("sorry"), quorum_up/quorum_down and
#               notify_up/notify_down scripts writing to a file: two servers down keep the quorum
#               (live weight 1 >= 2 - 1); the third down brings the sorry server in alone; two back
#               are not enough (2 < 2 + 1); the third back takes it out. Requests through the VIP
#               right after each change are answered by the right servers, each within 500 ms
#               (a server new to the engine must answer the client's first SYN)
#   VIP:81 rr   inhibit_on_failure: a failed server stays with weight 0 and gets no new connection
#   VIP:82 wrr  MISC_CHECK misc_dynamic: exit 1 removes the server (timed against its bound, with
#               traffic), exit 5 sets weight 3 (30 requests: 18/6/6), exit 2 weight 0, exit 0 the
#               configured weight again
#   VIP:83 wrr  FILE_CHECK on rs1 (track_file weight 2): 3 in the file -> weight 7, 0 -> 1,
#               -200 -> fault (removed), 0 -> back
#   VIP:84 rr   alpha: rs1 (alpha, failing) is out from the start and comes in on its first
#               success (and answers at once); rs2 (no alpha, failing slowly) is in until its
#               first failure
#   VIP:85 rr   rise 3: a flapping rs1 (ok, ok, fail, ok, ok, ok) returns only on the third
#               success in a row
source "$(dirname "$0")/health_lib.sh"

e2e_init health_policy
e2e_require nginx
hl_require

topo_create
topo_mode nat
rs_start_nginx 80 81 82 83 84 85
hl_nginx rs3 sorry 8080 http sorry
topo_warmup

T=$E2E_TMP
mkdir -p "$T/state" "$T/queue"
# misc.sh NAME: exit with the first line of queue/NAME (taken off), else with state/NAME
# (default 0); "SECONDS:CODE" sleeps first. Each call is logged: "MS NAME CODE".
cat >"$T/misc.sh" <<EOF
#!/bin/sh
n=\$1
code=
if [ -s "$T/queue/\$n" ]; then
  code=\$(head -n1 "$T/queue/\$n")
  tail -n +2 "$T/queue/\$n" >"$T/queue/\$n.tmp"
  mv "$T/queue/\$n.tmp" "$T/queue/\$n"
fi
[ -n "\$code" ] || code=\$(cat "$T/state/\$n" 2>/dev/null || echo 0)
case \$code in *:*) sleep "\${code%%:*}"; code=\${code#*:} ;; esac
echo "\$(date +%s%3N) \$n \$code" >>"$T/calls.log"
exit "\$code"
EOF
# note.sh WORDS: notify and quorum scripts append "MS WORDS" to notify.log.
cat >"$T/note.sh" <<EOF
#!/bin/sh
echo "\$(date +%s%3N) \$*" >>"$T/notify.log"
EOF
chmod 755 "$T/misc.sh" "$T/note.sh"
: >"$T/notify.log"
: >"$T/calls.log"
setst() { echo "$2" >"$T/state/$1"; }  # NAME CODE

# Initial states: alpha service: rs1 failing, rs2 failing after 1.5 s.
setst a1 1
setst a2 1.5:1
echo 0 >"$T/tf"

misc() {  # NAME [extra lines]: a MISC_CHECK block
  echo "MISC_CHECK {
            misc_path \"$T/misc.sh $1\"
            misc_timeout 3
            delay_loop 1
            connect_timeout 1
            retry ${2:-0}
            delay_before_retry ${3:-1}
            warmup 0
            ${4:-}
        }"
}
ip1=${RS_IPS[0]} ip2=${RS_IPS[1]} ip3=${RS_IPS[2]}
conf="
track_file tf {
    file $T/tf
    weight 2
}

virtual_server $VIP 80 {
    lb_algo rr
    lb_kind NAT
    protocol TCP
    quorum 2
    hysteresis 1
    quorum_up \"$T/note.sh quorum_up\"
    quorum_down \"$T/note.sh quorum_down\"
    sorry_server $ip3 8080"
for i in 1 2 3; do
  conf+="
    real_server ${RS_IPS[$((i - 1))]} 80 {
        weight 1
        notify_up \"$T/note.sh up rs$i\"
        notify_down \"$T/note.sh down rs$i\"
        $(misc q$i)
    }"
done
conf+="
}

virtual_server $VIP 81 {
    lb_algo rr
    lb_kind NAT
    protocol TCP
    inhibit_on_failure"
for i in 1 2 3; do
  conf+="
    real_server ${RS_IPS[$((i - 1))]} 81 {
        weight 1
        $(misc i$i)
    }"
done
conf+="
}

virtual_server $VIP 82 {
    lb_algo wrr
    lb_kind NAT
    protocol TCP"
for i in 1 2 3; do
  conf+="
    real_server ${RS_IPS[$((i - 1))]} 82 {
        weight 1
        $(misc m$i 1 1 misc_dynamic)
    }"
done
conf+="
}

virtual_server $VIP 83 {
    lb_algo wrr
    lb_kind NAT
    protocol TCP
    real_server $ip1 83 {
        weight 1
        FILE_CHECK {
            track_file tf
            delay_loop 1
        }
    }
    real_server $ip2 83 {
        weight 1
    }
    real_server $ip3 83 {
        weight 1
    }
}

virtual_server $VIP 84 {
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server $ip1 84 {
        weight 1
        alpha
        $(misc a1)
    }
    real_server $ip2 84 {
        weight 1
        $(misc a2)
    }
    real_server $ip3 84 {
        weight 1
    }
}

virtual_server $VIP 85 {
    lb_algo rr
    lb_kind NAT
    protocol TCP"
for i in 1 2 3; do
  conf+="
    real_server ${RS_IPS[$((i - 1))]} 85 {
        weight 1
        $(misc r$i 0 0.5 "rise 3")
    }"
done
conf+="
}
"
hl_start "$conf"

# ---------------------------------------------------------------------------------------------
# alpha: at once, rs1 (alpha) is out and rs2 (no alpha, its first check still running) is in.
svc="TCP $VIP:84"
start_dests=$(hl_dests "$svc" | awk '{print $1}' | sort | tr '\n' ' ')
e2e_log "alpha service right after the start ($(($(hl_ms) - HL_T_START)) ms after lvsd was ready): $start_dests"
assert_eq "alpha: servers at the start" "$start_dests" "$ip2:84 $ip3:84 "
# rs2 leaves on its first failure; rs1 never comes in while it fails.
t_end=$(($(hl_ms) + 5000))
while [ "$(hl_weight "$svc" "$ip2:84")" != absent ]; do
  [ "$(hl_weight "$svc" "$ip1:84")" = absent ] || fail "alpha: rs1 came in before any success"
  (($(hl_ms) < t_end)) || fail "alpha: rs2 (failing) was not removed within 5 s"
  sleep 0.1
done
e2e_log "ok: alpha: rs2 (no alpha) removed on its first failure, $(($(hl_ms) - HL_T_START)) ms after lvsd was ready"
sleep 1
assert_eq "alpha: rs1 still out after failing checks" "$(hl_weight "$svc" "$ip1:84")" absent
assert_eq "alpha: rs1 in /v1/health" "$(hl_check_field "$svc" "$ip1:84" MISC_CHECK '"\(.up) \(.attempts >= 1)"')" "false true"
setst a1 0
t0=$(hl_ms)
until [ "$(hl_weight "$svc" "$ip1:84")" = 1 ]; do
  (($(hl_ms) < t0 + 3000)) || fail "alpha: rs1 did not come in after its script succeeded"
  sleep 0.05
done
d=$(($(hl_ms) - t0))
e2e_log "alpha: rs1 in $d ms after its check started to pass"
# The bound hl_fault gives a return: delay_loop + the attempt (1 s) + slack.
assert_le "alpha: ms for rs1 to come in on its first success" "$d" $((2000 + HL_SLACK_MS))
# Traffic reaches it at once: rr over rs1 and rs3 (rs2 is out), 4 requests, 2 each, each
# answered well within the client's first SYN retransmission (1 s).
nsx client bash -c 'for i in 1 2 3 4; do
    r=$(curl -s --max-time 3 -w " %{time_total}" "$1") || r="ERR ${r##* }"
    echo "$r" | tr -d "\n"; echo; done' _ "http://$VIP:84/" >"$T/alpha.raw"
awk '{print $1}' "$T/alpha.raw" >"$T/alpha.out"
slowest=$(awk '{ms = int($2 * 1000); if (ms > m) m = ms} END {print m + 0}' "$T/alpha.raw")
e2e_log "alpha: 4 requests right after rs1 came in: $(show_spread "$T/alpha.out"), slowest $slowest ms"
assert_eq "alpha: failed requests right after rs1 came in" "$(count ERR "$T/alpha.out")" 0
assert_eq "alpha: answers from rs1 right after it came in" "$(count rs1 "$T/alpha.out")" 2
assert_le "alpha: slowest of those requests (ms)" "$slowest" 500
setst a2 0
hl_wait_all_up 5

# ---------------------------------------------------------------------------------------------
# MISC_CHECK: exit 1 removes the server (retry 1, delay_before_retry 1, misc_timeout 3: the
# script answers at once, so the bound is delay_loop + retry * delay_before_retry + 1 s).
HL_TRAFFIC=$(hl_cmd_http "$VIP:82")
hl_fault "MISC exit 1" "TCP $VIP:82" "$ip1:82" MISC_CHECK fast \
  'setst m1 1' 'setst m1 0' 'exited with status 1'
HL_TRAFFIC=

# misc_dynamic: exit 2 + N sets weight N.
svc="TCP $VIP:82"
wait_weight() {  # SVC SERVER WEIGHT WHAT
  local t0
  t0=$(hl_ms)
  until [ "$(hl_weight "$1" "$2")" = "$3" ]; do
    (($(hl_ms) < t0 + 3000)) || fail "$4: $2 weight $(hl_weight "$1" "$2"), expected $3 (checks: $(hl_checks "$1" "$2"))"
    sleep 0.05
  done
  e2e_log "ok: $4: $2 weight $3 in lvsadm -Ln after $(($(hl_ms) - t0)) ms"
}
setst m1 5
wait_weight "$svc" "$ip1:82" 3 "misc_dynamic exit 5"
e2e_log "lvsadm -Ln -t $VIP:82: $(hl_dests "$svc" | tr '\n' ' ')"
http_seq 30 "http://$VIP:82/" "$T/dyn.out"
expect_spread "wrr with rs1 at weight 3" "$T/dyn.out" 18 6 6
setst m1 2
wait_weight "$svc" "$ip1:82" 0 "misc_dynamic exit 2"
assert_eq "exit 2: rs1's checker is up" "$(hl_check_field "$svc" "$ip1:82" MISC_CHECK .up)" true
setst m1 0
wait_weight "$svc" "$ip1:82" 1 "MISC exit 0 (the configured weight)"

# ---------------------------------------------------------------------------------------------
# FILE_CHECK: the file's number times the track_file's weight 2 added to weight 1.
svc="TCP $VIP:83"
echo 3 >"$T/tf"
wait_weight "$svc" "$ip1:83" 7 "FILE_CHECK 3 x 2"
http_seq 9 "http://$VIP:83/" "$T/file.out"
expect_spread "wrr with rs1 at weight 7" "$T/file.out" 7 1 1
echo 0 >"$T/tf"
wait_weight "$svc" "$ip1:83" 1 "FILE_CHECK 0"
echo -200 >"$T/tf"
wait_weight "$svc" "$ip1:83" absent "FILE_CHECK -200 x 2 (fault)"
e2e_log "FILE_CHECK fault: $(hl_check_field "$svc" "$ip1:83" FILE_CHECK '.last.detail')"
echo 0 >"$T/tf"
wait_weight "$svc" "$ip1:83" 1 "FILE_CHECK back to 0"

# ---------------------------------------------------------------------------------------------
# inhibit_on_failure: rs2 fails and stays with weight 0; it gets no new connection.
svc="TCP $VIP:81"
setst i2 1
t0=$(hl_ms)
wait_weight "$svc" "$ip2:81" 0 "inhibit_on_failure"
d=$(($(hl_ms) - t0))
assert_le "inhibit: ms to weight 0 (bound delay_loop + 1 s)" "$d" $((2000 + HL_SLACK_MS))
# (/v1/health's "weight" is the weight health gives, 1 here; the engine's 0 shows in lvsadm.)
assert_eq "inhibit: rs2:81 in /v1/health servers (alive configured_weight)" \
  "$(hl_server_field "$svc" "$ip2:81" '"\(.alive) \(.configured_weight)"')" "false 1"
stats_refresh
before=$(stat_dest "$svc" "$ip2" .stats.conns)
http_seq 30 "http://$VIP:81/" "$T/inhibit.out"
expect_spread "rr with rs2 at weight 0" "$T/inhibit.out" 15 0 15
stats_refresh
assert_eq "inhibit: new connections counted for rs2" "$(stat_dest "$svc" "$ip2" .stats.conns)" "$before"
setst i2 0
wait_weight "$svc" "$ip2:81" 1 "inhibit: rs2 back"

# ---------------------------------------------------------------------------------------------
# Quorum, hysteresis and the sorry server.
svc="TCP $VIP:80"
dests() { hl_dests "$svc" | awk '{print $1 "/" $2}' | sort | tr '\n' ' '; }
wait_dests() {  # WANT WHAT
  local t0
  t0=$(hl_ms)
  until [ "$(dests)" = "$1" ]; do
    (($(hl_ms) < t0 + 4000)) || fail "$2: lvsadm lists '$(dests)', expected '$1'"
    sleep 0.05
  done
  e2e_log "ok: $2: lvsadm -Ln lists $1 after $(($(hl_ms) - t0)) ms"
}
answers() {  # N: N requests through VIP:80, "count name" per answering server
  nsx client bash -c 'for ((i = 0; i < $1; i++)); do
      r=$(curl -s --max-time 3 -w " %{time_total}" "$2") || r="ERR ${r##* }"
      echo "$r" | tr -d "\n"; echo; done' _ "$1" "http://$VIP:80/" >"$T/q.raw"
  e2e_log "  request times (s): $(awk '{printf "%s ", $2}' "$T/q.raw")" >&2
  awk '{print $1}' "$T/q.raw" | sort | uniq -c | tr -s ' \n' ' '
}
# slowest_answer: the slowest request of the last answers() in ms; a server new to the engine
# must answer the first SYN (the client retransmits after 1 s).
slowest_answer() { awk '{ms = int($2 * 1000); if (ms > m) m = ms} END {print m + 0}' "$T/q.raw"; }
setst q1 1
setst q2 1
wait_dests "$ip3:80/1 " "rs1, rs2 down (live 1 >= quorum 2 - hysteresis 1)"
assert_eq "quorum kept: answers" "$(answers 6)" " 6 rs3 "
assert_eq "quorum kept: /v1/health (quorum live_weight sorry_in_use)" "$(hl_quorum "$svc")" "true 1 false"
setst q3 1
t0=$(hl_ms)
wait_dests "$ip3:8080/1 " "all down: the sorry server alone"
assert_eq "sorry: answers" "$(answers 6)" " 6 sorry "
assert_le "sorry: slowest request (ms)" "$(slowest_answer)" 500
assert_eq "quorum lost: /v1/health" "$(hl_quorum "$svc")" "false 0 true"
wait_for 3 grep -q quorum_down "$T/notify.log" || fail "quorum_down did not run"
setst q1 0
setst q2 0
wait_for 4 bash -c "[ \"\$(grep -c ' up rs[12]$' '$T/notify.log')\" = 2 ]" ||
  fail "notify_up did not run for rs1 and rs2: $(cat "$T/notify.log")"
sleep 1
assert_eq "rs1, rs2 alive (live 2 < quorum 2 + hysteresis 1): still the sorry server" "$(dests)" "$ip3:8080/1 "
assert_eq "no quorum_up yet" "$(grep -c quorum_up "$T/notify.log")" 0
assert_eq "two back, no quorum: /v1/health" "$(hl_quorum "$svc")" "false 2 true"
setst q3 0
wait_dests "$ip1:80/1 $ip2:80/1 $ip3:80/1 " "all back: quorum, the sorry server out"
wait_for 3 grep -q quorum_up "$T/notify.log" || fail "quorum_up did not run"
assert_eq "answers with quorum back" "$(answers 6)" " 2 rs1 2 rs2 2 rs3 "
assert_le "quorum back: slowest request (ms)" "$(slowest_answer)" 500
assert_eq "quorum back: /v1/health" "$(hl_quorum "$svc")" "true 3 false"
e2e_log "notify.log: $(awk '{$1=""; print}' "$T/notify.log" | tr '\n' ',')"
# Scripts of one event run side by side: order within each pair is free.
assert_eq "notify and quorum scripts, event by event" "$(awk '{$1=""; print substr($0, 2)}' "$T/notify.log" |
  paste -d, - - | while IFS=, read -r a b; do printf '%s\n%s\n' "$a" "$b" | sort | paste -sd+; done |
  tr '\n' ',')" "down rs1+down rs2,down rs3+quorum_down,up rs1+up rs2,quorum_up+up rs3,"

# ---------------------------------------------------------------------------------------------
# rise 3: rs1 of VIP:85 goes down, then flaps: ok, ok, fail, ok, ok, ok.
svc="TCP $VIP:85"
setst r1 1
wait_weight "$svc" "$ip1:85" absent "rise: rs1 down"
calls_before=$(wc -l <"$T/calls.log")
printf '0\n0\n1\n0\n0\n' >"$T/queue/r1.tmp"
mv "$T/queue/r1.tmp" "$T/queue/r1"
setst r1 0
t0=$(hl_ms)
samples=$T/rise.samples
: >"$samples"
while :; do
  # The time once the answer is in: a stamp taken before the query could precede the check
  # whose success the answer already shows.
  w=$(hl_weight "$svc" "$ip1:85")
  now=$(hl_ms)
  echo "$now $w" >>"$samples"
  [ "$w" = absent ] || break
  ((now < t0 + 8000)) || fail "rise: rs1 did not return within 8 s: $(hl_checks "$svc" "$ip1:85")"
  sleep 0.05
done
t_back=$now
seq=$(tail -n +"$((calls_before + 1))" "$T/calls.log" | awk '$2 == "r1" {print $1, $3}')
e2e_log "rise: rs1's checks after the flap began: $(awk '{print $2}' <<<"$seq" | tr '\n' ' ')"
t3=$(awk 'NR == 6 {print $1}' <<<"$seq")
[ -n "$t3" ] || fail "rise: rs1 returned before its sixth check (ok ok fail ok ok ok): $seq"
assert_eq "rise: the six checks" "$(awk 'NR <= 6 {print $2}' <<<"$seq" | tr '\n' ' ')" "0 0 1 0 0 0 "
# Every poll before the third success in a row saw rs1 absent; it came in within 600 ms of it.
assert_ge "rise: rs1 back not before its third success in a row (ms after)" $((t_back - t3)) 0
assert_le "rise: rs1 back after its third success in a row (ms after)" $((t_back - t3)) 600
grep -F "$ip1:85 of $svc: MISC_CHECK up" "$E2E_TMP/lvsd.log" | tail -n1 | grep -q "3 successes in a row" ||
  fail "rise: lvsd's up line does not say 3 successes in a row"
e2e_log "rise: $(grep -F "$ip1:85 of $svc: MISC_CHECK up" "$E2E_TMP/lvsd.log" | tail -n1 | cut -c1-200)"

hl_wait_all_up
hl_summary
lb_stop || fail "lvsd did not exit cleanly on SIGTERM"
