#!/usr/bin/env bash
# lvsd's layer-4 and protocol checkers against real servers in namespaces (VS/NAT, rr):
#   TCP VIP:9000  TCP_CHECK     python servers that say their name   fault: server stopped (refused)
#   TCP VIP:9001  PING_CHECK    the same on 9001                     fault: link cut (no echo reply)
#   UDP VIP:5000  UDP_CHECK     python responders (payload "hello", require_reply 7273 = "rs")
#                                                                     fault: responder stopped (ICMP)
#   UDP VIP:53    DNS_CHECK     dnsmasq (type A, name ok.test)       faults: dnsmasq stopped, the
#                                                                     name answered NXDOMAIN, REFUSED
#   TCP VIP:25    SMTP_CHECK    OpenSMTPD (smtpd -d -f FILE), helo_name director.test
#                                                                     faults: smtpd stopped, a 554 greeting
# delay_loop 1, connect_timeout 1, retry 1, delay_before_retry 1. Each fault: detection within its
# bound (health_lib.sh hl_fault), traffic through the VIP on the same service without a failure
# once detected, and the server back after the repair.
source "$(dirname "$0")/health_lib.sh"

e2e_init health_l4
e2e_require dnsmasq dig smtpd socat
hl_require

topo_create
topo_mode nat
for rs in "${RS_NAMES[@]}"; do
  hl_py "$rs" tcp9000 9000 tcpname
  hl_py "$rs" tcp9001 9001 tcpname
  hl_py "$rs" udp5000 5000 udpname
  hl_dnsmasq "$rs"
  hl_smtpd "$rs"
done
topo_warmup

# The servers answer as the checkers will expect (from the director's own stack).
got=$(nsx dir bash -c "exec 3<>/dev/tcp/${RS_IPS[0]}/25; read -t 2 -r l <&3; echo QUIT >&3; echo \"\$l\"")
[[ $got == "220 rs1.test ESMTP"* ]] || fail "smtpd on rs1 greets '$got'"
e2e_log "smtpd on rs1 greets: ${got%$'\r'}"
got=$(nsx dir dig +short +tries=1 +time=1 "@${RS_IPS[0]}" ok.test A)
assert_eq "dnsmasq on rs1: ok.test" "$got" 198.18.1.200

common="connect_timeout $HL_CT
            retry $HL_RETRY
            delay_before_retry $HL_DBR
            delay_loop $HL_DL"
# svc PROTO PORT CHECKER-BODY
conf=
svc() {
  local proto=$1 port=$2 body=$3 ip
  conf+="
virtual_server $VIP $port {
    lb_algo rr
    lb_kind NAT
    protocol $proto
"
  for ip in "${RS_IPS[@]}"; do
    conf+="    real_server $ip $port {
        weight 1
        $body
    }
"
  done
  conf+="}
"
}
svc TCP 9000 "TCP_CHECK {
            $common
        }"
svc TCP 9001 "PING_CHECK {
            $common
        }"
svc UDP 5000 "UDP_CHECK {
            payload 68656c6c6f
            require_reply 7273
            $common
        }"
svc UDP 53 "DNS_CHECK {
            type A
            name ok.test
            $common
        }"
svc TCP 25 "SMTP_CHECK {
            helo_name director.test
            $common
        }"
hl_start "$conf"
hl_wait_all_up 6
assert_eq "/v1/health entries" "$(api /v1/health | jq '.checks | length')" 15
e2e_log "checkers up: $(api /v1/health | jq -r '[.checks[] | .checker] | unique | join(" ")')"
for c in TCP_CHECK PING_CHECK UDP_CHECK DNS_CHECK SMTP_CHECK; do
  e2e_log "$c last: $(api /v1/health | jq -r --arg c "$c" '[.checks[] | select(.checker == $c)][0].last | "\(.detail) (\(.latency_us) us)"')"
done

ip1=${RS_IPS[0]} ip2=${RS_IPS[1]} ip3=${RS_IPS[2]}

HL_TRAFFIC=$(hl_cmd_tcp "$VIP" 9000)
hl_fault "TCP server stopped" "TCP $VIP:9000" "$ip1:9000" TCP_CHECK fast \
  'hl_stop rs1/tcp9000' 'hl_py rs1 tcp9000 9000 tcpname' 'connect: Connection refused'

HL_TRAFFIC=$(hl_cmd_tcp "$VIP" 9001)
hl_fault "link cut (ping)" "TCP $VIP:9001" "$ip2:9001" PING_CHECK timeout \
  'hl_link rs2 down' 'hl_link rs2 up' 'no echo reply within 1000 ms'

HL_TRAFFIC=$(hl_cmd_udp "$VIP" 5000)
hl_fault "UDP responder stopped" "UDP $VIP:5000" "$ip3:5000" UDP_CHECK fast \
  'hl_stop rs3/udp5000' 'hl_py rs3 udp5000 5000 udpname' 'ICMP.*unreachable|Connection refused'

HL_TRAFFIC=$(hl_cmd_dns "$VIP")
hl_fault "dnsmasq stopped" "UDP $VIP:53" "$ip1:53" DNS_CHECK fast \
  'hl_stop rs1/dns' 'hl_dnsmasq rs1' 'recv: Connection refused|ICMP'
hl_fault "DNS NXDOMAIN" "UDP $VIP:53" "$ip2:53" DNS_CHECK fast \
  'hl_dns_state rs2 nxdomain' 'hl_dns_state rs2 ok' 'reply .*(NXDOMAIN|rcode 3)'
hl_fault "DNS REFUSED" "UDP $VIP:53" "$ip3:53" DNS_CHECK fast \
  'hl_dns_state rs3 refused' 'hl_dns_state rs3 ok' 'reply .*(REFUSED|rcode 5)'

HL_TRAFFIC=$(hl_cmd_smtp "$VIP")
hl_fault "smtpd stopped" "TCP $VIP:25" "$ip1:25" SMTP_CHECK fast \
  'hl_stop rs1/smtp' 'hl_smtpd rs1' 'connect: Connection refused'
hl_fault "SMTP 554 greeting" "TCP $VIP:25" "$ip2:25" SMTP_CHECK fast \
  'hl_stop rs2/smtp; hl_py rs2 smtp 25 smtp554' 'hl_stop rs2/smtp; hl_smtpd rs2' \
  "expected 2.., got '554 no service here'|554"

hl_wait_all_up
hl_metrics_check "TCP $VIP:25" "$ip2:25" SMTP_CHECK 0
hl_summary
lb_stop || fail "lvsd did not exit cleanly on SIGTERM"
