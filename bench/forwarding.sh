#!/bin/bash
# Side-by-side forwarding benchmark (run by `make bench`, as root). One namespace topology, one
# run, every case measured the same way:
#
#   gen ns                  dir ns (the director)                   rs1 ns / rs2 ns
#   lvs-pktgen --XDP_REDIRECT--> I (198.18.0.2) ... OA 198.18.1.1/28 ---- RA 198.18.1.11 [XDP_DROP sink]
#   G 198.18.0.1/24         threaded NAPI,      OB 198.18.1.17/28 ---- RB 198.18.1.18 [XDP_DROP sink]
#                           pinned to DIR_CPU
#
# UDP, 64-byte frames, FLOWS flows (source addresses x source ports) to VIP 198.18.2.100:9.
# Delivered = growth of the sinks' rx_packets over a run / the run's length (the sinks pass ARP on,
# so the director resolves the real servers as on a real network). The sinks count any frame,
# whatever the forwarding method made of it; they also keep a sample of the frames they drop, and
# after each case the script checks that the sample has the form the case claims (DR: to the VIP,
# TUN: encapsulated to the real server, FULLNAT: from a local address, ...).
# Cases (each: 1 s warm-up, then RUNS x SECONDS, median):
#   kernel    plain kernel IP forwarding, VIP routed to rs1 (no load balancing)
#   nft       nftables DNAT `numgen inc mod 2` to rs1/rs2, with conntrack
#   nat       lvsd VS/NAT, rr over rs1/rs2 (<build>/apps/lvsd -f CONF --stats-file FILE)
#   dr        lvsd VS/DR (lb_kind DR)
#   tun-ipip  lvsd VS/TUN, lvs_method TUN type ipip
#   tun-gue   lvsd VS/TUN, lvs_method TUN type gue port 6080
#   fnat      lvsd FULLNAT (lb_kind FNAT) from two local addresses
# A case that cannot run (lvsd missing, its config refused, lvsd exiting) is reported as
# "n/a (reason)"; the others still run.
# Prints a table (case, delivered Mpps, ratio to kernel forwarding, ratio to nftables) and
# writes the same as forwarding.json and forwarding.md into the output directory.
#
# Everything lives in namespaces this script creates (addresses from 198.18.0.0/15); every load
# run stops by itself (--seconds, and a timeout around it); on exit, also on failure, the script
# stops the processes it started (by PID) and deletes its namespaces (and with them the veths and
# their XDP programs).
set -euo pipefail

ALL_CASES="kernel,nft,nat,dr,tun-ipip,tun-gue,fnat"
usage() {
  cat <<EOF
usage: $0 [--build DIR] [--out DIR] [--runs N] [--seconds S] [--flows N] [--cases LIST]
          [--dir-cpu N] [--gen-cpu N] [--rate MPPS] [--quick]
  --build DIR   build tree with bench/lvs-pktgen, bench/pktgen/sink.bpf.o, apps/lvsd
                (default: \$BUILD or <repo>/build)
  --out DIR     where forwarding.json / forwarding.md go (default: <build>/bench-results)
  --runs N      measured runs per case (default 3); --seconds S: length of each (default 5)
  --flows N     number of flows, a multiple of 1024 up to 1048576 (default 65536)
  --cases LIST  comma-separated subset of $ALL_CASES
                (default: all; 'lvsd' is another name for nat)
  --dir-cpu N   CPU for the director's work (default 0); --gen-cpu N: generator's (default 1)
  --rate MPPS   cap the offered load (default 0: as fast as the generator goes)
  --quick       1 run of 2 s per case (development; not for quoting)
EOF
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
BUILD=${BUILD:-$repo/build}
OUT=""
RUNS=3
SECONDS_PER_RUN=5
WARMUP_SECONDS=1
FLOWS=65536
CASES=$ALL_CASES
DIR_CPU=0
GEN_CPU=1
RATE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --seconds) SECONDS_PER_RUN=$2; shift 2 ;;
    --flows) FLOWS=$2; shift 2 ;;
    --cases) CASES=$2; shift 2 ;;
    --dir-cpu) DIR_CPU=$2; shift 2 ;;
    --gen-cpu) GEN_CPU=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --quick) RUNS=1; SECONDS_PER_RUN=2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "forwarding.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
BUILD=$(cd "$BUILD" && pwd)
OUT=${OUT:-$BUILD/bench-results}
PKTGEN=$BUILD/bench/lvs-pktgen
SINK_OBJ=$BUILD/bench/pktgen/sink.bpf.o
LVSD=${LVSD:-$BUILD/apps/lvsd}

die() { echo "forwarding.sh: $*" >&2; exit 1; }
log() { echo "forwarding.sh: $*" >&2; }

[ "$(id -u)" = 0 ] || die "must run as root (network namespaces, XDP)"
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "--runs must be a positive integer"
[[ "$SECONDS_PER_RUN" =~ ^[1-9][0-9]*$ ]] && [ "$SECONDS_PER_RUN" -le 60 ] ||
  die "--seconds must be an integer from 1 to 60"
