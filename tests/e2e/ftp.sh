#!/usr/bin/env bash
# FTP through VS/NAT with the FTP helper: vsftpd on every real server (passive ports
# 50000-50100, active from port 20), curl on the client, lvsd with two workers so a data
# connection's flow is often owned by the other worker than its control connection's.
#   PASV (IPv4)        6 transfers, each file from the server of its control connection;
#                      the 227 reply names the VIP (one character longer than the server's
#                      address: every later reply's sequence numbers move)
#   EPSV               3 transfers
#   PORT, EPRT         3 + 3 transfers (the server connects from port 20, seen from VIP:20)
#   one session        three passive transfers on one control connection (the shift adds up)
#   4 MiB, both modes  byte-exact
#   IPv6               EPSV and EPRT to [VIP6]:21
#   stats              the helper's counters match what was done; no malformed, none lost
source "$(dirname "$0")/lib.sh"

e2e_init ftp
e2e_require vsftpd curl sha256sum
lb_require
lb_is_lvsd || skip "the FTP helper has no nftables stand-in here"

topo_create --queues 2 --ipv6
topo_mode nat

empty="$E2E_TMP/vsftpd-empty"
mkdir -p "$empty"
chmod 0755 "$E2E_TMP" "$empty"
head -c $((4 << 20)) /dev/urandom >"$E2E_TMP/big.bin"
for rs in "${RS_NAMES[@]}"; do
  root="$E2E_TMP/ftp-$rs"
  mkdir -p "$root"
  echo "$rs" >"$root/who.txt"
  cp "$E2E_TMP/big.bin" "$root/big.bin"
  chmod -R a+rX "$root"
  cat >"$E2E_TMP/vsftpd-$rs.conf" <<EOF
listen=NO
listen_ipv6=YES
background=NO
anonymous_enable=YES
no_anon_password=YES
anon_root=$root
local_enable=NO
write_enable=NO
ftp_username=ftp
secure_chroot_dir=$empty
seccomp_sandbox=NO
pasv_enable=YES
pasv_min_port=50000
pasv_max_port=50100
connect_from_port_20=YES
ftp_data_port=20
port_enable=YES
xferlog_enable=NO
dirmessage_enable=NO
use_localtime=NO
EOF
  bg "$rs" "$E2E_TMP/vsftpd-$rs.log" vsftpd "$E2E_TMP/vsftpd-$rs.conf"
done
for rs in "${RS_NAMES[@]}"; do
  wait_for 5 nsx "$rs" bash -c "ss -Hltn | grep -q ':21 '" || fail "vsftpd on $rs is not listening"
done
topo_warmup

svc_add TCP "$VIP" 21 rr NAT
for ip in "${RS_IPS[@]}"; do dest_add "$ip" 21; done
svc_add TCP "$VIP6" 21 rr NAT
for ip in "${RS_IP6S[@]}"; do dest_add "$ip" 21; done
lb_start

# Two workers schedule on their own (rr each), so the spread is not exact: every transfer must
# succeed and name a real server.
expect_ok() {  # WHAT FILE N
  e2e_log "$1: $(show_spread "$2")"
  assert_eq "$1: transfers" "$(wc -l <"$2")" "$3"
  assert_eq "$1: failed" "$(count ERR "$2")" 0
  assert_eq "$1: unknown answers" "$(grep -cvxE "$(IFS='|'; echo "${RS_NAMES[*]}")" "$2" || true)" 0
}

# fetch N URL [curl options]: N transfers of who.txt, one server name per line (ERR on failure).
fetch() {
  local n=$1 url=$2
  shift 2
  nsx client bash -c '
    n=$1 url=$2; shift 2
    for ((i = 0; i < n; i++)); do
      curl -s --max-time 10 "$@" "$url" || echo ERR
    done' _ "$n" "$url" "$@"
}

