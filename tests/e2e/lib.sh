# shellcheck shell=bash
# lib.sh: hosts, real servers and the load balancer under test for lvs's end-to-end tests and
# the demo. Sourced; every script that sources it calls e2e_init first.
#
# Topology (one network namespace per box, named "<prefix>-<box>"):
#
#    client               router                    director
#   +--------------+     +--------------------+     +-------------------------+
#   | c-eth0       |-----| r-cli 198.18.0.254 |     |                         |
#   | 198.18.0.1   |     | r-dir 198.18.2.254 |-----| d-ext 198.18.2.2        |
#   +--------------+     | r-lan 198.18.1.254 |     |       VIP 198.18.2.100  |
#                        +---------+----------+     | d-int 198.18.1.1        |
#                                  |                +------------+------------+
#                                  | l-router                    | l-dir
#                        +---------+-----------------------------+------------+
#                        | lan: bridge br0                                    |
#                        +-----+-------------------+-------------------+------+
#                              | l-rs1             | l-rs2             | l-rs3
#                          rs1 eth0            rs2 eth0            rs3 eth0
#                          198.18.1.11         198.18.1.12         198.18.1.13
#
#  IPv6 (topo_create --ipv6): client 2001:2::1, router 2001:2::254 | 2001:2:2::254 |
#  2001:2:1::254, director 2001:2:2::2 (VIP 2001:2:2::100) | 2001:2:1::1, rs 2001:2:1::11...
#
#  NAT: real servers route by default via the director (198.18.1.1), so replies come back
#       through it and leave by d-ext: both director interfaces carry traffic.
#  DR:  VIP on each real server's lo (arp_ignore=1, arp_announce=2), default route via the
#       router (198.18.1.254): replies bypass the director.
#
# The load balancer under test is pluggable (E2E_LB):
#   lvsd      the real thing ($LVSD, the binary), config rendered in keepalived.conf dialect
#   nftables  a stand-in for checking the topology and the tests themselves: NAT through
#             nftables DNAT (numgen inc: round robin per connection; weights as ranges),
#             DR through netdev-ingress "fwd" (jhash per flow, so no exact distribution)
# Checks that only lvsd can satisfy (stats file, exact wlc/DR shares) run when lb_is_lvsd.
#
# Safety: addresses only from 198.18.0.0/15 and 2001:2::/48, all inside namespaces made
# here; processes are recorded by PID and whatever is still running inside our namespaces at
# exit is killed before the namespaces are deleted (trap EXIT, also on failure).

set -euo pipefail

readonly E2E_SKIP=77

readonly CLIENT_IP=198.18.0.1
readonly ROUTER_CLI_IP=198.18.0.254
readonly ROUTER_DIR_IP=198.18.2.254
readonly ROUTER_LAN_IP=198.18.1.254
readonly DIR_EXT_IP=198.18.2.2
readonly DIR_INT_IP=198.18.1.1
readonly VIP=198.18.2.100
readonly CLIENT_IP6=2001:2::1
readonly VIP6=2001:2:2::100
RS_NAMES=(rs1 rs2 rs3)
RS_IPS=(198.18.1.11 198.18.1.12 198.18.1.13)
RS_IP6S=(2001:2:1::11 2001:2:1::12 2001:2:1::13)

E2E_LB=${E2E_LB:-lvsd}
LVSD=${LVSD:-}
LVS_INJECT=${LVS_INJECT:-}

# ---------------------------------------------------------------------------------------------
# Reporting

e2e_log() {
  [ -n "${E2E_QUIET:-}" ] || printf '[%s +%3ss] %s\n' "$E2E_NAME" "$((SECONDS - E2E_T0))" "$*" >&2
}
fail() {
  printf '[%s] FAIL: %s\n' "$E2E_NAME" "$*" >&2
  exit 1
}
skip() {
  printf '[%s] SKIP: %s\n' "$E2E_NAME" "$*" >&2
  exit "$E2E_SKIP"
}

assert_eq() {  # what actual expected
  [ "$2" = "$3" ] || fail "$1: got '$2', expected '$3'"
  e2e_log "ok: $1 = $2"
}
assert_ge() {  # what actual min
  [ "$2" -ge "$3" ] || fail "$1: got $2, expected >= $3"
  e2e_log "ok: $1 = $2 (>= $3)"
}
assert_gt() {  # what actual bound
  [ "$2" -gt "$3" ] || fail "$1: got $2, expected > $3"
  e2e_log "ok: $1 = $2 (> $3)"
}
assert_le() {  # what actual max
  [ "$2" -le "$3" ] || fail "$1: got $2, expected <= $3"
  e2e_log "ok: $1 = $2 (<= $3)"
}

