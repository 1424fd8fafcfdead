# shellcheck shell=bash
# health_lib.sh: what health_http.sh, health_l4.sh and health_policy.sh share (on top of lib.sh):
# lvsd started with a hand-written config (checker blocks inside real_server), lvsadm and the
# control API read while a fault is in place, real servers that can be stopped, broken or
# replaced one by one, and hl_fault: one fault, timed from its injection to lvsd's log line and
# to the server leaving `lvsadm -Ln`, with traffic through the VIP counted across the window.
#
# Times are milliseconds of the wall clock (EPOCHREALTIME), the same in every namespace.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LVSADM=${LVSADM:-}
# Added to every detection bound: the poll period (50 ms), lvsadm's own run time, the loop
# thread handing the change to the engine, and a loaded 2-core machine.
HL_SLACK_MS=${HL_SLACK_MS:-500}
HL_SUMMARY=()
declare -A HL_PID=()  # "rs1/http" -> PID of that server process

# hl_require: skip unless lvsd and lvsadm are there (the nftables stand-in checks nothing).
hl_require() {
  lb_require
  lb_is_lvsd || skip "health checks are lvsd's own; the nftables stand-in has none"
  [ -n "$LVSADM" ] || skip "LVSADM is not set (path to the lvsadm binary)"
  [ -x "$LVSADM" ] || fail "LVSADM=$LVSADM is not an executable"
  e2e_require curl jq python3
}


hl_ms() { local t=${EPOCHREALTIME/./}; echo $((10#$t / 1000)); }

# hl_start CONFIG: lvsd with lib.sh's director block followed by CONFIG (services with their
# checkers, track_file blocks); waits for the stats file and the control socket.
hl_start() {
  lb_reset
  LB_EXTRA=$1
  lb_start
  wait_for 5 test -S "$LVSD_SOCKET" || fail "lvsd did not create its control socket"
  # shellcheck disable=SC2034  # read by the scripts
  HL_T_START=$(hl_ms)
}

adm() { "$LVSADM" "$@"; }
api() { curl -s --max-time 3 --unix-socket "$LVSD_SOCKET" "http://lvsd$1"; }

# hl_svc_opt "TCP 198.18.2.100:80" -> "-t 198.18.2.100:80" (lvsadm's service option).
hl_svc_opt() {
  case ${1%% *} in
    TCP) echo "-t ${1#* }" ;;
    UDP) echo "-u ${1#* }" ;;
    *) fail "hl_svc_opt: $1" ;;
  esac
}

# hl_dests SVC: "ADDR:PORT WEIGHT" per real server lvsadm -Ln lists for the service.
hl_dests() {
  local opt
  opt=$(hl_svc_opt "$1")
  # shellcheck disable=SC2086  # two words on purpose
  adm -Ln $opt 2>/dev/null | awk '$1 == "->" && $2 != "RemoteAddress:Port" {print $2, $4}'
}

# hl_weight SVC ADDR:PORT: its weight in lvsadm -Ln, or "absent".
hl_weight() {
  local w
  w=$(hl_dests "$1" | awk -v d="$2" '$1 == d {print $2}')
  echo "${w:-absent}"
}

# hl_checks SVC ADDR:PORT: "CHECKER up attempts failures transitions detail" per checker of the
# server in GET /v1/health.
hl_checks() {
  api /v1/health | jq -r --arg s "$1" --arg r "$2" \
    '.checks[] | select(.service == $s and .server == $r) |
     "\(.checker) \(.up) \(.attempts) \(.failures) \(.transitions) \(.last.detail)"'
}
# hl_check_field SVC ADDR:PORT CHECKER JQ: one field of one checker's entry.
hl_check_field() {
  api /v1/health | jq -r --arg s "$1" --arg r "$2" --arg c "$3" \
    "[.checks[] | select(.service == \$s and .server == \$r and .checker == \$c)][0] | $4"
}

# hl_server_field SVC ADDR:PORT JQ: one field of the server's entry in /v1/health "servers"
# (alive, weight, configured_weight).
hl_server_field() {
  api /v1/health | jq -r --arg s "$1" --arg r "$2" \
    "[.servers[] | select(.service == \$s and .server == \$r)][0] | $3"
}
# hl_quorum SVC: "QUORUM LIVE_WEIGHT SORRY_IN_USE" from /v1/health "services".
hl_quorum() {
  api /v1/health | jq -r --arg s "$1" \
    '[.services[] | select(.service == $s)][0] | "\(.quorum) \(.live_weight) \(.sorry_server_in_use)"'
}