fetch 6 "ftp://$VIP/who.txt" --disable-epsv >"$E2E_TMP/pasv.out"
expect_ok "PASV" "$E2E_TMP/pasv.out" 6
# The client is told the VIP, never a real server's address.
nsx client curl -sv --max-time 10 --disable-epsv "ftp://$VIP/who.txt" >/dev/null 2>"$E2E_TMP/pasv-v.log" ||
  fail "verbose PASV transfer failed"
grep -q "227 Entering Passive Mode ($(echo "$VIP" | tr . ,)," "$E2E_TMP/pasv-v.log" ||
  fail "the 227 reply does not name the VIP: $(grep 227 "$E2E_TMP/pasv-v.log")"
fetch 3 "ftp://$VIP/who.txt" >"$E2E_TMP/epsv.out"
expect_ok "EPSV" "$E2E_TMP/epsv.out" 3
fetch 3 "ftp://$VIP/who.txt" -P - --disable-eprt >"$E2E_TMP/port.out"
expect_ok "PORT" "$E2E_TMP/port.out" 3
fetch 3 "ftp://$VIP/who.txt" -P - >"$E2E_TMP/eprt.out"
expect_ok "EPRT" "$E2E_TMP/eprt.out" 3

# Three transfers on one control connection: every 227 is rewritten, the shifts add up.
nsx client curl -s --max-time 10 --disable-epsv "ftp://$VIP/who.txt" "ftp://$VIP/who.txt" \
  "ftp://$VIP/who.txt" >"$E2E_TMP/session.out" || fail "three transfers on one session failed"
assert_eq "one session: transfers" "$(wc -l <"$E2E_TMP/session.out")" 3
assert_eq "one session: one server" "$(sort -u "$E2E_TMP/session.out" | wc -l)" 1

want=$(sha256sum <"$E2E_TMP/big.bin")
for mode in pasv port; do
  opts=(--disable-epsv)
  [ "$mode" = port ] && opts=(-P - --disable-eprt)
  nsx client curl -s --max-time 20 "${opts[@]}" "ftp://$VIP/big.bin" -o "$E2E_TMP/got-$mode.bin" ||
    fail "4 MiB over $mode failed"
  assert_eq "4 MiB over $mode" "$(sha256sum <"$E2E_TMP/got-$mode.bin")" "$want"
done
nsx client curl -s --max-time 10 --disable-epsv "ftp://$VIP/" >"$E2E_TMP/list.out" ||
  fail "LIST failed"
grep -q "who.txt" "$E2E_TMP/list.out" || fail "LIST does not show who.txt"

fetch 3 "ftp://[$VIP6]/who.txt" -g >"$E2E_TMP/epsv6.out"
expect_ok "IPv6 EPSV" "$E2E_TMP/epsv6.out" 3
fetch 3 "ftp://[$VIP6]/who.txt" -g -P - >"$E2E_TMP/eprt6.out"
expect_ok "IPv6 EPRT" "$E2E_TMP/eprt6.out" 3

# Passive: 6 + 1 + 3 + 3 (session) + 1 (4 MiB) + 1 (LIST) + 3 (IPv6); active: 3 + 3 + 1 + 3.
stats_refresh
e2e_log "ftp counters: $(jq -c .ftp "$STATS_NOW")"
assert_eq "passive replies rewritten" "$(stat_get .ftp.passive)" 18
assert_eq "active commands" "$(stat_get .ftp.active)" 10
assert_eq "data connections" "$(stat_get .ftp.data_conns)" 28
assert_eq "malformed" "$(stat_get .ftp.malformed)" 0
assert_eq "announcements lost" "$(stat_get .ftp.requests_lost)" 0
assert_ge "announcements handed to the other worker" "$(stat_get .ftp.handed_on)" 18
assert_ge "passive endpoints in the classifier" "$(stat_get .ftp.classified_endpoints)" 1
assert_eq "dropped: no room for a rewrite" "$(stat_get .drops.ftp_no_room)" 0
lb_stop || fail "lvsd did not exit cleanly on SIGTERM"
