#!/usr/bin/env bash
# HTTP_GET and SSL_GET inside lvsd, against nginx on every real server (VS/NAT, rr):
#   TCP VIP:80   HTTP_GET { url { path /health; digest MD5; status_code 200 } }
#   TCP VIP:443  SSL_GET, same url, virtualhost health.test + enable_sni (nginx answers /health
#                with 421 unless the SNI is health.test: the checkers are up only if lvsd sends it);
#                the certificate is self-signed, made here with openssl
# delay_loop 1, connect_timeout 1, retry 1, delay_before_retry 1 everywhere. One fault at a time
# on one real server, while a client loops through the VIP; each fault must be detected within
# its bound (health_lib.sh: hl_fault), no request started after the detection may fail, and the
# server must come back once repaired:
#   nginx stopped (refused), link cut (the server's veth down: timeout), status 503, content
#   changed (MD5 digest), a silent server (accepts, never answers), an endless body, a garbage
#   status line; over TLS: nginx stopped, a silent server (no handshake).
# Also: /v1/health's entries and /metrics' lvs_health_check_* families for a checker that went
# down and came back, and "alive" of every real server (/v1/health "servers").
source "$(dirname "$0")/health_lib.sh"

e2e_init health_http
e2e_require nginx openssl socat
hl_require

topo_create
topo_mode nat
hl_cert
for rs in "${RS_NAMES[@]}"; do
  hl_nginx "$rs" http 80 http
  hl_nginx "$rs" ssl 443 ssl
done
topo_warmup

# The checkers really need SNI: without it /health answers 421.
code=$(nsx dir curl -sk -o /dev/null -w '%{http_code}' "https://${RS_IPS[0]}/health")
assert_eq "nginx /health over TLS without SNI" "$code" 421
code=$(nsx dir curl -sk -o /dev/null -w '%{http_code}' --resolve "health.test:443:${RS_IPS[0]}" \
  https://health.test/health)
assert_eq "nginx /health over TLS with SNI health.test" "$code" 200

digest=$(hl_md5 "$HL_HEALTH_BODY")
common="connect_timeout $HL_CT
            retry $HL_RETRY
            delay_before_retry $HL_DBR
            delay_loop $HL_DL"
conf=
for port in 80 443; do
  conf+="
virtual_server $VIP $port {
    lb_algo rr
    lb_kind NAT
    protocol TCP
"
  for ip in "${RS_IPS[@]}"; do
    if [ "$port" = 80 ]; then
      check="HTTP_GET {
            url {
                path /health
                digest $digest
                status_code 200
            }
            $common
        }"
    else
      check="SSL_GET {
            url {
                path /health
                digest $digest
            }
            virtualhost health.test
            enable_sni
            $common
        }"
    fi
    conf+="    real_server $ip $port {
        weight 1
        $check
    }
"
  done
  conf+="}
"
done
hl_start "$conf"
hl_wait_all_up 6
e2e_log "every checker is up: $(api /v1/health | jq -c '[.checks[] | "\(.server) \(.checker)"]')"

# /v1/health before any fault.
svc80="TCP $VIP:80"
svc443="TCP $VIP:443"
assert_eq "/v1/health entries" "$(api /v1/health | jq '.checks | length')" 6
j=$(api /v1/health | jq -c --arg s "$svc443" --arg r "${RS_IPS[0]}:443" \
  '.checks[] | select(.service == $s and .server == $r)')
assert_eq "SSL_GET entry: checker" "$(jq -r .checker <<<"$j")" SSL_GET
assert_eq "SSL_GET entry: index" "$(jq -r .index <<<"$j")" 0
assert_eq "SSL_GET entry: last.ok" "$(jq -r .last.ok <<<"$j")" true
assert_ge "SSL_GET entry: attempts" "$(jq -r .attempts <<<"$j")" 1
assert_eq "/v1/health servers: count, all alive" \
  "$(api /v1/health | jq -r '[.servers[].alive] | "\(length) \(all)"')" "6 true"

# ---------------------------------------------------------------------------------------------
# HTTP_GET
HL_TRAFFIC=$(hl_cmd_http "$VIP")
ip1=${RS_IPS[0]} ip2=${RS_IPS[1]} ip3=${RS_IPS[2]}

hl_fault "nginx stopped" "$svc80" "$ip1:80" HTTP_GET fast \
  'hl_stop rs1/http' 'hl_nginx rs1 http 80 http' 'connect: Connection refused'
hl_metrics_check "$svc80" "$ip1:80" HTTP_GET 0
j=$(api /v1/health | jq -c --arg s "$svc80" --arg r "$ip1:80" '.checks[] | select(.service == $s and .server == $r)')
assert_eq "HTTP_GET rs1 after down and up: transitions" "$(jq -r .transitions <<<"$j")" 2
assert_ge "HTTP_GET rs1: failures (the attempt and its retry)" "$(jq -r .failures <<<"$j")" 2
assert_eq "HTTP_GET rs1: up again" "$(jq -r .up <<<"$j")" true
assert_ge "HTTP_GET rs1: last_change_ms" "$(jq -r .last_change_ms <<<"$j")" 1

hl_fault "link cut" "$svc80" "$ip2:80" HTTP_GET timeout \
  'hl_link rs2 down' 'hl_link rs2 up' 'timeout after 1000 ms'

hl_fault "status 503" "$svc80" "$ip3:80" HTTP_GET fast \
  'touch "${HL_DIR[rs3/http]}/fail-503"' 'rm -f "${HL_DIR[rs3/http]}/fail-503"' \
  'status 503 not in 200'

hl_fault "content changed" "$svc80" "$ip1:80" HTTP_GET fast \
  'echo "changed" >"${HL_DIR[rs1/http]}/www/health.txt"' \
  'printf "%s\n" "$HL_HEALTH_BODY" >"${HL_DIR[rs1/http]}/www/health.txt"' \
  "MD5 digest [0-9a-f]{32} not the expected $digest"

hl_fault "silent server" "$svc80" "$ip2:80" HTTP_GET timeout \
  'hl_stop rs2/http; hl_py rs2 http 80 silent' \
  'hl_stop rs2/http; hl_nginx rs2 http 80 http' 'timeout after 1000 ms'

hl_fault "endless body" "$svc80" "$ip3:80" HTTP_GET timeout \
  'hl_stop rs3/http; hl_py rs3 http 80 endless' \
  'hl_stop rs3/http; hl_nginx rs3 http 80 http' 'timeout after 1000 ms reading the body'

hl_fault "garbage status line" "$svc80" "$ip1:80" HTTP_GET fast \
  'hl_stop rs1/http; hl_py rs1 http 80 garbage' \
  'hl_stop rs1/http; hl_nginx rs1 http 80 http' 'bad reply'

# ---------------------------------------------------------------------------------------------
# SSL_GET
HL_TRAFFIC=$(hl_cmd_https "$VIP")
hl_fault "TLS nginx stopped" "$svc443" "$ip2:443" SSL_GET fast \
  'hl_stop rs2/ssl' 'hl_nginx rs2 ssl 443 ssl' 'connect: Connection refused'
hl_fault "TLS silent server" "$svc443" "$ip3:443" SSL_GET timeout \
  'hl_stop rs3/ssl; hl_py rs3 ssl 443 silent' \
  'hl_stop rs3/ssl; hl_nginx rs3 ssl 443 ssl' 'timeout after 1000 ms'

hl_wait_all_up
hl_summary
lb_stop || fail "lvsd did not exit cleanly on SIGTERM"