# hl_all_up: every checker lvsd runs is up and its last attempt passed.
hl_all_up() {
  local j
  j=$(api /v1/health) || return 1
  [ "$(jq '[.checks[] | select(.up != true or .attempts < 1 or .last.ok != true)] | length' <<<"$j")" = 0 ] &&
    [ "$(jq '.checks | length' <<<"$j")" -gt 0 ]
}
# shellcheck disable=SC2120  # the scripts pass SECONDS
hl_wait_all_up() {  # [SECONDS]
  wait_for "${1:-8}" hl_all_up ||
    fail "not every checker came up: $(api /v1/health | jq -c '[.checks[] | select(.up != true) | {service, server, checker, last}]')"
}

# hl_log_count PATTERN: lines of lvsd's log with this fixed text.
hl_log_count() { grep -cF -- "$1" "$E2E_TMP/lvsd.log" || true; }

# The transition lines lvsd logs for one checker of one server, e.g.
# "198.18.1.11:80 of TCP 198.18.2.100:80: HTTP_GET down: connect: Connection refused".
hl_down_text() { echo "$2 of $1: $3 down"; }  # SVC ADDR:PORT CHECKER
hl_up_text() { echo "$2 of $1: $3 up"; }

# ---------------------------------------------------------------------------------------------
# Real servers

# hl_health_body: what /health of every nginx returns (the checkers' digest is its MD5).
HL_HEALTH_BODY="healthy"
hl_md5() { printf '%s\n' "$1" | md5sum | cut -d' ' -f1; }

# hl_cert: a self-signed certificate for health.test (EC P-256: made in milliseconds).
hl_cert() {
  HL_CERT=$E2E_TMP/cert.pem
  HL_KEY=$E2E_TMP/key.pem
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj /CN=health.test -addext subjectAltName=DNS:health.test \
    -keyout "$HL_KEY" -out "$HL_CERT" >/dev/null 2>&1 || fail "openssl could not make a certificate"
}

# hl_nginx RS TAG PORT http|ssl [BODY]: one nginx on RS for PORT, its own directory
# $E2E_TMP/ng-RS-TAG. "/" answers BODY (default: the server's name) for traffic through the VIP;
# "/health" serves www/health.txt for the checkers, or 503 while the file fail-503 exists; over
# TLS it also answers 421 unless the client sent SNI "health.test".
hl_nginx() {
  local rs=$1 tag=$2 port=$3 mode=$4 body=${5:-$1} d listen sni=
  d=$E2E_TMP/ng-$rs-$tag
  mkdir -p "$d/www"
  [ -f "$d/www/health.txt" ] || printf '%s\n' "$HL_HEALTH_BODY" >"$d/www/health.txt"
  listen="listen $port;"
  if [ "$mode" = ssl ]; then
    listen="listen $port ssl; ssl_certificate $HL_CERT; ssl_certificate_key $HL_KEY;"
    sni='if ($ssl_server_name != "health.test") { return 421 "no sni\n"; }'
  fi
  nginx_conf "$d" 1024 >"$d/nginx.conf" <<EOF
    server {
        $listen
        location / {
            default_type text/plain;
            return 200 "$body\n";
        }
        location = /health {
            default_type text/plain;
            if (-f $d/fail-503) { return 503 "failing\n"; }
            $sni
            root $d/www;
            try_files /health.txt =404;
        }
    }
EOF
  bg "$rs" "$E2E_TMP/ng-$rs-$tag.log" nginx -p "$d" -e "$d/error.log" -c "$d/nginx.conf"
  HL_PID[$rs/$tag]=$BG_PID
  HL_DIR[$rs/$tag]=$d
  hl_wait_tcp "$rs" "$port" || fail "nginx $tag on $rs did not listen on port $port"
}
# shellcheck disable=SC2034  # read by the scripts' fault texts
declare -A HL_DIR=()