[[ "$FLOWS" =~ ^[1-9][0-9]*$ ]] && [ $((FLOWS % 1024)) = 0 ] && [ "$FLOWS" -le 1048576 ] ||
  die "--flows must be a multiple of 1024, at most 1048576"
# The case list is checked before anything is set up: a typo must not cost a whole run.
IFS=, read -r -a case_list <<<"$CASES"
[ ${#case_list[@]} -gt 0 ] || die "--cases is empty (choose from $ALL_CASES)"
for i in "${!case_list[@]}"; do
  [ "${case_list[i]}" = lvsd ] && case_list[i]=nat
  [[ ",$ALL_CASES," == *",${case_list[$i]},"* ]] ||
    die "unknown case '${case_list[$i]}' (choose from $ALL_CASES)"
done
for tool in ip ethtool taskset python3 timeout; do
  command -v "$tool" >/dev/null || die "'$tool' not found (apt-get install iproute2 ethtool util-linux python3 coreutils)"
done
[ -x "$PKTGEN" ] || die "$PKTGEN not built (ninja -C $BUILD lvs-pktgen)"
[ -f "$SINK_OBJ" ] || die "$SINK_OBJ not built (ninja -C $BUILD lvs-pktgen)"
ncpu=$(nproc)
[ "$DIR_CPU" -lt "$ncpu" ] && [ "$GEN_CPU" -lt "$ncpu" ] && [ "$DIR_CPU" != "$GEN_CPU" ] ||
  die "--dir-cpu and --gen-cpu must be two different CPUs below $ncpu"

# Flows: 1024 source ports per address, as many addresses as needed (198.18.0.16 upwards).
SPORT_COUNT=1024
SRC_COUNT=$((FLOWS / SPORT_COUNT))
[ "$SRC_COUNT" -le 200 ] || { SPORT_COUNT=$((FLOWS / 200)); SRC_COUNT=200; }
[ $((SPORT_COUNT * SRC_COUNT)) = "$FLOWS" ] || die "--flows $FLOWS does not split into addresses x ports"

# Names unique to this run: interface names are per namespace, but the NAPI kthread of the
# director's ingress veth is found by name among all threads of the machine.
T=$(( $$ % 100000 ))
NS_GEN=lvsb$T-gen NS_DIR=lvsb$T-dir NS_RS1=lvsb$T-rs1 NS_RS2=lvsb$T-rs2
G=g$T I=i$T OA=oa$T OB=ob$T RA=ra$T RB=rb$T XA=xa$T XB=xb$T
VIP=198.18.2.100
VPORT=9
RS1=198.18.1.11
RS2=198.18.1.18
GUE_PORT=6080
# FULLNAT's local addresses: one on each real-server-side interface of the director (/32, so the
# kernel answers ARP for them there and the routes stay as they are).
LADDR1=198.18.1.2
LADDR2=198.18.1.19
CLIENT_NET=198.18.0.0/24
WORK=$(mktemp -d /tmp/lvs-forwarding.XXXXXX)
LVSD_PID=""
GEN_PID=""
SAMPLE_MAP_RS1=""
SAMPLE_MAP_RS2=""

cleanup() {
  local rc=$?
  set +e
  [ -n "$GEN_PID" ] && kill "$GEN_PID" 2>/dev/null && wait "$GEN_PID" 2>/dev/null
  stop_lvsd
  for ns in "$NS_RS1:$RA" "$NS_RS2:$RB"; do
    ip -n "${ns%%:*}" link set dev "${ns##*:}" xdp off 2>/dev/null
  done
  for ns in $NS_GEN $NS_DIR $NS_RS1 $NS_RS2; do ip netns del "$ns" 2>/dev/null; done
  rm -rf "$WORK"
  exit $rc
}
stop_lvsd() {
  if [ -n "$LVSD_PID" ]; then
    kill "$LVSD_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$LVSD_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$LVSD_PID" 2>/dev/null || true
    wait "$LVSD_PID" 2>/dev/null || true
    LVSD_PID=""
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
mac_of() { nsx "$1" cat "/sys/class/net/$2/address"; }
rx_of() { nsx "$1" cat "/sys/class/net/$2/statistics/rx_packets"; }

# ---------------------------------------------------------------------------------------------
# Topology.

setup_topology() {
  for ns in $NS_GEN $NS_DIR $NS_RS1 $NS_RS2; do
    ip netns add "$ns"
    nsx "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n "$ns" link set lo up
  done
  ip -n $NS_GEN link add $G type veth peer name $I netns $NS_DIR
  ip -n $NS_DIR link add $OA type veth peer name $RA netns $NS_RS1
  ip -n $NS_DIR link add $OB type veth peer name $RB netns $NS_RS2
  ip -n $NS_GEN link add $XA type veth peer name $XB  # idle pair: holds pktgen's idle XDP program

  ip -n $NS_GEN addr add 198.18.0.1/24 dev $G
  ip -n $NS_DIR addr add 198.18.0.2/24 dev $I
  ip -n $NS_DIR addr add 198.18.1.1/28 dev $OA
  ip -n $NS_DIR addr add 198.18.1.17/28 dev $OB
  ip -n $NS_RS1 addr add $RS1/28 dev $RA
  ip -n $NS_RS2 addr add $RS2/28 dev $RB
  for l in "$NS_GEN:$G" "$NS_GEN:$XA" "$NS_GEN:$XB" "$NS_DIR:$I" "$NS_DIR:$OA" "$NS_DIR:$OB" \
           "$NS_RS1:$RA" "$NS_RS2:$RB"; do
    ip -n "${l%%:*}" link set "${l##*:}" up
  done
  nsx $NS_DIR sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
    net.ipv4.conf.default.rp_filter=0 "net.ipv4.conf.$I.rp_filter=0"
  # The sinks pass ARP to the real servers' stacks: the director resolves them dynamically.
  ip -n $NS_RS1 link set dev $RA xdpdrv obj "$SINK_OBJ" sec xdp
  ip -n $NS_RS2 link set dev $RB xdpdrv obj "$SINK_OBJ" sec xdp
  # The generator writes full checksums; nothing on the sending side offloads them.
  nsx $NS_GEN ethtool -K $G tx off >/dev/null 2>&1 || true
  # veth only accepts XDP_REDIRECTed frames when the receiving end has NAPI: GRO on gives it NAPI
  # without an XDP program (UDP is not aggregated when forwarding). Then threaded NAPI, so the
  # director's receive work is a kthread we can pin.
  nsx $NS_DIR ethtool -K $I gro on >/dev/null
  nsx $NS_DIR sh -c "echo 1 > /sys/class/net/$I/threaded"
  DST_MAC=$(mac_of $NS_DIR $I)
  RS1_MAC=$(mac_of $NS_RS1 $RA)
  RS2_MAC=$(mac_of $NS_RS2 $RB)
  SAMPLE_MAP_RS1=$(sample_map_of $NS_RS1 $RA)
  SAMPLE_MAP_RS2=$(sample_map_of $NS_RS2 $RB)
  [ -n "$SAMPLE_MAP_RS1" ] && [ -n "$SAMPLE_MAP_RS2" ] ||
    log "no frame samples from the sinks (no bpftool, or an old sink.bpf.o): forms not checked"
}

# Pins the NAPI kthread(s) of the director's ingress veth to DIR_CPU (again after each case's
# set-up: attaching XDP may recreate them).
pin_napi() {
  local pids
  pids=$(ps -e -o pid=,comm= | awk -v p="napi/$I-" 'index($2, p) == 1 { print $1 }')
  [ -n "$pids" ] || die "no NAPI kthread for $I (threaded NAPI not enabled?)"
  for pid in $pids; do taskset -pc "$DIR_CPU" "$pid" >/dev/null; done
}

# ---------------------------------------------------------------------------------------------
# Frame samples: the sink keeps the first bytes of one frame in 4096 in its map "sink_sample"
# (per CPU: {u32 len, u32 seq, u8 bytes[128]}). Found through the program attached to the veth,
# so another run's sinks on the same machine are never read.

sample_map_of() {  # NS DEV -> id of the sink_sample map of DEV's XDP program, or nothing
  command -v bpftool >/dev/null || return 0
  local prog
  prog=$(ip -n "$1" -j link show dev "$2" | python3 -c '
import json, sys
l = json.load(sys.stdin)[0]
print(l.get("xdp", {}).get("prog", {}).get("id", ""))') || return 0
  [ -n "$prog" ] || return 0
  bpftool prog show id "$prog" -j 2>/dev/null | python3 -c '
import json, subprocess, sys
for m in json.load(sys.stdin).get("map_ids", []):
    info = json.loads(subprocess.run(["bpftool", "map", "show", "id", str(m), "-j"],
                                     capture_output=True, text=True).stdout or "{}")
    if info.get("name") == "sink_sample":
        print(m)
        break' || true
}

reset_samples() {
  local m zeros
  zeros=$(printf '0 %.0s' $(seq 136))
  for m in $SAMPLE_MAP_RS1 $SAMPLE_MAP_RS2; do
    # shellcheck disable=SC2086  # one word per byte
    bpftool map update id "$m" key 0 0 0 0 value $zeros 2>/dev/null || true
  done
}

# record_samples NAME LABEL: appends "NAME|LABEL|sample|rsN|LEN HEX" (or "|none") per sink.
record_samples() {
  local name=$1 label=$2 rs m s
  for rs in rs1 rs2; do
    if [ $rs = rs1 ]; then m=$SAMPLE_MAP_RS1; else m=$SAMPLE_MAP_RS2; fi
    [ -n "$m" ] || continue
    s=$(bpftool map lookup id "$m" key 0 0 0 0 -j 2>/dev/null | python3 -c '
import json, sys
best = None
for v in json.load(sys.stdin).get("values", []):  # the newest sample of any CPU
    b = bytes(int(x, 16) for x in v["value"])
    ln, seq = int.from_bytes(b[0:4], "little"), int.from_bytes(b[4:8], "little")
    if seq and (best is None or seq > best[1]):
        best = (ln, seq, b[8:8 + min(ln, 128)])
print("none" if best is None else f"{best[0]} {best[2].hex()}")' 2>/dev/null) || s=none
    echo "$name|$label|sample|$rs|${s:-none}" >>"$WORK/results.txt"
  done
}

# ---------------------------------------------------------------------------------------------
# Measurement.

# One generator run of $1 seconds; prints "offered seconds delivered_rs1 delivered_rs2 rx_dropped".
measure() {
  local secs=$1 rx1a rx2a drop_a rx1b rx2b drop_b out offered elapsed
  rx1a=$(rx_of $NS_RS1 $RA); rx2a=$(rx_of $NS_RS2 $RB)
  drop_a=$(nsx $NS_DIR cat /sys/class/net/$I/statistics/rx_dropped)
  timeout $((secs + 20)) ip netns exec $NS_GEN taskset -c "$GEN_CPU" "$PKTGEN" \
    --dev $G --dst-mac "$DST_MAC" --src-ip 198.18.0.16 --src-ip-count "$SRC_COUNT" \
    --sport 1024 --sport-count "$SPORT_COUNT" --dst-ip $VIP --dport $VPORT --size 64 \
    --seconds "$secs" --rate "$RATE" --idle-dev $XA >"$WORK/pktgen.out" 2>&1 &
  GEN_PID=$!
  wait $GEN_PID || { GEN_PID=""; die "lvs-pktgen failed: $(tail -3 "$WORK/pktgen.out")"; }
  GEN_PID=""
  sleep 0.3  # let the rings drain
  rx1b=$(rx_of $NS_RS1 $RA); rx2b=$(rx_of $NS_RS2 $RB)
  drop_b=$(nsx $NS_DIR cat /sys/class/net/$I/statistics/rx_dropped)
  out=$(cat "$WORK/pktgen.out")
  offered=$(sed -n 's/.*offered=\([0-9]*\).*/\1/p' <<<"$out")
  elapsed=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$out")
  [ -n "$offered" ] && [ -n "$elapsed" ] || die "unexpected lvs-pktgen output: $out"
  echo "$offered $elapsed $((rx1b - rx1a)) $((rx2b - rx2a)) $((drop_b - drop_a))"
}

# run_case NAME LABEL: warm-up, then RUNS measured runs appended to results.txt, then the sinks'
# frame samples. Returns non-zero (after recording why) if a run failed or lvsd went away.
run_case() {
  local name=$1 label=$2 r m
  pin_napi
  reset_samples
  # measure runs in a subshell (as in $(...) below), so its `die` ends only the case.
  if ! (measure "$WARMUP_SECONDS") >/dev/null 2>"$WORK/measure.err"; then
    fail_case "$name" "$label" "warm-up failed: $(tail -1 "$WORK/measure.err")"
    return 1
  fi
  for r in $(seq "$RUNS"); do
    if ! m=$(measure "$SECONDS_PER_RUN" 2>"$WORK/measure.err"); then
      fail_case "$name" "$label" "run $r failed: $(tail -1 "$WORK/measure.err")"
      return 1
    fi
    log "$name run $r: offered/seconds/rs1/rs2/rx_dropped = $m"
    echo "$name|$label|run|$m" >>"$WORK/results.txt"
    if [ -n "$LVSD_PID" ] && ! kill -0 "$LVSD_PID" 2>/dev/null; then
      wait "$LVSD_PID" 2>/dev/null || true
      LVSD_PID=""
      fail_case "$name" "$label" "lvsd exited during run $r: $(lvsd_log_tail)"
      return 1
    fi
  done
  record_samples "$name" "$label"
}
# A case that could not be measured: shown as "n/a (REASON)", the others go on.
skip_case() { echo "$1|$2|skipped|$3" >>"$WORK/results.txt"; log "$1: n/a: $3"; }
# A case that started but did not finish: its runs so far stay in the JSON, the table says n/a.
fail_case() { echo "$1|$2|failed|$3" >>"$WORK/results.txt"; log "$1: n/a: $3"; }
expect_form() { echo "$1|$2|expect|$3" >>"$WORK/results.txt"; }

# ---------------------------------------------------------------------------------------------
# Cases.
case_kernel() {
  local label="kernel IP forwarding (no LB)"
  expect_form kernel "$label" route
  if ! ip -n $NS_DIR route replace $VIP/32 via $RS1 dev $OA 2>"$WORK/route.err"; then
    skip_case kernel "$label" "route: $(head -1 "$WORK/route.err")"
    return 0
  fi
  run_case kernel "$label" || true
  ip -n $NS_DIR route del $VIP/32 2>/dev/null || true
}

case_nft() {
  local label="nftables DNAT numgen inc mod 2 (conntrack)"
  expect_form nft "$label" dnat
  if ! command -v nft >/dev/null; then
    skip_case nft "$label" "nft not installed (apt-get install nftables)"
    return 0
  fi
  if ! nsx $NS_DIR nft -f - >"$WORK/nft.err" 2>&1 <<EOF
table ip lvsbench {
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    ip daddr $VIP udp dport $VPORT dnat to numgen inc mod 2 map { 0 : $RS1, 1 : $RS2 }
  }
}
EOF
  then
    skip_case nft "$label" "nft refused the ruleset: $(head -1 "$WORK/nft.err")"
    return 0
  fi
  run_case nft "$label" || true
  nsx $NS_DIR nft delete table ip lvsbench 2>/dev/null || true
  nsx $NS_DIR sh -c 'command -v conntrack >/dev/null && conntrack -F >/dev/null 2>&1' || true
}

lvsd_log_tail() {
  # The last two lines lvsd wrote, on one line, without timestamps, at most 300 characters.
  tail -2 "$WORK/lvsd.log" 2>/dev/null |
    sed -E 's/^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:.]+ //' | tr '\n' ' ' | sed 's/  */ /g; s/ $//' |
    cut -c1-300
}

# lvsd_case NAME LABEL FORM: writes the config from $LVSD_TOP (top-level blocks), $LVSD_VS
# (virtual_server lines) and $LVSD_RS (lines in each real_server), starts lvsd on the director,
# measures, stops it. Every way of failing ends as n/a with lvsd's own words.
lvsd_case() {
  local name=$1 label=$2 form=$3
  expect_form "$name" "$label" "$form"
  if [ ! -x "$LVSD" ]; then
    skip_case "$name" "$label" "lvsd not built ($LVSD missing)"
    return 0
  fi
  local conf=$WORK/lvsd-$name.conf
  cat >"$conf" <<EOF
director {
  interface $I
  interface $OA
  interface $OB
}
${LVSD_TOP:-}
virtual_server $VIP $VPORT {
  lb_algo rr
  protocol UDP
$LVSD_VS
  real_server $RS1 $VPORT {
    weight 1
${LVSD_RS:-}
  }
  real_server $RS2 $VPORT {
    weight 1
${LVSD_RS:-}
  }
}
EOF
  # A keyword lvsd does not know yet is a refusal here, with its line:column message.
  if ! "$LVSD" -t -f "$conf" >"$WORK/lvsd.log" 2>&1; then
    local why
    why=$(grep -m1 -v '^$' "$WORK/lvsd.log" | sed "s|$WORK/||g" | cut -c1-300)
    skip_case "$name" "$label" "lvsd refused the config: $why"
    cp "$conf" "$OUT/lvsd-$name.conf" 2>/dev/null || true
    return 0
  fi
  local stats=$WORK/lvsd-$name-stats.json
  rm -f "$stats"
  # lvsd and its workers share DIR_CPU with the ingress NAPI kthread.
  local args=(--foreground -f "$conf" --stats-file "$stats" --socket "$WORK/lvsd.sock")
  [ -f "$BUILD/bpf/lvs_xdp.bpf.o" ] && args+=(--bpf-dir "$BUILD/bpf")
  # shellcheck disable=SC2206  # LVSD_ARGS: extra lvsd arguments, split on spaces
  args+=(${LVSD_ARGS:-})
  ip netns exec $NS_DIR taskset -c "$DIR_CPU" "$LVSD" "${args[@]}" >"$WORK/lvsd.log" 2>&1 &
  LVSD_PID=$!
  local waited=0 started=1
  while [ ! -s "$stats" ]; do
    if ! kill -0 "$LVSD_PID" 2>/dev/null; then
      wait "$LVSD_PID" 2>/dev/null || true
      LVSD_PID=""
      skip_case "$name" "$label" "lvsd exited during start-up: $(lvsd_log_tail)"
      started=0
      break
    fi
    if [ $waited -ge 200 ]; then
      stop_lvsd
      skip_case "$name" "$label" "lvsd did not write its statistics within 20 s"
      started=0
      break
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  if [ $started = 1 ]; then
    run_case "$name" "$label" || true
  fi
  stop_lvsd  # lvsd writes its statistics once more at exit
  cp "$stats" "$OUT/lvsd-$name-stats.json" 2>/dev/null || true
  cp "$WORK/lvsd.log" "$OUT/lvsd-$name.log" 2>/dev/null || true
  cp "$conf" "$OUT/lvsd-$name.conf" 2>/dev/null || true
  # lvsd detaches its XDP programs at exit; one killed hard may leave them, and they would take
  # the next case's traffic.
  local dev
  for dev in $I $OA $OB; do
    if ip -n $NS_DIR link show dev "$dev" | grep -q 'prog/xdp'; then
      log "$name: lvsd left an XDP program on $dev; detaching it"
      ip -n $NS_DIR link set dev "$dev" xdp off 2>/dev/null || true
    fi
  done
}

case_nat() {
  LVSD_TOP="" LVSD_VS="  lb_kind NAT" LVSD_RS="" lvsd_case nat "lvsd VS/NAT rr" dnat
}
case_dr() {
  # The director only rewrites the destination MAC: frames reach the sinks addressed to the VIP
  # (the sinks count them without the VIP on a real server's lo).
  LVSD_TOP="" LVSD_VS="  lb_kind DR" LVSD_RS="" lvsd_case dr "lvsd VS/DR rr" dr
}
case_tun_ipip() {
  LVSD_TOP="" LVSD_VS="  lb_kind TUN" LVSD_RS="    lvs_method TUN type ipip" \
    lvsd_case tun-ipip "lvsd VS/TUN ipip rr" ipip
}
case_tun_gue() {
  LVSD_TOP="" LVSD_VS="  lb_kind TUN" LVSD_RS="    lvs_method TUN type gue port $GUE_PORT" \
    lvsd_case tun-gue "lvsd VS/TUN gue rr" gue
}
case_fnat() {
  local label="lvsd FULLNAT rr (2 local addresses)"
  # The local addresses on the real-server side of the director, so the kernel answers ARP for
  # them there (the sinks never reply, so replies are not part of the measurement).
  if ! { ip -n $NS_DIR addr add $LADDR1/32 dev $OA && ip -n $NS_DIR addr add $LADDR2/32 dev $OB; } \
       2>"$WORK/addr.err"; then
    expect_form fnat "$label" fnat
    skip_case fnat "$label" "local addresses: $(head -1 "$WORK/addr.err")"
  else
    LVSD_TOP="local_address_group LG {
  $LADDR1
  $LADDR2
}" LVSD_VS="  lb_kind FNAT
  laddr_group_name LG" LVSD_RS="" lvsd_case fnat "$label" fnat
  fi
  ip -n $NS_DIR addr del $LADDR1/32 dev $OA 2>/dev/null || true
  ip -n $NS_DIR addr del $LADDR2/32 dev $OB 2>/dev/null || true
}

# ---------------------------------------------------------------------------------------------
mkdir -p "$OUT"
: >"$WORK/results.txt"
log "build $BUILD; cases ${case_list[*]}; $RUNS x ${SECONDS_PER_RUN} s per case; $FLOWS flows ($SRC_COUNT addresses x $SPORT_COUNT ports); director CPU $DIR_CPU, generator CPU $GEN_CPU"
setup_topology
for c in "${case_list[@]}"; do
  case "$c" in
    kernel) case_kernel ;;
    nft) case_nft ;;
    nat) case_nat ;;
    dr) case_dr ;;
    tun-ipip) case_tun_ipip ;;
    tun-gue) case_tun_gue ;;
    fnat) case_fnat ;;
  esac
