#!/usr/bin/env bash
# Malformed frames: lvs-inject writes N frames of each broken kind from the router onto the
# director's outside link (d-ext), addressed to the VIP (v4 and v6) from the client's address.
#
# lvsd's XDP classifier (bpf/lvs_classify.h) hands a frame to lvsd only when it can read the
# ports and (proto, daddr, dport) is a service: it checks the IPv4 version and IHL, skips
# fragments, VLAN tags and other transports, and walks at most 4 IPv6 extension headers within
# the frame. So some kinds reach the engine and must be counted under exactly their drop
# reason, with nothing else in the stats moving (services, connections, other reasons, tx);
# the others never reach lvsd and must be handled by the director's kernel instead (its
# counter, from nstat, rises by N; lvsd's stats do not move at all).
#
# With the nftables stand-in no LB runs: every kind goes to the kernel, which checks the
# injector and the kernel-side expectations.
# Topology: see lib.sh (with IPv6).
source "$(dirname "$0")/lib.sh"

e2e_init malformed
e2e_require nstat
[ -n "$LVS_INJECT" ] || skip "LVS_INJECT is not set (path to tests/tools' lvs-inject)"
[ -x "$LVS_INJECT" ] || fail "LVS_INJECT=$LVS_INJECT is not an executable"
lb_require

N=${MALFORMED_N:-10}

# kind  where(lvsd:reason | kernel)  kernel counter that moves when the kernel handles it (-: none)
EXPECT="
bad_ip_checksum        lvsd:bad_ip_checksum  IpExtInCsumErrors
bad_ip_version         kernel                IpInHdrErrors
bad_ihl                kernel                IpInHdrErrors
ip_len_too_long        lvsd:bad_ip_length    IpExtInTruncatedPkts
ip_len_too_short       lvsd:bad_ip_length    IpInHdrErrors
truncated_ip           kernel                IpInHdrErrors
truncated_tcp          lvsd:truncated_l4     -
tcp_doff_short         lvsd:bad_l4_header    TcpInErrs
tcp_doff_long          lvsd:bad_l4_header    -
udp_len_too_long       lvsd:bad_l4_header    UdpInErrors
udp_len_too_short      lvsd:bad_l4_header    UdpInErrors
fragment               kernel                IpReasmReqds
vlan_tagged            kernel                -
tcp_ack_no_conn        lvsd:no_connection    TcpOutRsts
sctp                   kernel                IpInUnknownProtos
no_service_port        kernel                TcpOutRsts
ipv6_bad_ext           kernel                Ip6InHdrErrors
ipv6_long_ext_chain    kernel                TcpOutRsts
ipv6_truncated         kernel                Ip6InHdrErrors
ipv6_len_too_long      lvsd:bad_ip_length    Ip6InTruncatedPkts
ipv6_ext_past_payload  lvsd:bad_ext_header   Ip6InHdrErrors
"

topo_create --ipv6
topo_mode nat
topo_warmup

if lb_is_lvsd; then
  # TCP and UDP on VIP:80 and TCP on [VIP6]:80, so every kind's destination is a service.
  svc_add TCP "$VIP" 80 rr NAT
  for ip in "${RS_IPS[@]}"; do dest_add "$ip" 80; done
  svc_add UDP "$VIP" 80 rr NAT
  for ip in "${RS_IPS[@]}"; do dest_add "$ip" 80; done
  svc_add TCP "$VIP6" 80 rr NAT
  for ip in "${RS_IP6S[@]}"; do dest_add "$ip" 80; done
  lb_start
else
  e2e_log "stand-in: no LB, the director's kernel gets every frame"
fi

dst_mac=$(mac_of dir d-ext)