# hl_wait_tcp RS PORT: something listens on RS's TCP PORT.
hl_wait_tcp() {
  wait_for 5 nsx "$1" bash -c "ss -Hltn 'sport = :$2' | grep -q LISTEN"
}
hl_wait_udp() {
  wait_for 5 nsx "$1" bash -c "ss -Hlun 'sport = :$2' | grep -q ."
}

# hl_stop KEY: stop the server process HL_PID[KEY] by its PID (and wait for it).
hl_stop() {
  local pid=${HL_PID[$1]:-}
  [ -n "$pid" ] || fail "hl_stop: no process $1"
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  HL_PID[$1]=
}

# hl_py RS TAG PORT MODE [NAME]: a small TCP or UDP server in python on RS, all addresses:
#   tcpname  says NAME (default RS) on every connection, then echoes what it reads
#   udpname  answers every datagram with NAME and a newline (bound to each of RS's addresses)
#   silent   accepts and never sends a byte (nor reads)
#   endless  reads the request, sends a 200 header and then a body that never ends (10 KB/s)
#   garbage  reads the request, answers a line that is no HTTP status line, closes
#   smtp554  greets with "554 no service here" (an SMTP server refusing service)
# One process (threads, no children), so stopping it by its PID frees the port at once.
hl_py() {
  local rs=$1 tag=$2 port=$3 mode=$4 name=${5:-$1}
  [ -f "$E2E_TMP/hl_server.py" ] || cat >"$E2E_TMP/hl_server.py" <<'PY'
import socket, sys, threading, time
port, mode, name = int(sys.argv[1]), sys.argv[2], sys.argv[3].encode()
if mode == "udpname":
    # One socket per address (argv[4:]): an answer must leave from the address asked.
    import select
    socks = []
    for a in sys.argv[4:] or ["0.0.0.0"]:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind((a, port))
        socks.append(u)
    while True:
        for u in select.select(socks, [], [])[0]:
            _, peer = u.recvfrom(2048)
            u.sendto(name + b"\n", peer)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", port))
s.listen(64)
def serve(c):
    try:
        c.settimeout(30)
        if mode == "silent":
            time.sleep(30)
        elif mode == "smtp554":
            c.sendall(b"554 no service here\r\n")
            c.recv(4096)
        elif mode == "tcpname":
            c.sendall(name + b"\n")
            while True:
                b = c.recv(4096)
                if not b:
                    break
                c.sendall(b)
        else:
            c.recv(4096)
            if mode == "endless":
                c.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n")
                end = time.time() + 30
                while time.time() < end:
                    c.sendall(b"x" * 100)
                    time.sleep(0.01)
            elif mode == "garbage":
                c.sendall(b"\x16\x03 HELLO garbage \xff\xfe not a status line\r\n\r\n")
    except OSError:
        pass
    finally:
        c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
  local addrs=()
  if [ "$mode" = udpname ]; then
    addrs=("$(hl_rs_ip "$rs")")
  fi
  bg "$rs" "$E2E_TMP/py-$rs-$tag.log" python3 "$E2E_TMP/hl_server.py" "$port" "$mode" "$name" \
    "${addrs[@]}"
  HL_PID[$rs/$tag]=$BG_PID
  if [ "$mode" = udpname ]; then
    hl_wait_udp "$rs" "$port" || fail "python $mode on $rs did not bind UDP $port"
  else
    hl_wait_tcp "$rs" "$port" || fail "python $mode on $rs did not listen on TCP $port"
  fi
}

# hl_smtpd RS: OpenSMTPD on RS's address, port 25, in the foreground (smtpd -d) with its own
# config ("hostname RS.test", every message rejected: only the dialogue matters). smtpd keeps
# its queue in the compiled-in /var/spool/smtpd, its control socket in /var/run/smtpd.sock, and
# resolves the client's name before greeting: inside `ip netns exec` (a private mount namespace)
# directories of ours are bind-mounted on /var/spool and /run, and a resolv.conf naming
# 127.0.0.1 on /etc/resolv.conf, so nothing of the host is touched, three instances do not meet,
# and the greeting does not wait for an unreachable resolver.
hl_smtpd() {
  local rs=$1 d ip
  d=$E2E_TMP/smtpd-$rs
  ip=$(hl_rs_ip "$rs")
  mkdir -p "$d/spool" "$d/run"
  chmod 755 "$d" "$d/spool" "$d/run"
  echo "nameserver 127.0.0.1" >"$d/resolv.conf"
  cat >"$d/smtpd.conf" <<EOF
listen on $ip port 25 hostname $rs.test
action "local" mbox
match from any for any reject
EOF
  bg "$rs" "$E2E_TMP/smtpd-$rs.log" bash -c 'mount --bind "$1/spool" /var/spool &&
    mount --bind "$1/run" /run && mount --bind "$1/resolv.conf" /etc/resolv.conf &&
    exec smtpd -d -f "$1/smtpd.conf"' _ "$d"
  HL_PID[$rs/smtp]=$BG_PID
  hl_wait_tcp "$rs" 25 || fail "smtpd on $rs did not listen on port 25: $(tail -n3 "$E2E_TMP/smtpd-$rs.log")"
}

