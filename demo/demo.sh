#!/usr/bin/env bash
# lvs demo: a Linux Virtual Server built from network namespaces on this machine.
#
#   demo/demo.sh [BUILD_DIR]        (root; `make demo` installs packages, builds and runs it)
#
# Builds a client, a router, the director and three nginx real servers (each answers with its
# name), starts lvsd on a built-in config, sends a few hundred requests with curl and a short
# wrk run, and prints who answered and what the director counted. First VS/NAT (replies come
# back through the director), then VS/DR (replies go straight to the client). Everything is
# removed at the end, also on failure or Ctrl-C. Traffic stays inside the namespaces, on
# 198.18.0.0/15 (RFC 2544 benchmarking addresses).
#
# Environment: LVSD (the lvsd binary; default BUILD_DIR/apps/lvsd), DEMO_REQUESTS (300),
# DEMO_WRK_SECONDS (3), E2E_LB=nftables (a kernel stand-in, no counters; for checking the demo).
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../tests/e2e/lib.sh"

build=${1:-${BUILD_DIR:-$here/../build}}
[ -d "$build" ] && build=$(cd "$build" && pwd)
LVSD=${LVSD:-$build/apps/lvsd}
LVS_INJECT=${LVS_INJECT:-$build/tests/tools/lvs-inject}  # only its AF_XDP probe is used
REQUESTS=${DEMO_REQUESTS:-300}
WRK_SECONDS=${DEMO_WRK_SECONDS:-3}
E2E_QUIET=1
E2E_TIMEOUT=${E2E_TIMEOUT:-180}

e2e_init demo lvs-demo
e2e_require curl wrk nginx jq
if lb_is_lvsd && [ ! -x "$LVSD" ]; then
  fail "no lvsd at $LVSD: build first (make demo does), or pass the build directory"
fi
lb_require

bold=$(printf '\033[1m') dim=$(printf '\033[2m') off=$(printf '\033[0m')
[ -t 1 ] || bold='' dim='' off=''
say() { printf '%s\n' "$*"; }
step() { printf '  %s%s%s\n' "$dim" "$*" "$off"; }

# A few hundred sequential requests (a new connection each), then the share table.
show_requests() {
  local out=$E2E_TMP/requests.out i n total
  step "$REQUESTS requests with curl, one connection each ..."
  http_seq "$REQUESTS" "http://$VIP/" "$out"
  total=$(wc -l <"$out")
  printf '\n  %-20s %8s %8s\n' "real server" answers share
  for i in "${!RS_NAMES[@]}"; do
    n=$(count "${RS_NAMES[$i]}" "$out")
    printf '  %-20s %8d %7.1f%%  %s\n' "${RS_NAMES[$i]} ${RS_IPS[$i]}" "$n" \
      "$(awk -v n="$n" -v t="$total" 'BEGIN { print t ? 100 * n / t : 0 }')" \
      "$(head -c $((n * 40 / (total > 0 ? total : 1))) </dev/zero | tr '\0' '#')"
  done
  n=$(count ERR "$out")
  [ "$n" = 0 ] || printf '  %-20s %8d\n' "failed" "$n"
  echo
}

show_wrk() {
  local log=$E2E_TMP/wrk.log reqs rps
  step "wrk: ${WRK_SECONDS} s, 2 threads, 16 keep-alive connections ..."
  reqs=$(run_wrk "http://$VIP/" "$WRK_SECONDS" 16 "$log")
  rps=$(awk '/Requests\/sec/ { printf "%d", $2 }' "$log")
  printf '  wrk: %s requests, %s req/s, no errors, latency avg %s\n\n' "$reqs" "$rps" \
    "$(awk '/Latency/ { print $2; exit }' "$log")"
}

# The director's view, from lvsd's stats file.
show_counters() {
  if ! lb_is_lvsd; then
    step "(stand-in load balancer: no director counters)"
    return
  fi
  stats_refresh
  say "  director counters (lvsd --stats-file, $(stat_get .workers) worker(s)):"
  printf '  %-34s %7s %9s %9s %11s %11s\n' "service / real server" conns "in pkts" "out pkts" \
    "in bytes" "out bytes"
  jq -r '.services[] |
      "\(.key) \(.scheduler)|\(.stats.conns)|\(.stats.inpkts)|\(.stats.outpkts)|\(.stats.inbytes)|\(.stats.outbytes)",
      (.dests | sort_by(.addr) | .[] | "  -> \(.addr):\(.port) \(.fwd) w\(.weight)|\(.stats.conns)|\(.stats.inpkts)|\(.stats.outpkts)|\(.stats.inbytes)|\(.stats.outbytes)")' \
    "$STATS_NOW" | while IFS='|' read -r name c ip op ib ob; do
    printf '  %-34s %7s %9s %9s %11s %11s\n' "$name" "$c" "$ip" "$op" "$ib" "$ob"
  done
  local drops
  drops=$(jq -r '.drops | to_entries | map(select(.value > 0)) | map("\(.key)=\(.value)") | join(", ")' "$STATS_NOW")
  say "  packets rx/tx: $(stat_get .rx_packets)/$(stat_get .tx_packets), steered: $(stat_get .steered), drops: ${drops:-none}"
  echo
}

say "${bold}lvs demo${off}: client -> router -> director (lvsd) -> 3 nginx real servers, in network namespaces"
say "${dim}  client 198.18.0.1 -- router -- director d-ext 198.18.2.2, VIP $VIP"
say "                                  director d-int 198.18.1.1 -- lan -- rs1 .11  rs2 .12  rs3 .13${off}"
say "  load balancer: $(lb_is_lvsd && echo "lvsd ($LVSD)" || echo "$E2E_LB stand-in")"
echo

step "building the namespaces and starting nginx on the real servers ..."
topo_create
rs_start_nginx 80
topo_warmup

for kind in NAT DR; do
  if [ "$kind" = NAT ]; then
    say "${bold}[1/2] VS/NAT${off}: rr; the director rewrites the destination to a real server and the replies' source back to the VIP"
    topo_mode nat
  else
    say "${bold}[2/2] VS/DR${off}: rr; the director only changes the MAC, the real servers hold the VIP on lo and answer the client directly"
    topo_mode dr
  fi
  lb_reset
  svc_add TCP "$VIP" 80 rr "$kind"
  for ip in "${RS_IPS[@]}"; do dest_add "$ip" 80; done
  step "starting $E2E_LB with: virtual_server $VIP 80 { lb_algo rr; lb_kind $kind; 3 real servers }"
  lb_start
  show_requests
  show_wrk
  show_counters
  if [ "$kind" = DR ] && lb_is_lvsd; then
    say "  (VS/DR: out pkts stay 0, the replies never pass the director)"
    echo
  fi
  lb_stop || fail "$E2E_LB did not stop cleanly"
done

step "removing the namespaces and processes ..."
say "done in $((SECONDS - E2E_T0)) s."