done

# Table, JSON and Markdown from the recorded runs.
TOPO="vip=$VIP vport=$VPORT rs1=$RS1 rs2=$RS2 rs1_mac=$RS1_MAC rs2_mac=$RS2_MAC"
TOPO+=" laddrs=$LADDR1,$LADDR2 gue_port=$GUE_PORT client_net=$CLIENT_NET"
python3 - "$WORK/results.txt" "$OUT" "$RUNS" "$SECONDS_PER_RUN" "$FLOWS" "$DIR_CPU" "$GEN_CPU" \
  "$TOPO" <<'PY'
import ipaddress, json, statistics, sys, time, platform
path, out, runs, secs, flows, dcpu, gcpu, topo = sys.argv[1:9]
topo = dict(kv.split("=", 1) for kv in topo.split())
VIP, VPORT = topo["vip"], int(topo["vport"])
RS = {"rs1": topo["rs1"], "rs2": topo["rs2"]}
RS_MAC = {"rs1": topo["rs1_mac"].lower(), "rs2": topo["rs2_mac"].lower()}
LADDRS = set(topo["laddrs"].split(","))
GUE_PORT = int(topo["gue_port"])
CLIENTS = ipaddress.ip_network(topo["client_net"])

cases = {}
order = []
for line in open(path):
    name, label, kind, rest = line.rstrip("\n").split("|", 3)
    if name not in cases:
        cases[name] = {"case": name, "label": label, "runs": [], "na": None, "form": None,
                       "samples": {}}
        order.append(name)
    c = cases[name]
    if kind in ("skipped", "failed"):
        c["na"] = rest
    elif kind == "expect":
        c["form"] = rest
    elif kind == "sample":
        rs, s = rest.split("|", 1)
        c["samples"][rs] = None if s == "none" else s
    elif kind == "run":
        offered, seconds, rs1, rs2, dropped = rest.split()
        seconds = float(seconds)
        d = int(rs1) + int(rs2)
        c["runs"].append({
            "offered": int(offered), "seconds": seconds, "delivered": d,
            "delivered_rs1": int(rs1), "delivered_rs2": int(rs2),
            "ingress_rx_dropped": int(dropped),
            "offered_mpps": int(offered) / seconds / 1e6, "delivered_mpps": d / seconds / 1e6})