# hl_dnsmasq RS: dnsmasq on RS's address, port 53: "ok.test A 198.18.1.200" (from a hosts file)
# for the checkers, "who.test TXT RS" for traffic; .test is local ("server=/test/" in a servers
# file). hl_dns_state RS ok|nxdomain|refused rewrites both files and sends SIGHUP (dnsmasq
# rereads them): nxdomain drops the record (a local name it does not know), refused also drops
# the local domain (no upstream server: dnsmasq answers REFUSED).
hl_dnsmasq() {
  local rs=$1 ip
  ip=$(hl_rs_ip "$rs")
  echo "198.18.1.200 ok.test" >"$E2E_TMP/hosts-$rs"
  echo "server=/test/" >"$E2E_TMP/servers-$rs"
  bg "$rs" "$E2E_TMP/dnsmasq-$rs.log" dnsmasq --keep-in-foreground --no-resolv --no-hosts \
    --no-dhcp-interface= --bind-interfaces --listen-address="$ip" --port=53 \
    --addn-hosts="$E2E_TMP/hosts-$rs" --servers-file="$E2E_TMP/servers-$rs" \
    --txt-record="who.test,$rs" --pid-file= --user=root --log-facility=-
  HL_PID[$rs/dns]=$BG_PID
  hl_wait_udp "$rs" 53 || fail "dnsmasq on $rs did not bind port 53"
}
hl_dns_state() {
  local rs=$1
  case $2 in
    ok)
      echo "198.18.1.200 ok.test" >"$E2E_TMP/hosts-$rs"
      echo "server=/test/" >"$E2E_TMP/servers-$rs"
      ;;
    nxdomain)
      : >"$E2E_TMP/hosts-$rs"
      echo "server=/test/" >"$E2E_TMP/servers-$rs"
      ;;
    refused)
      : >"$E2E_TMP/hosts-$rs"
      : >"$E2E_TMP/servers-$rs"
      ;;
    *) fail "hl_dns_state: $2" ;;
  esac
  kill -HUP "${HL_PID[$rs/dns]}"
}

# hl_link RS down|up: the real server's cable: its veth's other end (l-RS, on the LAN bridge).
# The server keeps its addresses and routes; it just hears nothing.
hl_link() { ip -n "$E2E_PREFIX-lan" link set "l-$1" "$2"; }

# hl_rs_ip RS -> its address.
hl_rs_ip() {
  local i
  for i in "${!RS_NAMES[@]}"; do
    if [ "${RS_NAMES[$i]}" = "$1" ]; then echo "${RS_IPS[$i]}"; fi
  done
}

# ---------------------------------------------------------------------------------------------
# Traffic through the VIP during a fault

# hl_traffic_start CMD MS OUT: in the client, CMD (bash, prints the answering server's name)
# again and again for at most MS ms and 400 times, or until hl_traffic_stop; "START_MS NAME"
# per attempt in OUT, NAME = ERR when CMD printed anything but a server's name (rsN, sorry).
# Sets HL_TRAFFIC_PID.
hl_traffic_start() {
  HL_TRAFFIC_STOP=$E2E_TMP/traffic.stop
  rm -f "$HL_TRAFFIC_STOP"
  bg client "$3" bash -c '
    cmd=$1; end=$(( ${EPOCHREALTIME/./} / 1000 + $2 )); n=0
    while (( n++ < 400 )); do
      t=$(( ${EPOCHREALTIME/./} / 1000 ))
      (( t < end )) && [ ! -e "$3" ] || break
      r=$(eval "$cmd" 2>/dev/null) || true
      [[ $r =~ ^(rs[0-9]+|sorry)$ ]] || r=ERR
      echo "$t $r"
      sleep 0.03
    done' _ "$1" "$2" "$HL_TRAFFIC_STOP"
  HL_TRAFFIC_PID=$BG_PID
}
hl_traffic_stop() {
  touch "$HL_TRAFFIC_STOP"
  wait "$HL_TRAFFIC_PID" 2>/dev/null || true
}

