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
# so the director resolves the real servers as on a real network).
# Cases (each: 1 s warm-up, then RUNS x SECONDS, median):
#   kernel  plain kernel IP forwarding, VIP routed to rs1 (no load balancing)
#   nft     nftables DNAT `numgen inc mod 2` to rs1/rs2, with conntrack
#   lvsd    lvsd VS/NAT, rr over rs1/rs2 (<build>/apps/lvsd -f CONF --stats-file FILE)
# Prints a table (case, delivered Mpps, ratio to kernel forwarding, ratio to nftables) and
# writes the same as forwarding.json and forwarding.md into the output directory.
#
# Everything lives in namespaces this script creates (addresses from 198.18.0.0/15); every load
# run stops by itself (--seconds, and a timeout around it); on exit, also on failure, the script
# stops the processes it started (by PID) and deletes its namespaces (and with them the veths and
# their XDP programs).
set -euo pipefail

usage() {
  cat <<EOF
usage: $0 [--build DIR] [--out DIR] [--runs N] [--seconds S] [--flows N] [--cases LIST]
          [--dir-cpu N] [--gen-cpu N] [--rate MPPS] [--quick]
  --build DIR   build tree with bench/lvs-pktgen, bench/pktgen/sink.bpf.o, apps/lvsd
                (default: \$BUILD or <repo>/build)
  --out DIR     where forwarding.json / forwarding.md go (default: <build>/bench-results)
  --runs N      measured runs per case (default 3); --seconds S: length of each (default 5)
  --flows N     number of flows, a multiple of 1024 up to 1048576 (default 65536)
  --cases LIST  comma-separated subset of kernel,nft,lvsd (default: all)
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
CASES="kernel,nft,lvsd"
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
for tool in ip nft ethtool taskset python3 timeout; do
  command -v "$tool" >/dev/null || die "'$tool' not found (apt-get install iproute2 nftables ethtool util-linux python3 coreutils)"
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
CLIENT_NET=198.18.0.0/24
WORK=$(mktemp -d /tmp/lvs-forwarding.XXXXXX)
LVSD_PID=""
GEN_PID=""

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
}

# Pins the NAPI kthread(s) of the director's ingress veth to DIR_CPU (again after each case's
# set-up: attaching XDP may recreate them).
pin_napi() {
  local pids
  pids=$(ps -e -o pid=,comm= | awk -v p="napi/$I-" 'index($2, p) == 1 { print $1 }')
  [ -n "$pids" ] || die "no NAPI kthread for $I (threaded NAPI not enabled?)"
  for pid in $pids; do taskset -pc "$DIR_CPU" "$pid" >/dev/null; done
}

# One generator run of $1 seconds; prints "offered seconds delivered_rs1 delivered_rs2 rx_dropped".
measure() {
  local secs=$1 rx1a rx2a drop_a rx1b rx2b drop_b out offered elapsed
  rx1a=$(rx_of $NS_RS1 $RA); rx2a=$(rx_of $NS_RS2 $RB)
  drop_a=$(nsx $NS_DIR cat /sys/class/net/$I/statistics/rx_dropped)
  timeout $((secs + 20)) ip netns exec $NS_GEN taskset -c "$GEN_CPU" "$PKTGEN" \
    --dev $G --dst-mac "$DST_MAC" --src-ip 198.18.0.16 --src-ip-count "$SRC_COUNT" \
    --sport 1024 --sport-count "$SPORT_COUNT" --dst-ip $VIP --dport $VPORT --size 64 \
    --seconds "$secs" --rate "$RATE" --idle-dev $XA >"$WORK/pktgen.out" &
  GEN_PID=$!
  wait $GEN_PID || { GEN_PID=""; die "lvs-pktgen failed: $(cat "$WORK/pktgen.out")"; }
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

# run_case NAME LABEL: warm-up, then RUNS measured runs appended to results.txt.
run_case() {
  local name=$1 label=$2 r m
  pin_napi
  measure "$WARMUP_SECONDS" >/dev/null
  for r in $(seq "$RUNS"); do
    m=$(measure "$SECONDS_PER_RUN")
    log "$name run $r: offered/seconds/rs1/rs2/rx_dropped = $m"
    echo "$name|$label|$m" >>"$WORK/results.txt"
  done
}
skip_case() { echo "$1|$2|skipped|$3" >>"$WORK/results.txt"; log "$1 skipped: $3"; }

# ---------------------------------------------------------------------------------------------
# Cases.
case_kernel() {
  ip -n $NS_DIR route replace $VIP/32 via $RS1 dev $OA
  run_case kernel "kernel IP forwarding (no LB)"
  ip -n $NS_DIR route del $VIP/32
}

case_nft() {
  nsx $NS_DIR nft -f - <<EOF
table ip lvsbench {
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    ip daddr $VIP udp dport $VPORT dnat to numgen inc mod 2 map { 0 : $RS1, 1 : $RS2 }
  }
}
EOF
  run_case nft "nftables DNAT numgen inc mod 2 (conntrack)"
  nsx $NS_DIR nft delete table ip lvsbench
  nsx $NS_DIR sh -c 'command -v conntrack >/dev/null && conntrack -F >/dev/null 2>&1' || true
}