# ---- the form of the frames the sinks received --------------------------------------------
def ip4(b, off):
    return str(ipaddress.IPv4Address(b[off:off + 4]))

def csum(data):
    """The Internet checksum's ones' complement sum of data (RFC 1071), folded to 16 bits."""
    if len(data) % 2:
        data += b"\0"
    t = sum(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2))
    while t >> 16:
        t = (t & 0xFFFF) + (t >> 16)
    return t

def decode_ip(b, off):
    """IPv4 header at off -> (dict, offset of L4) or (None, reason). Checks the header checksum
    and, when the sample holds the whole datagram, the UDP checksum (a real server would drop
    a frame with a wrong one, so such frames must not count as delivered)."""
    if len(b) < off + 20 or b[off] >> 4 != 4:
        return None, "not IPv4"
    ihl = (b[off] & 15) * 4
    d = {"src": ip4(b, off + 12), "dst": ip4(b, off + 16), "proto": b[off + 9]}
    if len(b) >= off + ihl and csum(b[off:off + ihl]) != 0xFFFF:
        d["bad"] = "bad IPv4 header checksum"
    l4 = off + ihl
    if d["proto"] == 17 and len(b) >= l4 + 8:
        ulen = int.from_bytes(b[l4 + 4:l4 + 6], "big")
        if int.from_bytes(b[l4 + 6:l4 + 8], "big") != 0 and len(b) >= l4 + ulen >= l4 + 8:
            pseudo = b[off + 12:off + 20] + bytes([0, 17]) + ulen.to_bytes(2, "big")
            if csum(pseudo + b[l4:l4 + ulen]) != 0xFFFF:
                d["bad"] = "bad UDP checksum"
    return d, l4