# Counters as "path=value" lines, services and real servers keyed by name, not position.
stats_flat() {
  jq -r '
    .services = ((.services // []) | map({key: .key,
      value: (.dests = ((.dests // []) | map({key: "\(.addr):\(.port)", value: .}) | from_entries))})
      | from_entries)
    | paths(scalars) as $p | getpath($p) as $v | select($v | type == "number")
    | "\($p | map(tostring) | join("/"))=\($v)"' "$STATS_NOW" | sort
}
# changes BEFORE AFTER: "key old->new" for every value that differs, except the XDP
# classifier's rx/pass counts (they also count the kernel's own traffic: ARP, ND, ...) and the
# workers' idle-loop figures (they move with time, not traffic).
changes() {
  awk -F= 'NR == FNR { a[$1] = $2; next }
    { if (!($1 in a)) print $1 " new " $2; else if (a[$1] != $2) print $1 " " a[$1] "->" $2; delete a[$1] }
    END { for (k in a) print k " gone" }' "$1" "$2" |
    grep -Ev '^(classifier/(rx|pass)|worker/)' | sort || true
}
flat_value() { awk -F= -v k="$1" '$1 == k { print $2 }' "$2"; }
kernel_counter() {  # NAME: absolute value in the director's namespace (0 if absent)
  nsx dir nstat -asz "$1" 2>/dev/null | awk -v n="$1" '$1 == n { v = $2 } END { print v + 0 }'
}

if lb_is_lvsd; then
  # The stats must be quiet before anything is injected.
  stats_refresh
  stats_flat >"$E2E_TMP/flat.0"
  sleep 0.5
  stats_refresh
  stats_flat >"$E2E_TMP/flat.1"
  quiet=$(changes "$E2E_TMP/flat.0" "$E2E_TMP/flat.1")
  [ -z "$quiet" ] || fail "stats move with no traffic: $quiet"
fi

summary=()
while read -r kind where counter; do
  [ -n "$kind" ] || continue
  lb_is_lvsd || where=kernel
  reason=${where#lvsd:}
  k0=0
  [ "$counter" = - ] || k0=$(kernel_counter "$counter")
  if lb_is_lvsd; then
    stats_refresh
    stats_flat >"$E2E_TMP/before"
    r0=$(stat_get ".drops.${reason} // 0")
  fi

  nsx router "$LVS_INJECT" -i r-dir --dst-mac "$dst_mac" -n "$N" \
    --src "$CLIENT_IP" --dst "$VIP" --src6 "$CLIENT_IP6" --dst6 "$VIP6" --dport 80 \
    "$kind" >>"$E2E_TMP/inject.log" || fail "lvs-inject $kind failed"

  if [ "$where" = kernel ]; then
    sleep 0.4
  fi
  if lb_is_lvsd; then
    if [ "$where" != kernel ]; then
      for _ in $(seq 30); do
        stats_refresh
        [ "$(stat_get ".drops.${reason} // 0")" -ge $((r0 + N)) ] && break
        sleep 0.1
      done
      sleep 0.2  # room for anything extra to show up
    fi
    stats_refresh
    stats_flat >"$E2E_TMP/after"
    changed=$(changes "$E2E_TMP/before" "$E2E_TMP/after")
    if [ "$where" = kernel ]; then
      [ -z "$changed" ] || fail "$kind should stay with the kernel, but lvsd's stats moved: $changed"
      p0=$(flat_value classifier/pass "$E2E_TMP/before")
      p1=$(flat_value classifier/pass "$E2E_TMP/after")
      if [ -n "$p0" ]; then
        assert_ge "$kind: XDP classifier passes to the kernel" "$((p1 - p0))" "$N"
      fi
    else
      # Received by lvsd (XDP classifier: a service), counted under one reason, nothing sent.
      moved=("drops/$reason $r0->$((r0 + N))")
      for k in rx_packets io/rx_frames classifier/service; do
        v=$(flat_value "$k" "$E2E_TMP/before")
        [ -z "$v" ] || moved+=("$k $v->$((v + N))")
      done
      want=$(printf '%s\n' "${moved[@]}" | sort)
      [ "$changed" = "$want" ] || fail "$kind: expected only
$want
but the stats changed:
$changed"
    fi
  fi
  if [ "$counter" != - ]; then
    k1=$(kernel_counter "$counter")
    if [ "$where" = kernel ]; then
      assert_eq "$kind: kernel $counter delta" "$((k1 - k0))" "$N"
    else
      assert_eq "$kind: kernel $counter delta (lvsd took the frames)" "$((k1 - k0))" 0
    fi
  fi
  e2e_log "ok: $kind x$N -> $where"
  summary+=("$(printf '%-22s %s' "$kind" "$where")")
done <<<"$EXPECT"

e2e_log "where each kind was handled:"
printf '  %s\n' "${summary[@]}" >&2

if lb_is_lvsd; then
  kill -0 "$LB_PID" || fail "lvsd is gone"
  lb_stop || fail "lvsd did not exit cleanly on SIGTERM"
fi
