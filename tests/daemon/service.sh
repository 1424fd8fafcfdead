#!/usr/bin/env bash
# lvsd as a service, without any traffic (control plane only: no interface):
# - detached (the default): the shell gets 0 once lvsd serves, the pid file names it, lvsadm
#   works, TERM removes the pid file and the socket; a start that fails exits 1 with the reason
#   on stderr and leaves nothing behind; the API checks configs without applying them, pages
#   connections and names a bad query parameter; the TCP listener (127.0.0.1) is read-only;
# - systemd: the unit verifies with systemd-analyze, and lvsd tells $NOTIFY_SOCKET READY=1 and
#   STOPPING=1.
# - /metrics passes promtool's lint (`promtool check metrics`), when promtool is there.
# - health checks that send nothing (MISC_CHECK, FILE_CHECK): weights from misc_dynamic and the
#   tracked file, a failing script takes its server out (lvsadm --health says why), omega runs
#   notify_down and quorum_down at TERM.
# usage: service.sh LVSD LVSADM UNIT [PROMTOOL]
set -u
LVSD=$1 LVSADM=$2 UNIT=$3 PROMTOOL=${4:-}
T=$(mktemp -d /tmp/lvsd-service.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  [ -f "$T/lvsd.pid" ] && kill "$(cat "$T/lvsd.pid")" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cat >"$T/lvs.conf" <<'CONF'
virtual_server 198.18.0.10 80 {
  protocol TCP
  lb_algo wrr
  real_server 198.18.1.1 80 { weight 2 }
}
CONF
export LVSD_SOCKET=$T/lvsd.sock

# Detached.
"$LVSD" -f "$T/lvs.conf" --pid-file "$T/lvsd.pid" --log stderr 2>"$T/start.err" ||
  fail "detached start exited $?: $(cat "$T/start.err")"
[ -s "$T/lvsd.pid" ] || fail "no pid file"
pid=$(cat "$T/lvsd.pid")
kill -0 "$pid" || fail "pid $pid from the pid file is not running"
[ "$(ps -o sid= -p "$pid" | tr -d ' ')" = "$pid" ] || fail "lvsd is not in a session of its own"
out=$("$LVSADM" -Ln) || fail "lvsadm -Ln: $out"
grep -q "TCP  198.18.0.10:80 wrr" <<<"$out" || fail "lvsadm -Ln shows: $out"
# The API beside lvsadm: a config check that changes nothing, paged connections, bad queries.
api() { curl -s --unix-socket "$LVSD_SOCKET" "$@"; }
ok=$(printf 'virtual_server 198.18.0.11 80 {\n  protocol TCP\n  smtp_alert\n  real_server 198.18.1.2 80 {\n    TCP_CHECK {\n      connect_timeout 3\n    }\n  }\n}\n' |
  api -X POST --data-binary @- http://lvsd/v1/check)
/usr/bin/python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["ok"] and d["services"] == 1 and d["diagnostics"][0]["warning"], d' "$ok" ||
  fail "check of a good config: $ok"
bad=$(printf 'virtual_server 198.18.0.11 80 {\n  lb_algo nope\n}\n' | api -X POST --data-binary @- http://lvsd/v1/check)
grep -q '"ok":false' <<<"$bad" && grep -q "request:2:11: unknown scheduler 'nope'" <<<"$bad" ||
  fail "check of a broken config: $bad"
[ "$("$LVSADM" -Ln)" = "$out" ] || fail "a config check changed the table"
conns=$(api http://lvsd/v1/conns?limit=5)
[ "$conns" = '{"conns":[],"matched":0,"next_offset":null}' ] || fail "/v1/conns: $conns"
code=$(api -o "$T/q.out" -w '%{http_code}' "http://lvsd/v1/conns?vport=70000")
[ "$code" = 400 ] && grep -q "invalid vport '70000'" "$T/q.out" || fail "bad query: $code $(cat "$T/q.out")"

api http://lvsd/metrics >"$T/metrics.txt"
grep -q '^lvs_real_server_cps{service="TCP 198.18.0.10:80",server="198.18.1.1:80"} 0$' \
  "$T/metrics.txt" || fail "/metrics lacks the server's rate"
if [ -n "$PROMTOOL" ]; then
  lint=$("$PROMTOOL" check metrics <"$T/metrics.txt" 2>&1) || fail "promtool check metrics: $lint"
  echo "promtool check metrics: clean ($(grep -c '^# TYPE' "$T/metrics.txt") families)"
else
  echo "promtool missing (scripts/install-deps.sh fetches it): /metrics not linted"
fi

kill "$pid"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && fail "lvsd did not stop on TERM"
[ -e "$T/lvsd.pid" ] && fail "pid file left after TERM"
[ -e "$T/lvsd.sock" ] && fail "socket left after TERM"

# Health checks that send nothing (MISC_CHECK, FILE_CHECK): a failing script takes its server out
# and lvsadm --health says why; omega runs quorum_down and the up servers' notify_down at TERM.
cat >"$T/health.conf" <<CONF
track_file flag {
  file $T/flag
  weight 1
}
virtual_server 198.18.0.12 80 {
  protocol TCP
  delay_loop 1
  omega
  quorum_down "echo quorum_down >> $T/omega.out"
  real_server 198.18.1.1 80 {
    weight 2
    notify_down "echo notify_down 1 >> $T/omega.out"
    MISC_CHECK {
      misc_path "exit \$(cat $T/misc)"
      misc_dynamic
    }
  }
  real_server 198.18.1.2 80 {
    notify_down "echo notify_down 2 >> $T/omega.out"
    FILE_CHECK {
      track_file flag
    }
  }
}
CONF
echo 6 >"$T/misc"
echo 3 >"$T/flag"
"$LVSD" -n -f "$T/health.conf" --socket "$T/health.sock" 2>"$T/health.err" &
hp=$!
PIDS+=($hp)
export LVSD_SOCKET=$T/health.sock
weights=
for _ in $(seq 60); do
  weights=$("$LVSADM" -Ln 2>/dev/null | awk '/->/ && $2 ~ /^198/ {print $2 "=" $4}' | tr '\n' ' ')
  [ "$weights" = "198.18.1.1:80=4 198.18.1.2:80=4 " ] && break
  sleep 0.1
done
[ "$weights" = "198.18.1.1:80=4 198.18.1.2:80=4 " ] ||
  fail "misc_dynamic 6 -> 4 and FILE_CHECK 3 x 1 + 1 -> 4 expected, lvsadm -Ln says: $weights"
echo 1 >"$T/misc"
for _ in $(seq 60); do
  "$LVSADM" -Ln | grep -q 198.18.1.1:80 || break
  sleep 0.1
done
"$LVSADM" -Ln | grep -q 198.18.1.1:80 && fail "MISC_CHECK exit 1 left the server in: $("$LVSADM" -Ln)"
"$LVSADM" --health | grep -E "MISC_CHECK +down .*status 1" >/dev/null ||
  fail "lvsadm --health: $("$LVSADM" --health)"
kill "$hp"
wait "$hp"
[ "$(cat "$T/omega.out" 2>/dev/null | tr '\n' ' ')" = "notify_down 1 notify_down 2 quorum_down " ] ||
  [ "$(cat "$T/omega.out" 2>/dev/null | sort | tr '\n' ' ')" = "notify_down 1 notify_down 2 quorum_down " ] ||
  fail "omega scripts at TERM: $(cat "$T/omega.out" 2>/dev/null) / $(cat "$T/health.err")"
export LVSD_SOCKET=$T/lvsd.sock

# The read-only TCP listener (loopback): GET answered, changes refused.
port=$((20000 + RANDOM % 20000))
"$LVSD" -n -f "$T/lvs.conf" --socket "$T/tcp.sock" --listen "127.0.0.1:$port" 2>"$T/tcp.err" &
tcp=$!
PIDS+=($tcp)
for _ in $(seq 50); do grep -q "ready in" "$T/tcp.err" && break; sleep 0.1; done
grep -q '"key":"TCP 198.18.0.10:80"' <(curl -s "http://127.0.0.1:$port/v1/state") ||
  fail "GET /v1/state over TCP: $(cat "$T/tcp.err")"
code=$(curl -s -o "$T/post.out" -w '%{http_code}' -X POST "http://127.0.0.1:$port/v1/reload")
[ "$code" = 403 ] && grep -q "read-only" "$T/post.out" || fail "POST over TCP: $code"
kill "$tcp"
wait "$tcp" 2>/dev/null

# A start that fails: status 1, the reason on the terminal, nothing left.
if "$LVSD" -f "$T/lvs.conf" --pid-file "$T/lvsd.pid" --listen 'nonsense' 2>"$T/bad.err"; then
  fail "a start with a bad --listen exited 0"
fi
grep -q "API listen address 'nonsense'" "$T/bad.err" || fail "no reason given: $(cat "$T/bad.err")"
[ -e "$T/lvsd.pid" ] && fail "pid file left by a failed start"
[ -e "$T/lvsd.sock" ] && fail "socket left by a failed start"

# systemd's notification, as Type=notify reads it.
/usr/bin/python3 - "$T/notify.sock" >"$T/notify.out" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(20)
for _ in range(2):
    print(s.recv(512).decode().replace("\n", " "), flush=True)
PY
PIDS+=($!)
for _ in $(seq 50); do [ -S "$T/notify.sock" ] && break; sleep 0.1; done
NOTIFY_SOCKET=$T/notify.sock "$LVSD" --foreground -f "$T/lvs.conf" 2>"$T/fg.err" &
fg=$!
PIDS+=($fg)
for _ in $(seq 50); do grep -q READY=1 "$T/notify.out" && break; sleep 0.1; done
grep -q "READY=1 MAINPID=$fg" "$T/notify.out" || fail "no READY=1 for $fg: $(cat "$T/notify.out")"
kill "$fg"
wait "$fg" || fail "lvsd --foreground exited $? on TERM"
for _ in $(seq 50); do grep -q STOPPING=1 "$T/notify.out" && break; sleep 0.1; done
grep -q "STOPPING=1" "$T/notify.out" || fail "no STOPPING=1: $(cat "$T/notify.out")"

# The unit, pointed at this build.
if command -v systemd-analyze >/dev/null; then
  dir=$(dirname "$LVSD")
  sed "s|^\(Exec[A-Za-z]*=\)[^ ]*/lvsd |\1$dir/lvsd |" "$UNIT" >"$T/lvsd.service"
  grep -q "^Type=notify$" "$T/lvsd.service" || fail "the unit is not Type=notify"
  grep -q "^ExecStart=.*lvsd --foreground" "$T/lvsd.service" || fail "ExecStart lacks --foreground"
  msg=$(systemd-analyze verify "$T/lvsd.service" 2>&1) || fail "systemd-analyze: $msg"
  [ -z "$msg" ] || fail "systemd-analyze: $msg"
else
  echo "systemd-analyze missing: unit not verified"
fi
echo "PASS: detached start/stop, /v1/check, /v1/conns paging, read-only TCP, failed start," \
  "sd_notify READY/STOPPING, unit verified"