def decode(b):
    """A sampled frame -> a dict describing it, outer and (for tunnels) inner."""
    f = {"eth_dst": b[0:6].hex(":"), "len": None}
    if len(b) < 14 or b[12:14] != b"\x08\x00":
        f["error"] = "not IPv4 (ethertype %s)" % b[12:14].hex()
        return f
    ip, l4 = decode_ip(b, 14)
    if ip is None:
        f["error"] = l4
        return f
    f.update(ip)
    if ip["proto"] in (6, 17) and len(b) >= l4 + 4:
        f["sport"] = int.from_bytes(b[l4:l4 + 2], "big")
        f["dport"] = int.from_bytes(b[l4 + 2:l4 + 4], "big")
    inner_off = None
    if ip["proto"] == 4:
        inner_off = l4
        f["tunnel"] = "ipip"
    elif ip["proto"] == 17 and f.get("dport") == GUE_PORT and len(b) >= l4 + 12:
        gue = b[l4 + 8:l4 + 12]  # version 0: ver(2) C(1) hlen(5), proto, flags(16)
        f["tunnel"] = "gue"
        f["gue_proto"] = gue[1]
        inner_off = l4 + 12 + (gue[0] & 31) * 4
    if inner_off is not None:
        inner, il4 = decode_ip(b, inner_off)
        if inner is None:
            f["inner_error"] = il4
        else:
            if inner["proto"] in (6, 17) and len(b) >= il4 + 4:
                inner["sport"] = int.from_bytes(b[il4:il4 + 2], "big")
                inner["dport"] = int.from_bytes(b[il4 + 2:il4 + 4], "big")
            f["inner"] = inner
    return f

