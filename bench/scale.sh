#!/usr/bin/env bash
# The control plane at the issue's scale, on the real binaries: lvsd started on a configuration
# of 10,000 services x 10 real servers, a reload with 1% of the services changed (SIGHUP and
# the API), lvsd's memory, and lvsadm -Ln / -Sn / --stats over the 10,000 services.
# lvsd runs its control plane alone (no interface: nothing is sent anywhere), one engine; a
# forwarding lvsd applies the same operations once per worker.
#   bench/scale.sh [--build DIR] [--services N] [--servers M]
# Targets (issue 5): load <= 1 s, 1% reload <= 50 ms.
set -eu
BUILD=build
SERVICES=10000
SERVERS=10
while [ $# -gt 0 ]; do
  case $1 in
    --build) BUILD=$2; shift 2 ;;
    --services) SERVICES=$2; shift 2 ;;
    --servers) SERVERS=$2; shift 2 ;;
    *) echo "usage: $0 [--build DIR] [--services N] [--servers M]" >&2; exit 2 ;;
  esac
done
LVSD=$BUILD/apps/lvsd
LVSADM=$BUILD/apps/lvsadm
[ -x "$LVSD" ] && [ -x "$LVSADM" ] || { echo "build lvsd and lvsadm first ($BUILD)" >&2; exit 1; }
T=$(mktemp -d /tmp/lvs-scale.XXXXXX)
PID=
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
export LVSD_SOCKET=$T/lvsd.sock

# VIPs from 198.18.0.0/16, servers from 198.19.0.0/16 (repeating after 60,000, as servers that
# serve several VIPs do). changed_every=K: every K-th service changes (weights, or it leaves, or
# one on another port arrives), as config_bench does.
gen() {
  /usr/bin/python3 - "$SERVICES" "$SERVERS" "$1" <<'PY'
import sys
services, servers, every = map(int, sys.argv[1:])
out = []
for s in range(services):
    kind = (s // every) % 4 if every and s % every == 0 else -1
    if kind == 2:
        continue
    port = 8080 if kind == 3 else 80
    out.append(f"virtual_server 198.18.{s // 250}.{s % 250 + 1} {port} {{\n"
               "  protocol TCP\n  lb_algo wrr\n  lb_kind NAT\n")
    for r in range(servers):
        a = (s * servers + r) % 60000
        w = 2 + r if kind in (0, 1) else 1
        out.append(f"  real_server 198.19.{a // 250}.{a % 250 + 1} 8080 {{ weight {w} }}\n")
    out.append("}\n")
sys.stdout.write("".join(out))
PY
}
gen 0 >"$T/a.conf"
gen 100 >"$T/b.conf"
cp "$T/a.conf" "$T/lvs.conf"
echo "config: $SERVICES services x $SERVERS real servers, $(wc -l <"$T/a.conf") lines, $(du -h "$T/a.conf" | cut -f1)"

ms() { echo "$(( ($2 - $1) / 1000000 ))"; }
now() { date +%s%N; }

# The baseline: lvsd with no service (its connection table for 1M connections dominates).
: >"$T/empty.conf"
"$LVSD" --foreground -f "$T/empty.conf" --socket "$T/empty.sock" 2>"$T/empty.log" &
PID=$!
until grep -q "ready in" "$T/empty.log"; do sleep 0.01; done
base_rss=$(awk '/VmRSS/ {print $2}' "/proc/$PID/status")
echo "baseline: no service, ready in $(sed -n 's/.*ready in \([0-9.]*\) ms.*/\1/p' "$T/empty.log") ms, RSS $((base_rss / 1024)) MiB"
kill "$PID"
wait "$PID" 2>/dev/null || true
PID=

t0=$(now)
"$LVSD" --foreground -f "$T/lvs.conf" --log-level info 2>"$T/lvsd.log" &
PID=$!
until grep -q "ready in" "$T/lvsd.log"; do
  kill -0 "$PID" 2>/dev/null || { cat "$T/lvsd.log"; exit 1; }
  sleep 0.01
done
t1=$(now)
echo "load: exec to serving $(ms "$t0" "$t1") ms (the file read, checked, applied;" \
  "lvsd's own figure from the parsed config: $(sed -n 's/.*ready in \([0-9.]*\) ms.*/\1/p' "$T/lvsd.log") ms)"
rss=$(awk '/VmRSS/ {print $2}' "/proc/$PID/status")
echo "memory: lvsd RSS $((rss / 1024)) MiB, $(((rss - base_rss) / 1024)) MiB over the baseline" \
  "($(((rss - base_rss) * 1024 / SERVICES)) B per service with its $SERVERS servers)"

reload() {  # $1: the file to switch to, $2: how (hup | api)
  cp "$1" "$T/lvs.conf"
  local before
  before=$(grep -c "configuration reloaded" "$T/lvsd.log" || true)
  if [ "$2" = hup ]; then
    kill -HUP "$PID"
  else
    curl -sf --unix-socket "$LVSD_SOCKET" -X POST http://lvsd/v1/reload >/dev/null
  fi
  for _ in $(seq 500); do
    [ "$(grep -c "configuration reloaded" "$T/lvsd.log" || true)" -gt "$before" ] && break
    sleep 0.01
  done
  grep "configuration reloaded" "$T/lvsd.log" | tail -1 | sed 's/.*configuration reloaded: /  /'
}
echo "reload 1% (lvsd's own timing: whole, reading the file, comparing, applying):"
for i in 1 2 3; do
  reload "$T/b.conf" hup
  reload "$T/a.conf" api
done
load_ms=$(ms "$t0" "$t1")
worst=$(sed -nE 's/.*configuration reloaded: [0-9]+ changes? in ([0-9.]+) ms.*/\1/p' "$T/lvsd.log" |
  sort -n | tail -1)
# Reported, not fatal: a shared machine's noise is not a regression.
awk -v l="$load_ms" -v w="${worst:-inf}" 'BEGIN {
  printf "targets: load %d ms <= 1000: %s; 1%% reload, slowest of 6: %s ms <= 50: %s\n", l,
    (l <= 1000 ? "met" : "NOT MET"), w, (w + 0 <= 50 && w != "inf" ? "met" : "NOT MET") }'

for args in "-Ln" "-Sn" "-Ln --stats" "-Ln --rate"; do
  t0=$(now)
  # shellcheck disable=SC2086
  lines=$("$LVSADM" $args | wc -l)
  t1=$(now)
  printf 'lvsadm %-12s %6d lines in %d ms\n' "$args" "$lines" "$(ms "$t0" "$t1")"
done
t0=$(now)
curl -sf --unix-socket "$LVSD_SOCKET" http://lvsd/metrics | wc -l | tr '\n' ' '
t1=$(now)
echo "lines of /metrics in $(ms "$t0" "$t1") ms"
