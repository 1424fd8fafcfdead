#!/usr/bin/env bash
# lvsd -t -f FILE: a good config exits 0; each broken one exits non-zero and points at the
# mistake as "FILE:LINE:COL: message" (the line checked where it is unambiguous). Needs no
# network and no root.
source "$(dirname "$0")/lib.sh"

E2E_NEED_ROOT=0
e2e_init config_errors
[ "$E2E_LB" = lvsd ] || skip "config checks need lvsd (E2E_LB=$E2E_LB)"
[ -n "$LVSD" ] || skip "LVSD is not set (path to the lvsd binary)"
[ -x "$LVSD" ] || fail "LVSD=$LVSD is not an executable"

good='director {
    interface d-ext
    interface d-int
    io af_xdp
}
! keepalived comment style
virtual_server 198.18.2.100 80 {     # trailing comment
    lb_algo wrr
    lb_kind NAT
    protocol TCP
    real_server 198.18.1.11 80 {
        weight 3
    }
    real_server 198.18.1.12 80 {
        weight 1
    }
}
virtual_server 198.18.2.100 53 {
    lb_algo rr
    lb_kind DR
    protocol UDP
    real_server 198.18.1.11 53 {
        weight 1
    }
}'

checked=0
# expect_ok NAME TEXT
expect_ok() {
  local f=$E2E_TMP/$1.conf out rc=0
  printf '%s\n' "$2" >"$f"
  out=$("$LVSD" -t -f "$f" 2>&1) || rc=$?
  [ "$rc" = 0 ] || fail "$1: lvsd -t exited $rc on a good config: $out"
  e2e_log "ok: $1 accepted"
  checked=$((checked + 1))
}
# expect_error NAME LINE TEXT: LINE is the line the message must point at ("" = any).
expect_error() {
  local f=$E2E_TMP/$1.conf out rc=0 line=$2 re
  printf '%s\n' "$3" >"$f"
  out=$(timeout 10 "$LVSD" -t -f "$f" 2>&1) || rc=$?
  [ "$rc" != 0 ] || fail "$1: lvsd -t accepted a broken config"
  [ "$rc" -lt 124 ] || fail "$1: lvsd -t exited $rc (crash or timeout): $out"
  re="^$(printf '%s' "$f" | sed 's/[.[\*^$/]/\\&/g'):${line:-[0-9]+}:[0-9]+: .+"
  grep -Eq "$re" <<<"$out" || fail "$1: no '$f:${line:-N}:COL: message' in: $out"
  e2e_log "ok: $1 -> $(grep -E "$re" <<<"$out" | head -n1 | sed "s|^$E2E_TMP/||")"
  checked=$((checked + 1))
}

expect_ok good "$good"

# keepalived's parts lvsd has not built (VRRP) load with warnings; checkers are read (-t runs none).
expect_ok keepalived_parts 'vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 50
    virtual_ipaddress {
        198.18.2.100
    }
}
virtual_server_group VSG_1 {
    198.18.2.100-101 80
}
virtual_server group VSG_1 {
    lb_algo rr
    protocol TCP
    sorry_server 198.18.1.12 80
    real_server 198.18.1.11 80 {
        weight 1
        TCP_CHECK {
            connect_timeout 3
        }
    }
}'

expect_error unknown_group 1 "virtual_server group NOPE {
    protocol TCP
    real_server 198.18.1.11 80 {
        weight 1
    }
}"

expect_error unknown_keyword 4 "virtual_server 198.18.2.100 80 {
    lb_algo rr
    protocol TCP
    lb_algoo rr
}"

expect_error bad_vip 2 "# the address has an octet above 255
virtual_server 198.18.2.300 80 {
    lb_algo rr
    protocol TCP
}"

expect_error bad_port 1 "virtual_server 198.18.2.100 70000 {
    lb_algo rr
}"

expect_error unknown_scheduler 2 "virtual_server 198.18.2.100 80 {
    lb_algo nosuch
    protocol TCP
}"

expect_error bad_lb_kind 3 "virtual_server 198.18.2.100 80 {
    lb_algo rr
    lb_kind BRIDGE
    protocol TCP
}"

expect_error bad_protocol 3 "virtual_server 198.18.2.100 80 {
    lb_algo rr
    protocol QUIC
}"

expect_error bad_weight 5 "virtual_server 198.18.2.100 80 {
    lb_algo rr
    protocol TCP
    real_server 198.18.1.11 80 {
        weight lots
    }
}"

expect_error bad_real_server 4 "virtual_server 198.18.2.100 80 {
    lb_algo rr
    protocol TCP
    real_server 198.18.1 80 {
        weight 1
    }
}"

expect_error unclosed_block "" "virtual_server 198.18.2.100 80 {
    lb_algo rr
    protocol TCP
    real_server 198.18.1.11 80 {
        weight 1
    }"

expect_error stray_brace 3 "director {
}
}"

expect_error bad_io 3 "director {
    interface d-ext
    io dpdk
}"

# A file that does not exist is an error too (no line to point at, just non-zero).
rc=0
"$LVSD" -t -f "$E2E_TMP/does-not-exist.conf" >/dev/null 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "lvsd -t accepted a missing file"
e2e_log "ok: missing file -> exit $rc"
e2e_log "$((checked + 1)) configs checked"