def show(f):
    if "error" in f:
        return f["error"]
    def ep(d):
        s = f"{d['src']}:{d.get('sport', '?')} > {d['dst']}:{d.get('dport', '?')}"
        return s + (" udp" if d["proto"] == 17 else f" proto {d['proto']}")
    if "tunnel" in f:
        inner = f.get("inner")
        i = ep(inner) if inner else f.get("inner_error", "?")
        o = (f"{f['src']} > {f['dst']}" if f["tunnel"] == "ipip" else ep(f))
        return f"{f['tunnel']} {o} [{i}]"
    return ep(f)

def check(form, rs, f):
    """None if frame f, received by rs, has the form the case claims, else why not."""
    if "error" in f:
        return f["error"]
    for d, where in ((f, ""), (f.get("inner") or {}, "inner ")):
        if "bad" in d:
            return where + d["bad"]
    vip_udp = lambda d: d["dst"] == VIP and d["proto"] == 17 and d.get("dport") == VPORT
    client = lambda d: ipaddress.ip_address(d["src"]) in CLIENTS
    if f["eth_dst"] != RS_MAC[rs]:
        return f"Ethernet destination {f['eth_dst']} is not {rs}'s {RS_MAC[rs]}"
    if form in ("route", "dr"):  # the client's packet as sent, to the VIP
        if "tunnel" in f or not vip_udp(f) or not client(f):
            return f"expected client > {VIP}:{VPORT} udp unchanged"
    elif form == "dnat":
        if not (f["dst"] == RS[rs] and f["proto"] == 17 and f.get("dport") == VPORT and client(f)):
            return f"expected client > {RS[rs]}:{VPORT} udp (destination rewritten)"
    elif form == "fnat":
        if not (f["dst"] == RS[rs] and f["proto"] == 17 and f.get("dport") == VPORT and
                f["src"] in LADDRS):
            return f"expected local address > {RS[rs]}:{VPORT} udp (both ends rewritten)"
    elif form in ("ipip", "gue"):
        if f.get("tunnel") != form or f["dst"] != RS[rs]:
            return f"expected a {form} tunnel to {RS[rs]}"
        if form == "gue" and f.get("gue_proto") != 4:
            return f"GUE protocol {f.get('gue_proto')}, expected 4 (IPv4)"
        inner = f.get("inner")
        if not inner or not vip_udp(inner) or not client(inner):
            return f"expected client > {VIP}:{VPORT} udp inside the tunnel"
    return None