# e2e_require cmd...: skip the test when a tool is missing.
e2e_require() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || skip "'$c' is not installed (scripts/install-deps.sh)"
  done
}

# ---------------------------------------------------------------------------------------------
# Life cycle

# e2e_init NAME [PREFIX]: per-run prefix, temp dir, cleanup trap, a watchdog, root check
# (E2E_NEED_ROOT=0 for tests that build no namespaces).
# The watchdog (E2E_TIMEOUT seconds, default 150) sends SIGTERM so the EXIT trap still
# cleans up if something hangs; ctest's own timeout should be a little longer.
e2e_init() {
  E2E_NAME=$1
  E2E_PREFIX=${2:-lvs-e2e}-$$
  E2E_T0=$SECONDS
  E2E_NS=()
  E2E_PIDS=()
  LB_PID=
  LB_RUNNING=
  E2E_WATCHDOG=
  E2E_TMP=
  trap e2e_cleanup EXIT
  trap '[ "$BASHPID" = $$ ] || exit 0; e2e_log "interrupted"; exit 1' INT TERM HUP PIPE
  E2E_TMP=$(mktemp -d "/tmp/${E2E_PREFIX}.XXXXXX")
  # lvsd's control socket, and lvsadm's: this test's own.
  export LVSD_SOCKET=$E2E_TMP/lvsd.sock
  if [ "${E2E_NEED_ROOT:-1}" = 1 ]; then
    [ "$(id -u)" = 0 ] || skip "needs root (network namespaces)"
    e2e_require ip ethtool
    e2e_reap_stale
  fi
  local t=${E2E_TIMEOUT:-150}
  (
    # No output held open, so a pipe reading the test's output ends with the test.
    exec >/dev/null
    sleep "$t" 2>/dev/null &
    sp=$!
    trap 'kill $sp 2>/dev/null; exit 0' TERM
    wait $sp
    # Only while the test is still our parent: never signal a recycled PID.
    me=$BASHPID
    [ "$(cut -d' ' -f4 "/proc/$me/stat")" = $$ ] || exit 0
    echo "[$E2E_NAME] watchdog: ${t}s elapsed, stopping the test" >&2
    kill -TERM $$ 2>/dev/null
  ) &
  E2E_WATCHDOG=$!
}

# Namespaces of earlier runs whose script is gone (killed by SIGKILL): processes inside them,
# the namespaces and the temp dirs. Only "<prefix>-<pid>-*" names with a dead <pid> are touched.
e2e_reap_stale() {
  local ns pid base=${E2E_PREFIX%-*}
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
    case $ns in "$base"-[0-9]*-*) ;; *) continue ;; esac
    pid=${ns#"$base"-}
    pid=${pid%%-*}
    [ -d "/proc/$pid" ] && continue
    ns_kill_all "$ns"
    ip netns del "$ns" 2>/dev/null || true
  done
  local d
  for d in /tmp/"$base"-[0-9]*.*; do
    [ -d "$d" ] || continue
    pid=${d#/tmp/"$base"-}
    pid=${pid%%.*}
    [ -d "/proc/$pid" ] || rm -rf "$d"
  done
}

ns_kill_all() {  # ns: SIGKILL every process inside a namespace of ours
  local p
  for p in $(ip netns pids "$1" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
}

e2e_cleanup() {
  local rc=$?
  # A subshell may still carry the traps for a moment after it forks: only the test cleans.
  [ "$BASHPID" = $$ ] || exit "$rc"
  set +e
  trap - INT TERM HUP PIPE
  [ -n "${E2E_WATCHDOG:-}" ] && kill -TERM "$E2E_WATCHDOG" 2>/dev/null
  if [ "$rc" != 0 ] && [ "$rc" != "$E2E_SKIP" ]; then e2e_dump_logs; fi
  [ -n "${LB_PID:-}" ] && lb_stop >/dev/null 2>&1
  local p ns
  for p in "${E2E_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for ns in "${E2E_NS[@]}"; do ns_kill_all "$ns"; done
  for p in "${E2E_PIDS[@]}"; do wait "$p" 2>/dev/null; done
  for ns in "${E2E_NS[@]}"; do ip netns del "$ns" 2>/dev/null; done
  if [ -n "${E2E_TMP:-}" ]; then
    if [ -n "${E2E_KEEP:-}" ]; then
      echo "[$E2E_NAME] kept $E2E_TMP" >&2
    else
      rm -rf "$E2E_TMP"
    fi
  fi
  case $rc in
    0) [ -n "${E2E_QUIET:-}" ] || printf '[%s] PASS (%ss)\n' "$E2E_NAME" "$((SECONDS - E2E_T0))" >&2 ;;
    "$E2E_SKIP") ;;
    *) printf '[%s] FAILED (exit %s, %ss)\n' "$E2E_NAME" "$rc" "$((SECONDS - E2E_T0))" >&2 ;;
  esac
  exit "$rc"
}