# Client commands (one attempt each, bounded in time); print the server's name.
hl_cmd_http() { echo "curl -s --connect-timeout 1 --max-time 2 http://$1/ | head -c 32"; }
hl_cmd_https() { echo "curl -sk --connect-timeout 1 --max-time 2 https://$1/ | head -c 32"; }
hl_cmd_tcp() {  # ADDR PORT: the name servers (hl_py tcpname) say their name first
  echo "timeout 2 bash -c 'exec 3<>/dev/tcp/$1/$2; read -t 1 -r l <&3; echo \"\$l\"'"
}
hl_cmd_udp() {  # ADDR PORT: the UDP responders (hl_py udpname) answer their name
  echo "echo hi | timeout 2 socat -t 0.3 -T 1 - UDP:$1:$2 | head -n1"
}
hl_cmd_dns() {  # ADDR: dnsmasq answers who.test TXT with its name
  echo "dig +short +tries=1 +time=1 @$1 who.test TXT | tr -d '\"'"
}
hl_cmd_smtp() {  # ADDR: the greeting names the server (220 rs1.test ESMTP OpenSMTPD)
  echo "timeout 2 bash -c 'exec 3<>/dev/tcp/$1/25; read -t 1 -r l <&3; echo QUIT >&3; echo \"\$l\"' | grep -o '^220 rs[0-9]*' | cut -c5-"
}

# ---------------------------------------------------------------------------------------------
# One fault