for c in cases.values():
    if c["runs"]:
        c["delivered_mpps_median"] = statistics.median(r["delivered_mpps"] for r in c["runs"])
        c["offered_mpps_median"] = statistics.median(r["offered_mpps"] for r in c["runs"])
        tot = sum(r["delivered"] for r in c["runs"])
        c["share_rs1"] = sum(r["delivered_rs1"] for r in c["runs"]) / tot if tot else 0.0
        if c["delivered_mpps_median"] < 0.001:
            c["broken"] = "nothing delivered"
    # Form check: every sink that received a good part of the traffic must have a sample of
    # the expected form (kernel forwarding sends everything to rs1).
    samples = c.pop("samples")
    if c["na"] or not c["runs"] or c.get("broken"):
        c["frames"] = None
        continue
    if not samples:
        c["frames"] = {"check": "not checked", "why": "no samples (bpftool missing?)"}
        continue
    frames, wrong = {}, []
    for rs in ("rs1", "rs2"):
        share = c["share_rs1"] if rs == "rs1" else 1 - c["share_rs1"]
        s = samples.get(rs)
        if s is None:
            if share > 0.01:
                wrong.append(f"{rs}: no sample")
            continue
        ln, hexbytes = s.split()
        f = decode(bytes.fromhex(hexbytes))
        f["len"] = int(ln)
        frames[rs] = {"frame": show(f), "len": int(ln), "bytes": hexbytes}
        why = check(c["form"], rs, f) if share > 0.01 else None
        if why:
            frames[rs]["wrong"] = why
            wrong.append(f"{rs}: {show(f)}: {why}")
    c["frames"] = {"check": "WRONG" if wrong else "ok", "expected": c["form"],
                   "samples": frames}
    if wrong:
        c["frames"]["why"] = "; ".join(wrong)