# On failure: the tail of every log we wrote, so a CI log shows why.
e2e_dump_logs() {
  local f
  [ -n "${E2E_TMP:-}" ] || return 0
  for f in "$E2E_TMP"/*.log; do
    [ -s "$f" ] || continue
    echo "----- $(basename "$f") (last 30 lines)" >&2
    tail -n 30 "$f" >&2
  done
  if [ -s "$E2E_TMP/stats.json" ]; then
    echo "----- stats.json" >&2
    jq -c . "$E2E_TMP/stats.json" >&2 2>/dev/null || cat "$E2E_TMP/stats.json" >&2
  fi
}

# nsx BOX cmd...: run in a box's namespace (client router dir lan rs1 rs2 rs3).
nsx() {
  local box=$1
  shift
  ip netns exec "$E2E_PREFIX-$box" "$@"
}

# bg BOX LOG cmd...: start in the background, record the PID; sets BG_PID.
bg() {
  local box=$1 log=$2
  shift 2
  ip netns exec "$E2E_PREFIX-$box" "$@" >"$log" 2>&1 &
  BG_PID=$!
  E2E_PIDS+=("$BG_PID")
}

# wait_for SECONDS cmd...: poll every 0.1 s until cmd succeeds; 1 on timeout.
wait_for() {
  local n=$(($1 * 10))
  shift
  while ((n-- > 0)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

# ---------------------------------------------------------------------------------------------
# Topology

ns_add() {
  local ns="$E2E_PREFIX-$1"
  ip netns add "$ns"
  E2E_NS+=("$ns")
  ip -n "$ns" link set lo up
  local v6off=1
  [ "$TOPO_V6" = 1 ] && v6off=0
  # No DAD: a new link's link-local address would stay tentative for about a second, and the
  # kernel sends no neighbour solicitation (so resolves nothing, for lvsd either) until then.
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=$v6off \
    net.ipv6.conf.default.disable_ipv6=$v6off net.ipv6.conf.lo.disable_ipv6=$v6off \
    net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
  ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
    net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.all.send_redirects=0 \
    net.ipv4.conf.default.send_redirects=0
}

# veth BOX1 IF1 BOX2 IF2 [QUEUES]: a veth pair straight into two namespaces, both ends up,
# tx checksum offload off (a veth peer with it on delivers only partial TCP/UDP checksums,
# which a director that reads frames with XDP would forward as they are).
veth() {
  local q=${5:-1}
  ip link add "$2" netns "$E2E_PREFIX-$1" numtxqueues "$q" numrxqueues "$q" type veth \
    peer name "$4" netns "$E2E_PREFIX-$3" numtxqueues "$q" numrxqueues "$q"
  nsx "$1" ethtool -K "$2" tx off >/dev/null
  nsx "$3" ethtool -K "$4" tx off >/dev/null
  ip -n "$E2E_PREFIX-$1" link set "$2" up
  ip -n "$E2E_PREFIX-$3" link set "$4" up
}

addr() {  # BOX IFACE ADDR/LEN [ADDR6/LEN]
  ip -n "$E2E_PREFIX-$1" addr add "$3" dev "$2"
  if [ "$TOPO_V6" = 1 ] && [ -n "${4:-}" ]; then
    ip -n "$E2E_PREFIX-$1" -6 addr add "$4" dev "$2" nodad
  fi
}

# topo_create [--queues N] [--ipv6]: every box, link and address; routes for NAT.
# --queues applies to the director's two links (both ends), so lvsd runs N workers.
# shellcheck disable=SC2120  # options are optional
topo_create() {
  local q=1
  TOPO_V6=0
  while [ $# -gt 0 ]; do
    case $1 in
      --queues) q=$2; shift ;;
      --ipv6) TOPO_V6=1 ;;
      *) fail "topo_create: unknown option $1" ;;
    esac
    shift
  done
  TOPO_QUEUES=$q
  local b i
  for b in client router dir lan "${RS_NAMES[@]}"; do ns_add "$b"; done

  veth client c-eth0 router r-cli
  veth router r-dir dir d-ext "$q"
  veth router r-lan lan l-router
  veth dir d-int lan l-dir "$q"
  for i in "${!RS_NAMES[@]}"; do veth "${RS_NAMES[$i]}" eth0 lan "l-${RS_NAMES[$i]}"; done

  ip -n "$E2E_PREFIX-lan" link add br0 type bridge
  for i in l-router l-dir "${RS_NAMES[@]/#/l-}"; do
    ip -n "$E2E_PREFIX-lan" link set "$i" master br0
  done
  ip -n "$E2E_PREFIX-lan" link set br0 up

  addr client c-eth0 "$CLIENT_IP/24" "$CLIENT_IP6/64"
  addr router r-cli "$ROUTER_CLI_IP/24" 2001:2::254/64
  addr router r-dir "$ROUTER_DIR_IP/24" 2001:2:2::254/64
  addr router r-lan "$ROUTER_LAN_IP/24" 2001:2:1::254/64
  addr dir d-ext "$DIR_EXT_IP/24" 2001:2:2::2/64
  addr dir d-ext "$VIP/32" "$VIP6/128"
  addr dir d-int "$DIR_INT_IP/24" 2001:2:1::1/64
  for i in "${!RS_NAMES[@]}"; do
    addr "${RS_NAMES[$i]}" eth0 "${RS_IPS[$i]}/24" "${RS_IP6S[$i]}/64"
  done

  nsx router sysctl -qw net.ipv4.ip_forward=1
  [ "$TOPO_V6" = 1 ] && nsx router sysctl -qw net.ipv6.conf.all.forwarding=1
  ip -n "$E2E_PREFIX-client" route add default via "$ROUTER_CLI_IP"
  ip -n "$E2E_PREFIX-dir" route add default via "$ROUTER_DIR_IP"
  if [ "$TOPO_V6" = 1 ]; then
    ip -n "$E2E_PREFIX-client" -6 route add default via 2001:2::254
    ip -n "$E2E_PREFIX-dir" -6 route add default via 2001:2:2::254
  fi
  TOPO_MODE=
  topo_mode nat
}

# topo_mode nat|dr|fnat: real servers' default route and the VIP on their lo. fnat: default
# route via the router and no VIP (replies go to the director's local addresses, on the LAN).
topo_mode() {
  local mode=$1 i rs gw gw6
  case $mode in
    nat) gw=$DIR_INT_IP gw6=2001:2:1::1 ;;
    dr|fnat) gw=$ROUTER_LAN_IP gw6=2001:2:1::254 ;;
    *) fail "topo_mode: $mode" ;;
  esac
  for i in "${!RS_NAMES[@]}"; do
    rs=${RS_NAMES[$i]}
    ip -n "$E2E_PREFIX-$rs" route replace default via "$gw"
    [ "$TOPO_V6" = 1 ] && ip -n "$E2E_PREFIX-$rs" -6 route replace default via "$gw6"
    if [ "$mode" = dr ]; then
      nsx "$rs" sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \
        net.ipv4.conf.lo.arp_ignore=1 net.ipv4.conf.lo.arp_announce=2 \
        net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2
      ip -n "$E2E_PREFIX-$rs" addr replace "$VIP/32" dev lo
      [ "$TOPO_V6" = 1 ] && ip -n "$E2E_PREFIX-$rs" -6 addr replace "$VIP6/128" dev lo
    else
      ip -n "$E2E_PREFIX-$rs" addr del "$VIP/32" dev lo 2>/dev/null || true
      [ "$TOPO_V6" = 1 ] && { ip -n "$E2E_PREFIX-$rs" -6 addr del "$VIP6/128" dev lo 2>/dev/null || true; }
    fi
  done
  TOPO_MODE=$mode
}

# poke BOX IP: make BOX resolve IP's MAC (one UDP datagram to the discard port, no ping
# needed), and wait until the neighbour entry is usable.
poke() {
  nsx "$1" bash -c "echo warmup >/dev/udp/$2/9" 2>/dev/null || true
  wait_for 3 nsx "$1" bash -c "ip neigh show $2 | grep -Eq 'REACHABLE|STALE|DELAY|PERMANENT'" ||
    e2e_log "warning: $1 could not resolve $2"
}

# topo_warmup: resolve the neighbours on the way to the director (client -> router -> VIP),
# so the first request is not delayed there. The director's own next hops are left to the
# LB under test (lvsd resolves them itself).
topo_warmup() {
  poke client "$ROUTER_CLI_IP"
  poke router "$VIP"
  if [ "$TOPO_V6" = 1 ]; then
    poke client 2001:2::254
    poke router "$VIP6"
  fi
}

mac_of() {  # BOX IFACE
  nsx "$1" cat "/sys/class/net/$2/address"
}

# ---------------------------------------------------------------------------------------------
# Real servers

# nginx_conf DIR CONNECTIONS <<<LINES: a foreground nginx configuration whose pid, logs and
# temporary files are in DIR, with the lines read from stdin inside its http block.
nginx_conf() {
  local d=$1
  cat <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections $2; }
http {
    access_log off;
    client_body_temp_path $d/body;
    proxy_temp_path $d/proxy;
    fastcgi_temp_path $d/fastcgi;
    uwsgi_temp_path $d/uwsgi;
    scgi_temp_path $d/scgi;
EOF
  cat
  echo "}"
}

# rs_start_nginx [PORT...]: nginx on every real server (default port 80), answering every
# request with the server's name ("rs1\n"); keep-alive without a request cap, for wrk.
rs_start_nginx() {
  local ports=("$@") rs d p listen=
  [ ${#ports[@]} -gt 0 ] || ports=(80)
  for p in "${ports[@]}"; do
    listen+="    listen $p reuseport;"$'\n'
    [ "${TOPO_V6:-0}" = 1 ] && listen+="    listen [::]:$p reuseport;"$'\n'
  done
  for rs in "${RS_NAMES[@]}"; do
    d=$E2E_TMP/nginx-$rs
    mkdir -p "$d"
    nginx_conf "$d" 4096 >"$d/nginx.conf" <<EOF
    keepalive_requests 1000000;
    keepalive_timeout 60s;
    server {
$listen        location / {
            default_type text/plain;
            return 200 "$rs\n";
        }
    }
EOF
    bg "$rs" "$E2E_TMP/nginx-$rs.log" nginx -p "$d" -e "$d/error.log" -c "$d/nginx.conf"
  done
  for rs in "${RS_NAMES[@]}"; do
    for p in "${ports[@]}"; do
      wait_for 5 nsx "$rs" bash -c "exec 3<>/dev/tcp/127.0.0.1/$p" ||
        fail "nginx on $rs did not listen on port $p"
    done
  done
}

# rs_start_tcp_echo PORT: socat on every real server: says its name, then echoes every byte.
rs_start_tcp_echo() {
  local port=$1 rs
  for rs in "${RS_NAMES[@]}"; do
    bg "$rs" "$E2E_TMP/echo-$rs.log" socat "TCP-LISTEN:$port,reuseaddr,fork" \
      "SYSTEM:echo $rs; exec cat"
  done
  for rs in "${RS_NAMES[@]}"; do
    wait_for 5 nsx "$rs" bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" ||
      fail "tcp echo on $rs did not listen on port $port"
  done
}

# rs_start_udp_name PORT: socat on every real server answering each datagram with its name.
rs_start_udp_name() {
  local port=$1 rs
  for rs in "${RS_NAMES[@]}"; do
    bg "$rs" "$E2E_TMP/udp-$rs.log" socat "UDP4-RECVFROM:$port,reuseaddr,fork" \
      "SYSTEM:echo $rs; exec cat >/dev/null"
  done
  for rs in "${RS_NAMES[@]}"; do
    wait_for 5 nsx "$rs" bash -c "ss -Hlun | grep -q ':$port '" ||
      fail "udp responder on $rs did not bind port $port"
  done
}

# ---------------------------------------------------------------------------------------------
# The load balancer: a small model (services and their real servers) rendered either as an
# lvsd config or as nftables rules.

LB_SVCS=()   # "proto vip port algo kind"
LB_DESTS=()  # "svc-index ip port weight"
LB_SVC_OPTS=()  # per service: extra lines for its virtual_server block
LB_EXTRA=""     # top-level config text for lvsd (e.g. a local_address_group block)
LB_IO=${LB_IO:-af_xdp}  # lvsd io backend; the env can choose af_packet

lb_reset() {
  LB_SVCS=()
  LB_SVC_OPTS=()
  LB_DESTS=()
}
# svc_add PROTO VIP PORT ALGO KIND (TCP|UDP, rr|wrr|wlc, NAT|DR); dest_add attaches to it.
svc_add() { LB_SVCS+=("$1 $2 $3 $4 $5"); LB_SVC_OPTS+=(""); }
# svc_opt "LINE": one more line in the last service's virtual_server block (lvsd only), e.g.
# svc_opt "persistence_timeout 60".
svc_opt() { LB_SVC_OPTS[$((${#LB_SVCS[@]} - 1))]+="    $1"$'\n'; }
# dest_add IP PORT [WEIGHT]
dest_add() { LB_DESTS+=("$((${#LB_SVCS[@]} - 1)) $1 $2 ${3:-1}"); }
# dest_del IP: drop a real server from every service.
dest_del() {
  local ip=$1 d keep=() si dip
  for d in "${LB_DESTS[@]}"; do
    read -r si dip _ <<<"$d"
    [ "$dip" = "$ip" ] || keep+=("$d")
  done
  LB_DESTS=("${keep[@]}")
}

lb_render_lvsd() {  # FILE
  local f=$1 i d proto vip port algo kind si dip dport weight
  {
    echo "# generated by tests/e2e/lib.sh"
    echo "director {"
    echo "    interface d-ext"
    echo "    interface d-int"
    echo "    io $LB_IO"
    echo "}"
    printf '%s' "$LB_EXTRA"
    for i in "${!LB_SVCS[@]}"; do
      read -r proto vip port algo kind <<<"${LB_SVCS[$i]}"
      echo
      echo "virtual_server $vip $port {"
      echo "    lb_algo $algo"
      echo "    lb_kind $kind"
      echo "    protocol $proto"
      printf '%s' "${LB_SVC_OPTS[$i]:-}"
      for d in "${LB_DESTS[@]}"; do
        read -r si dip dport weight <<<"$d"
        [ "$si" = "$i" ] || continue
        echo "    real_server $dip $dport {"
        echo "        weight $weight"
        echo "    }"
      done
      echo "}"
    done
  } >"$f"
}

# The stand-in: per service one rule; numgen (NAT) or jhash (DR) over the sum of weights,
# each real server owning a range as wide as its weight.
lb_render_nft() {  # FILE
  local f=$1 i d proto vip port algo kind l4 fam map total nat_rules='' dr_rules='' si dip dport weight
  for i in "${!LB_SVCS[@]}"; do
    read -r proto vip port algo kind <<<"${LB_SVCS[$i]}"
    l4=${proto,,}
    fam=ip
    [[ $vip == *:* ]] && fam=ip6
    map=
    total=0
    for d in "${LB_DESTS[@]}"; do
      read -r si dip dport weight <<<"$d"
      [ "$si" = "$i" ] || continue
      [ "$dport" = "$port" ] || fail "nftables stand-in: real server port must equal the VIP port"
      [ "$weight" -gt 0 ] || continue
      map+="${map:+, }$total-$((total + weight - 1)) : $dip"
      total=$((total + weight))
    done
    [ "$total" -gt 0 ] || continue
    if [ "$kind" = NAT ]; then
      nat_rules+="    $fam daddr $vip $l4 dport $port dnat $fam to numgen inc mod $total map { $map }"$'\n'
    else
      dr_rules+="    $fam daddr $vip $l4 dport $port fwd $fam to jhash $fam saddr . $l4 sport mod $total map { $map } device \"d-int\""$'\n'
    fi
  done
  {
    # Flush rules, keep tables and hooks: deleting the last NAT hook would also drop the
    # NAT bindings of established connections (the drain test keeps one across a reload).
    echo "add table inet lvs_e2e"
    echo "flush table inet lvs_e2e"
    echo "add table netdev lvs_e2e_dr"
    echo "flush table netdev lvs_e2e_dr"
    echo "table inet lvs_e2e {"
    echo "  chain pre {"
    echo "    type nat hook prerouting priority dstnat; policy accept;"
    printf '%s' "$nat_rules"
    echo "  }"
    echo "}"
    echo "table netdev lvs_e2e_dr {"
    echo "  chain in {"
    echo "    type filter hook ingress device \"d-ext\" priority 0; policy accept;"
    printf '%s' "$dr_rules"
    echo "  }"
    echo "}"
  } >"$f"
}

lb_is_lvsd() { [ "$E2E_LB" = lvsd ]; }

# lb_require: skip unless the chosen LB can run here.
lb_require() {
  case $E2E_LB in
    lvsd)
      [ -n "$LVSD" ] || skip "LVSD is not set (path to the lvsd binary); E2E_LB=nftables runs the stand-in"
      [ -x "$LVSD" ] || fail "LVSD=$LVSD is not an executable"
      e2e_require jq
      if [ "$LB_IO" = af_xdp ] && [ -n "$LVS_INJECT" ] && [ -x "$LVS_INJECT" ]; then
        "$LVS_INJECT" --probe-af-xdp 2>/dev/null || skip "the kernel has no AF_XDP sockets"
      fi
      ;;
    nftables) e2e_require nft ;;
    *) fail "E2E_LB=$E2E_LB: expected lvsd or nftables" ;;
  esac
}

LB_CONF=
STATS=

# lb_start: render the model and start the LB in the director; for lvsd, wait until the
# stats file appears (lvsd writes it once attached and forwarding).
lb_start() {
  case $E2E_LB in
    lvsd)
      LB_CONF=$E2E_TMP/lvs.conf
      STATS=$E2E_TMP/stats.json
      rm -f "$STATS"
      lb_render_lvsd "$LB_CONF"
      nsx dir sysctl -qw net.ipv4.ip_forward=0
      bg dir "$E2E_TMP/lvsd.log" "$LVSD" --foreground -f "$LB_CONF" --stats-file "$STATS" \
        --log-level "${LVSD_LOG_LEVEL:-info}"
      LB_PID=$BG_PID
      local n=100
      while [ ! -s "$STATS" ]; do
        kill -0 "$LB_PID" 2>/dev/null || {
          wait "$LB_PID"
          fail "lvsd exited with status $? before it was ready (see lvsd.log)"
        }
        ((n-- > 0)) || fail "lvsd did not write $STATS within 10 s"
        sleep 0.1
      done
      ;;
    nftables)
      LB_CONF=$E2E_TMP/lvs.nft
      lb_render_nft "$LB_CONF"
      nsx dir sysctl -qw net.ipv4.ip_forward=1
      [ "$TOPO_V6" = 1 ] && nsx dir sysctl -qw net.ipv6.conf.all.forwarding=1
      nsx dir nft -f "$LB_CONF"
      LB_PID=nft
      ;;
  esac
  LB_RUNNING=1
  e2e_log "$E2E_LB started (${#LB_SVCS[@]} services, io $LB_IO)"
}

# lb_reload: apply the current model to the running LB (lvsd: SIGHUP).
lb_reload() {
  case $E2E_LB in
    lvsd)
      lb_render_lvsd "$LB_CONF"
      kill -HUP "$LB_PID"
      # Applied once the stats file lists exactly the model's services and real servers.
      local n=50
      while :; do
        sleep 0.2
        stats_refresh
        [ "$(lb_model_dests)" != "$(stats_dests)" ] || break
        ((n-- > 0)) || fail "lvsd did not apply the new config within 10 s: stats list
$(stats_dests)"
      done
      ;;
    nftables)
      lb_render_nft "$LB_CONF"
      nsx dir nft -f "$LB_CONF"
      ;;
  esac
  e2e_log "$E2E_LB reloaded"
}

lb_stop() {
  case $E2E_LB in
    lvsd)
      [ -n "${LB_PID:-}" ] || return 0
      kill -TERM "$LB_PID" 2>/dev/null || true
      local n=50
      while kill -0 "$LB_PID" 2>/dev/null && ((n-- > 0)); do sleep 0.1; done
      if kill -0 "$LB_PID" 2>/dev/null; then
        e2e_log "lvsd did not exit within 5 s of SIGTERM; killing it"
        kill -KILL "$LB_PID" 2>/dev/null
        wait "$LB_PID" 2>/dev/null
        LB_PID=
        return 1
      fi
      local rc=0
      wait "$LB_PID" 2>/dev/null || rc=$?
      LB_PID=
      [ "$rc" = 0 ] || { e2e_log "lvsd exited with status $rc"; return 1; }
      ;;
    nftables)
      nsx dir nft flush ruleset 2>/dev/null || true
      LB_PID=
      ;;
  esac
  LB_RUNNING=
}

# ---------------------------------------------------------------------------------------------
# lvsd's stats file

stats_stamp() { stat -c '%i %.9Y' "$STATS" 2>/dev/null || echo none; }
stats_changed_since() { [ "$(stats_stamp)" != "$1" ]; }

# stats_refresh: SIGUSR1, wait for the new file, keep a stable copy in $STATS_NOW.
stats_refresh() {
  local before
  before=$(stats_stamp)
  kill -USR1 "$LB_PID"
  wait_for 3 stats_changed_since "$before" || fail "lvsd did not rewrite its stats file on SIGUSR1"
  STATS_NOW=$E2E_TMP/stats.now.json
  cp "$STATS" "$STATS_NOW"
  jq -e . "$STATS_NOW" >/dev/null || fail "stats file is not valid JSON"
}

# "SERVICE-KEY ADDR:PORT" per real server, sorted: from the model, and from the stats copy.
lb_model_dests() {
  local i d proto vip port algo kind si dip dport weight key
  for i in "${!LB_SVCS[@]}"; do
    read -r proto vip port algo kind <<<"${LB_SVCS[$i]}"
    key="$proto $vip:$port"
    [[ $vip == *:* ]] && key="$proto [$vip]:$port"
    for d in "${LB_DESTS[@]}"; do
      read -r si dip dport weight <<<"$d"
      if [ "$si" = "$i" ]; then echo "$key $dip:$dport"; fi
    done
  done | sort
}
stats_dests() {
  jq -r '.services[] | .key as $k | .dests[] | "\($k) \(.addr):\(.port)"' "$STATS_NOW" | sort
}

# stat_get JQ: one value from the last refreshed copy.
stat_get() { jq -r "$1" "$STATS_NOW"; }
# stat_svc KEY JQ, e.g. stat_svc "TCP 198.18.2.100:80" .stats.conns
stat_svc() { jq -r --arg k "$1" ".services[] | select(.key == \$k) | $2" "$STATS_NOW"; }
# stat_dest KEY IP JQ
stat_dest() {
  jq -r --arg k "$1" --arg a "$2" \
    ".services[] | select(.key == \$k) | .dests[] | select(.addr == \$a) | $3" "$STATS_NOW"
}

# ---------------------------------------------------------------------------------------------
# Clients

# http_seq N URL OUT: N sequential curl requests from the client, one connection each; the
# answering server's name (or ERR) per line in OUT.
http_seq() {
  local n=$1 url=$2 out=$3
  nsx client bash -c '
    for ((i = 0; i < $1; i++)); do
      curl -s --max-time 5 "$2" || echo ERR
    done' _ "$n" "$url" >"$out"
}

# udp_refused FAMILY ADDR PORT: 6 datagrams from the client, each from its own connected socket;
# prints REFUSED (an ICMP port unreachable reached the socket), ANSWER or TIMEOUT per socket.
udp_refused() {
  nsx client python3 - "$1" "$2" "$3" <<'PY'
import socket, sys
fam = socket.AF_INET6 if sys.argv[1] == "6" else socket.AF_INET
for i in range(6):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(2)
    s.connect((sys.argv[2], int(sys.argv[3])))
    s.send(b"hello")
    try:
        s.recv(100)
        print("ANSWER")
    except ConnectionRefusedError:
        print("REFUSED")
    except socket.timeout:
        print("TIMEOUT")
    s.close()
PY
}

# count NAME FILE: lines equal to NAME.
count() { grep -cx -- "$1" "$2" || true; }

# show_spread FILE: "rs1=100 rs2=100 rs3=100 ERR=0".
show_spread() {
  local rs s=
  for rs in "${RS_NAMES[@]}" ERR; do s+="$rs=$(count "$rs" "$1") "; done
  echo "${s% }"
}

# expect_spread WHAT FILE N1 N2 N3: exact counts per real server and no errors.
expect_spread() {
  local what=$1 file=$2 i
  shift 2
  local shares=("$@")
  e2e_log "$what: $(show_spread "$file")"
  assert_eq "$what: failed requests" "$(count ERR "$file")" 0
  for i in "${!RS_NAMES[@]}"; do
    assert_eq "$what: answers from ${RS_NAMES[$i]}" "$(count "${RS_NAMES[$i]}" "$file")" "${shares[$i]}"
  done
}

# run_wrk URL SECONDS CONNS OUT: wrk from the client; fails on any socket error, timeout or
# non-2xx answer; prints the number of requests. wrk opens CONNS + 1 connections: its
# wrk.resolve() first connects once to check the address.
run_wrk() {
  local url=$1 secs=$2 conns=$3 out=$4 reqs
  nsx client timeout $((secs + 15)) wrk -t 2 -c "$conns" -d "${secs}s" --timeout 3s "$url" >"$out" 2>&1 ||
    fail "wrk failed: $(cat "$out")"
  reqs=$(awk '/requests in/ {print $1}' "$out")
  [ -n "$reqs" ] || fail "wrk printed no request count: $(cat "$out")"
  if grep -q 'Socket errors' "$out"; then fail "wrk: $(grep 'Socket errors' "$out")"; fi
  if grep -q 'Non-2xx' "$out"; then fail "wrk: $(grep 'Non-2xx' "$out")"; fi
  [ "$reqs" -gt 0 ] || fail "wrk completed no request"
  echo "$reqs"
}
