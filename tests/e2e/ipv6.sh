#!/usr/bin/env bash
# IPv6 end to end: the same hosts with 2001:2::/48 addresses, nginx on [::]:80.
#   VS/NAT [2001:2:2::100]:80 rr   60 requests -> 20 / 20 / 20; replies come back through lvsd
#   VS/DR  the same VIP on the real servers' lo, 60 requests -> 20 / 20 / 20, outpkts stay 0
# (The nftables stand-in hashes DR flows, so there only "every server answered" is checked.)
# Topology: see lib.sh (topo_create --ipv6).
source "$(dirname "$0")/lib.sh"

e2e_init ipv6
e2e_require curl nginx
lb_require

topo_create --ipv6
rs_start_nginx 80
topo_warmup
url="http://[$VIP6]:80/"

for kind in NAT DR; do
  if [ "$kind" = NAT ]; then topo_mode nat; else topo_mode dr; fi
  lb_reset
  svc_add TCP "$VIP6" 80 rr "$kind"
  for ip in "${RS_IP6S[@]}"; do dest_add "$ip" 80; done
  lb_start
  http_seq 60 "$url" "$E2E_TMP/$kind.out"
  if [ "$kind" = NAT ] || lb_is_lvsd; then
    expect_spread "IPv6 $kind rr" "$E2E_TMP/$kind.out" 20 20 20
  else
    e2e_log "IPv6 $kind: $(show_spread "$E2E_TMP/$kind.out")"
    assert_eq "IPv6 $kind: failed requests" "$(count ERR "$E2E_TMP/$kind.out")" 0
    for rs in "${RS_NAMES[@]}"; do
      assert_gt "IPv6 $kind: answers from $rs" "$(count "$rs" "$E2E_TMP/$kind.out")" 0
    done
  fi
  if lb_is_lvsd; then
    stats_refresh
    key="TCP [$VIP6]:80"
    e2e_log "$kind drops: $(jq -c '.drops | with_entries(select(.value > 0))' "$STATS_NOW")"
    assert_eq "$key ($kind) conns" "$(stat_svc "$key" .stats.conns)" 60
    assert_gt "$key ($kind) inpkts" "$(stat_svc "$key" .stats.inpkts)" 180
    if [ "$kind" = NAT ]; then
      assert_gt "$key (NAT) outpkts" "$(stat_svc "$key" .stats.outpkts)" 120
    else
      assert_eq "$key (DR) outpkts" "$(stat_svc "$key" .stats.outpkts)" 0
    fi
  fi
  lb_stop || fail "$E2E_LB did not stop cleanly"
done