# hl_fault NAME SVC SERVER CHECKER KIND INJECT RESTORE DETAIL_RE
#   SVC      the service as lvsd names it: "TCP 198.18.2.100:80"
#   SERVER   ADDR:PORT of the real server
#   KIND     fast (the attempt fails at once: refused, wrong status or digest, garbage) or
#            timeout (the attempt runs into connect_timeout: link cut, silent, endless)
#   INJECT, RESTORE   shell text, eval'ed here
#   DETAIL_RE         what /v1/health's last.detail of the checker must match while down
# Globals: HL_DL, HL_CT, HL_RETRY, HL_DBR (seconds, as the checkers are configured),
# HL_TRAFFIC (client command for the VIP; empty: no traffic), HL_GONE (absent: the server
# leaves lvsadm -Ln; weight0: it stays with weight 0, inhibit_on_failure).
# The bound: delay_loop + retry * delay_before_retry + connect_timeout for a fast failure (the
# fault may come just after a check: the next comes delay_loop later, fails, retries); a timeout
# failure spends connect_timeout in each of the retry + 1 attempts: delay_loop + retry *
# delay_before_retry + (retry + 1) * connect_timeout.
# After the repair the server must be back within delay_loop + connect_timeout (the next check,
# a down checker waits delay_loop) and answer through the VIP: 6 requests, none failing, at
# least one by it. Each fault adds a line to HL_SUMMARY (hl_summary prints them).
HL_DL=1 HL_CT=1 HL_RETRY=1 HL_DBR=1
HL_TRAFFIC=
HL_GONE=absent
hl_fault() {
  local name=$1 svc=$2 server=$3 checker=$4 kind=$5 inject=$6 restore=$7 detail_re=$8
  local bound tout t0 t_log='' t_adm='' now w down_txt up_txt base_down base_up out detail
  local rs_name
  bound=$(((HL_DL + HL_RETRY * HL_DBR + HL_CT) * 1000))
  [ "$kind" = timeout ] && bound=$((bound + HL_RETRY * HL_CT * 1000))
  down_txt=$(hl_down_text "$svc" "$server" "$checker")
  up_txt=$(hl_up_text "$svc" "$server" "$checker")
  e2e_log "--- $name: $server of $svc ($checker, $kind failure, bound ${bound} ms)"
  hl_wait_all_up
  w=$(hl_weight "$svc" "$server")
  [ "$w" != absent ] && [ "$w" != 0 ] || fail "$name: $server is not in service before the fault (weight $w)"
  base_down=$(hl_log_count "$down_txt")
  base_up=$(hl_log_count "$up_txt")
  out=$E2E_TMP/traffic-${name// /_}.txt
  [ -n "$HL_TRAFFIC" ] && hl_traffic_start "$HL_TRAFFIC" $((bound + 9000)) "$out"
  sleep 0.3  # a little traffic before the fault
  t0=$(hl_ms)
  eval "$inject"
  tout=$((t0 + bound + 4000))
  while :; do
    now=$(hl_ms)
    if [ -z "$t_log" ] && [ "$(hl_log_count "$down_txt")" -gt "$base_down" ]; then t_log=$now; fi
    if [ -z "$t_adm" ]; then
      w=$(hl_weight "$svc" "$server")
      if { [ "$HL_GONE" = absent ] && [ "$w" = absent ]; } ||
        { [ "$HL_GONE" = weight0 ] && [ "$w" = 0 ]; }; then t_adm=$now; fi
    fi
    [ -n "$t_log" ] && [ -n "$t_adm" ] && break
    ((now < tout)) || {
      eval "$restore"
      fail "$name: not detected within $((tout - t0)) ms (log line: ${t_log:+seen}${t_log:-none}, lvsadm weight now $w); checks: $(hl_checks "$svc" "$server" | tr '\n' ';')"
    }
    sleep 0.05
  done
  local d_log=$((t_log - t0)) d_adm=$((t_adm - t0))
  e2e_log "$name: log line after $d_log ms, $HL_GONE in lvsadm -Ln after $d_adm ms (bound $bound + $HL_SLACK_MS ms)"
  e2e_log "$name: lvsd: $(grep -F -- "$down_txt" "$E2E_TMP/lvsd.log" | tail -n1 | cut -c1-220)"
  assert_le "$name: ms to lvsd's down line" "$d_log" $((bound + HL_SLACK_MS))
  assert_le "$name: ms until lvsadm shows it $HL_GONE" "$d_adm" $((bound + HL_SLACK_MS))
  detail=$(hl_check_field "$svc" "$server" "$checker" '"\(.up) \(.last.detail)"')
  [[ $detail =~ ^false\ ($detail_re) ]] ||
    fail "$name: /v1/health for $server $checker: '$detail', expected down with detail ~ /$detail_re/"
  e2e_log "ok: $name: /v1/health: up=false, detail '${detail#false }'"

  local total=0 fails=0 late=0 late_fails=0 before_fails=0
  if [ -n "$HL_TRAFFIC" ]; then
    # Traffic for a second after the detection and at least 3 requests started then (a request
    # stuck on the broken server may hold the loop for up to 2 s), then stop.
    while :; do
      now=$(hl_ms)
      ((now < t_adm + 5000)) || break
      if ((now >= t_adm + 1200)) &&
        [ "$(awk -v d=$((t_adm + 200)) '$1 >= d' "$out" | wc -l)" -ge 3 ]; then break; fi
      sleep 0.1
    done
    hl_traffic_stop
    # Requests that started once lvsadm showed the change (plus 200 ms for the engine to get
    # the new state) must all succeed.
    read -r total fails late late_fails before_fails < <(awk -v d=$((t_adm + 200)) -v t0="$t0" '
      { n++; if ($2 == "ERR") f++
        if ($1 >= d) { l++; if ($2 == "ERR") lf++ } else if ($2 == "ERR" && $1 >= t0) bf++ }
      END { print n + 0, f + 0, l + 0, lf + 0, bf + 0 }' "$out")
    e2e_log "$name: traffic: $total requests in the window, $fails failed ($before_fails between fault and detection), $late after detection of which $late_fails failed; $(awk '{print $2}' "$out" | sort | uniq -c | tr -s ' \n' ' ')"
    assert_ge "$name: requests through the VIP in the window" "$total" 5
    assert_ge "$name: requests after detection" "$late" 2
    assert_eq "$name: failed requests after detection" "$late_fails" 0
  fi

  t0=$(hl_ms)
  eval "$restore"
  local t_back='' t_uplog='' rb=$((HL_DL * 1000 + HL_CT * 1000))
  tout=$((t0 + rb + 4000))
  while :; do
    now=$(hl_ms)
    if [ -z "$t_uplog" ] && [ "$(hl_log_count "$up_txt")" -gt "$base_up" ]; then t_uplog=$now; fi
    if [ -z "$t_back" ]; then
      w=$(hl_weight "$svc" "$server")
      if [ "$w" != absent ] && [ "$w" != 0 ]; then t_back=$now; fi
    fi
    [ -n "$t_uplog" ] && [ -n "$t_back" ] && break
    ((now < tout)) || fail "$name: $server did not come back within $((tout - t0)) ms of the repair (weight $w); checks: $(hl_checks "$svc" "$server" | tr '\n' ';')"
    sleep 0.05
  done
  local r_adm=$((t_back - t0))
  e2e_log "$name: back in lvsadm -Ln $r_adm ms after the repair (up line after $((t_uplog - t0)) ms; bound $rb + $HL_SLACK_MS)"
  assert_le "$name: ms to come back" "$r_adm" $((rb + HL_SLACK_MS))
  if [ -n "$HL_TRAFFIC" ]; then
    # The returned server answers again through the VIP (rr: 6 requests reach all three).
    # The returned server answers again through the VIP, and nothing fails (rr: 6 requests
    # reach all three).
    rs_name=$(hl_name_of "${server%:*}")
    local got=0 bad=0 i r seen=''
    for i in 1 2 3 4 5 6; do
      r=$(nsx client bash -c "$HL_TRAFFIC" 2>/dev/null) || true
      [[ $r =~ ^(rs[0-9]+|sorry)$ ]] || { r=ERR; bad=$((bad + 1)); }
      [ "$r" = "$rs_name" ] && got=$((got + 1))
      seen+="$r "
    done
    e2e_log "$name: 6 requests after the return: $seen"
    assert_eq "$name: failed requests after the return" "$bad" 0
    assert_ge "$name: answers from $rs_name among 6 after its return" "$got" 1
  fi
  HL_SUMMARY+=("$(printf '%-28s %-9s log %5d ms  lvsadm %5d ms  bound %5d ms  window %3d req %3d failed (after detection %d/%d)  back %5d ms' \
    "$name" "$checker" "$d_log" "$d_adm" "$bound" "$total" "$fails" "$late_fails" "$late" "$r_adm")")
}

hl_name_of() {  # ADDR -> rs1..
  local i
  for i in "${!RS_IPS[@]}"; do
    if [ "${RS_IPS[$i]}" = "$1" ]; then echo "${RS_NAMES[$i]}"; fi
  done
}

hl_summary() {
  local l
  e2e_log "summary (detection from the fault; bound = delay_loop + retry*delay_before_retry + connect_timeout [+ retry*connect_timeout for timeouts]):"
  for l in "${HL_SUMMARY[@]}"; do e2e_log "  $l"; done
}

# hl_metrics_check SVC SERVER CHECKER INDEX: the four health families carry this checker, and
# its counters equal /v1/health's.
hl_metrics_check() {
  local svc=$1 server=$2 checker=$3 index=$4 m labels fam v j
  m=$(api /metrics) || fail "GET /metrics failed"
  j=$(api /v1/health | jq -c --arg s "$svc" --arg r "$server" --arg c "$checker" \
    '[.checks[] | select(.service == $s and .server == $r and .checker == $c)][0]')
  labels="service=\"$svc\",server=\"$server\",checker=\"$checker\",index=\"$index\""
  for fam in lvs_health_check_up lvs_health_check_attempts_total lvs_health_check_failures_total \
    lvs_health_check_transitions_total; do
    grep -q "^# TYPE $fam " <<<"$m" || fail "/metrics has no TYPE line for $fam"
    v=$(grep -F "$fam{$labels} " <<<"$m" | awk '{print $NF}')
    [ -n "$v" ] || fail "/metrics has no $fam{$labels}"
    e2e_log "ok: /metrics $fam{...$server $checker} = $v"
  done
  # Counters move between the two reads; the API was read second, so it is >= /metrics.
  v=$(grep -F "lvs_health_check_transitions_total{$labels} " <<<"$m" | awk '{print $NF}')
  assert_le "/metrics transitions <= /v1/health's" "$v" "$(jq -r .transitions <<<"$j")"
}