def ratio(name, base):
    a, b = cases.get(name), cases.get(base)
    if not a or not b or a["na"] or b["na"]:
        return None
    if "delivered_mpps_median" not in a or "delivered_mpps_median" not in b:
        return None
    if b["delivered_mpps_median"] <= 0:
        return None
    return a["delivered_mpps_median"] / b["delivered_mpps_median"]
for n, c in cases.items():
    c["ratio_to_kernel"] = ratio(n, "kernel")
    c["ratio_to_nft"] = ratio(n, "nft")
result = {
    "benchmark": "forwarding.sh", "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    "kernel": platform.release(), "runs_per_case": int(runs), "seconds_per_run": int(secs),
    "flows": int(flows), "frame_len": 64, "director_cpu": int(dcpu), "generator_cpu": int(gcpu),
    "cases": [cases[n] for n in order],
}
if "nat" in cases and cases["nat"].get("ratio_to_nft") is not None:
    result["target_lvsd_ge_nft"] = cases["nat"]["ratio_to_nft"] >= 1.0
notes = []
fmt = lambda x, p=2: "-" if x is None else f"{x:.{p}f}"
rows = [("case", "delivered Mpps (median)", "runs (Mpps)", "offered Mpps", "rs1 share",
         "frames", "vs kernel fwd", "vs nftables")]
na_rows = set()
for n in order:
    c = cases[n]
    if c["na"]:
        rows.append((c["label"], f"n/a ({c['na']})"))
        na_rows.add(len(rows) - 1)
        continue
    fr = c["frames"]
    label = c["label"] + (" [BROKEN: " + c["broken"] + "]" if c.get("broken") else "")
    rows.append((label, fmt(c["delivered_mpps_median"], 3),
                 " ".join(fmt(r["delivered_mpps"], 3) for r in c["runs"]),
                 fmt(c["offered_mpps_median"], 2), fmt(c["share_rs1"], 2),
                 fr["check"] if fr else "-", fmt(c["ratio_to_kernel"]), fmt(c["ratio_to_nft"])))
    if fr and fr["check"] != "ok":
        notes.append(f"{c['label']}: frames {fr['check']}: {fr.get('why', '')}")
# Column widths from the measured rows: an n/a row's reason runs past them, as the last cell.
w = [max(len(r[i]) for k, r in enumerate(rows) if k not in na_rows) for i in range(len(rows[0]))]
text = "\n".join("  ".join(r[i].ljust(w[i]) for i in range(len(r))).rstrip() for r in rows)
head = (f"forwarding.sh: UDP 64-byte frames, {flows} flows, {runs} x {secs} s per case (median), "
        f"director CPU {dcpu}, generator CPU {gcpu}, kernel {platform.release()}")
print(head)
print(text)
for n in notes:
    print(n)
with open(f"{out}/forwarding.json", "w") as f:
    json.dump(result, f, indent=2)
    f.write("\n")
with open(f"{out}/forwarding.md", "w") as f:
    f.write(head + "\n\n")
    f.write("| " + " | ".join(rows[0]) + " |\n")
    f.write("|" + "|".join("---" for _ in rows[0]) + "|\n")
    for r in rows[1:]:
        r = tuple(r) + ("",) * (len(rows[0]) - len(r))
        f.write("| " + " | ".join(x.replace("|", "\\|") for x in r) + " |\n")
    samples = [(cases[n]["label"], rs, s["frame"]) for n in order if cases[n].get("frames")
               for rs, s in cases[n]["frames"].get("samples", {}).items()]
    if samples:
        f.write("\nA frame each sink received (one in 4096 is sampled):\n\n")
        f.write("".join(f"- {lab}, {rs}: `{fr}`\n" for lab, rs, fr in samples))
    if notes:
        f.write("\n" + "\n".join("- " + n for n in notes) + "\n")
print(f"written: {out}/forwarding.json {out}/forwarding.md")
PY