case_lvsd() {
  local label="lvsd VS/NAT rr"
  if [ ! -x "$LVSD" ]; then
    skip_case lvsd "$label" "lvsd not built ($LVSD missing)"
    return
  fi
  cat >"$WORK/lvsd.conf" <<EOF
director {
  interface $I
  interface $OA
  interface $OB
}
virtual_server $VIP $VPORT {
  lb_algo rr
  lb_kind NAT
  protocol UDP
  real_server $RS1 $VPORT { weight 1 }
  real_server $RS2 $VPORT { weight 1 }
}
EOF
  local stats=$WORK/lvsd-stats.json
  rm -f "$stats"
  # lvsd and its workers share DIR_CPU with the ingress NAPI kthread.
  local args=(-f "$WORK/lvsd.conf" --stats-file "$stats")
  [ -f "$BUILD/bpf/lvs_xdp.bpf.o" ] && args+=(--bpf-dir "$BUILD/bpf")
  # shellcheck disable=SC2206  # LVSD_ARGS: extra lvsd arguments, split on spaces
  args+=(${LVSD_ARGS:-})
  ip netns exec $NS_DIR taskset -c "$DIR_CPU" "$LVSD" "${args[@]}" >"$WORK/lvsd.log" 2>&1 &
  LVSD_PID=$!
  local waited=0
  while [ ! -s "$stats" ]; do
    if ! kill -0 "$LVSD_PID" 2>/dev/null; then
      wait "$LVSD_PID" 2>/dev/null || true
      LVSD_PID=""
      skip_case lvsd "$label" "lvsd exited during start-up: $(tail -3 "$WORK/lvsd.log" | tr '\n' ' ')"
      return
    fi
    [ $waited -lt 200 ] || {
      stop_lvsd
      skip_case lvsd "$label" "lvsd did not write $stats within 20 s"
      return
    }
    sleep 0.1
    waited=$((waited + 1))
  done
  run_case lvsd "$label"
  stop_lvsd  # lvsd writes its statistics once more at exit
  cp "$stats" "$OUT/lvsd-stats.json" 2>/dev/null || true
  cp "$WORK/lvsd.log" "$OUT/lvsd.log" 2>/dev/null || true
}

# ---------------------------------------------------------------------------------------------
mkdir -p "$OUT"
: >"$WORK/results.txt"
log "build $BUILD; $RUNS x ${SECONDS_PER_RUN} s per case; $FLOWS flows ($SRC_COUNT addresses x $SPORT_COUNT ports); director CPU $DIR_CPU, generator CPU $GEN_CPU"
setup_topology
IFS=, read -r -a case_list <<<"$CASES"
for c in "${case_list[@]}"; do
  case "$c" in
    kernel) case_kernel ;;
    nft) case_nft ;;
    lvsd) case_lvsd ;;
    *) die "unknown case '$c' (kernel, nft, lvsd)" ;;
  esac
done

# Table, JSON and Markdown from the recorded runs.
python3 - "$WORK/results.txt" "$OUT" "$RUNS" "$SECONDS_PER_RUN" "$FLOWS" "$DIR_CPU" "$GEN_CPU" <<'PY'
import json, statistics, sys, time, platform
path, out, runs, secs, flows, dcpu, gcpu = sys.argv[1:8]
cases = {}
order = []
for line in open(path):
    name, label, rest = line.rstrip("\n").split("|", 2)
    if name not in cases:
        cases[name] = {"case": name, "label": label, "runs": [], "skipped": None}
        order.append(name)
    if rest.startswith("skipped|"):
        cases[name]["skipped"] = rest.split("|", 1)[1]
        continue
    offered, seconds, rs1, rs2, dropped = rest.split()
    seconds = float(seconds)
    d = int(rs1) + int(rs2)
    cases[name]["runs"].append({
        "offered": int(offered), "seconds": seconds, "delivered": d,
        "delivered_rs1": int(rs1), "delivered_rs2": int(rs2), "ingress_rx_dropped": int(dropped),
        "offered_mpps": int(offered) / seconds / 1e6, "delivered_mpps": d / seconds / 1e6})
for c in cases.values():
    if c["runs"]:
        c["delivered_mpps_median"] = statistics.median(r["delivered_mpps"] for r in c["runs"])
        c["offered_mpps_median"] = statistics.median(r["offered_mpps"] for r in c["runs"])
        tot = sum(r["delivered"] for r in c["runs"])
        c["share_rs1"] = sum(r["delivered_rs1"] for r in c["runs"]) / tot if tot else 0.0
        if c["delivered_mpps_median"] < 0.001:
            c["broken"] = "nothing delivered"
def ratio(name, base):
    a, b = cases.get(name), cases.get(base)
    if not a or not b or "delivered_mpps_median" not in a or "delivered_mpps_median" not in b:
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
if "lvsd" in cases and cases["lvsd"].get("ratio_to_nft") is not None:
    result["target_lvsd_ge_nft"] = cases["lvsd"]["ratio_to_nft"] >= 1.0
notes = []
fmt = lambda x, p=2: "-" if x is None else f"{x:.{p}f}"
rows = [("case", "delivered Mpps (median)", "runs (Mpps)", "offered Mpps", "rs1 share",
         "vs kernel fwd", "vs nftables")]
for n in order:
    c = cases[n]
    if c["skipped"]:
        rows.append((c["label"], "skipped", "", "", "", "", ""))
        notes.append(f"{c['label']}: skipped: {c['skipped']}")
        continue
    rows.append((c["label"] + (" [BROKEN: " + c["broken"] + "]" if c.get("broken") else ""),
                 fmt(c["delivered_mpps_median"], 3),
                 " ".join(fmt(r["delivered_mpps"], 3) for r in c["runs"]),
                 fmt(c["offered_mpps_median"], 2), fmt(c["share_rs1"], 2),
                 fmt(c["ratio_to_kernel"]), fmt(c["ratio_to_nft"])))
w = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
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
        f.write("| " + " | ".join(x if x else "" for x in r) + " |\n")
    if notes:
        f.write("\n" + "\n".join("- " + n for n in notes) + "\n")
print(f"written: {out}/forwarding.json {out}/forwarding.md")
PY
