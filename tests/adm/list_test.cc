// Golden tests of ipvsadm 1.31's listings. Every expected string was derived from ipvsadm.c's
// printf formats (print_title, print_service_entry, print_largenum, print_conn, list_conn,
// list_timeout, list_daemon, the FMT_RULE path) applied to the values below, not from lvsadm's own
// output.
#include "adm/list.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>

#include "adm/list_model.h"
#include "net/addr.h"

namespace lvs::adm {
namespace {

net::IpAddr ip(const char* s) { return *net::IpAddr::parse(s); }

RealServer rs(const char* addr, uint16_t port, FwdMethod fwd, int32_t weight, uint32_t active,
              uint32_t inactive) {
  RealServer d;
  d.addr = ip(addr);
  d.port = port;
  d.fwd = fwd;
  d.weight = weight;
  d.active_conns = active;
  d.inactive_conns = inactive;
  return d;
}

Service svc(uint8_t proto, const char* addr, uint16_t port, const char* sched) {
  Service s;
  s.protocol = proto;
  s.addr = ip(addr);
  s.port = port;
  s.scheduler = sched;
  return s;
}

Service fwm(uint32_t mark, net::Family af, const char* sched) {
  Service s;
  s.fwmark = mark;
  s.fwmark_af = af;
  s.scheduler = sched;
  return s;
}

ListOptions numeric() {
  ListOptions o;
  o.numeric = true;
  return o;
}

std::string list_n(const ListModel& m, ListOptions o) {
  const ListOutput r = list(m, o);
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.err, "");
  return r.out;
}

// One TCP NAT service, its two servers given out of order.
ListModel nat_model() {
  ListModel m;
  Service s = svc(kProtoTcp, "198.18.2.100", 80, "rr");
  RealServer a = rs("198.18.3.2", 80, FwdMethod::kMasq, 1, 3, 5);
  a.persist_conns = 2;
  a.u_threshold = 100;
  a.l_threshold = 50;
  a.stats = {6, 120, 90, 18000, 72000};
  a.rates = {2, 25, 20, 3000, 12000};
  RealServer b = rs("198.18.3.1", 8080, FwdMethod::kMasq, 2, 0, 1);
  b.stats = {4, 80, 60, 12000, 48000};
  b.rates = {1, 15, 10, 2000, 8000};
  s.stats = {10, 200, 150, 30000, 120000};
  s.rates = {3, 40, 30, 5000, 20000};
  s.servers = {a, b};
  m.services.push_back(s);
  return m;
}

// ---- print_largenum ----

TEST(Largenum, ScalesAboveHundredMillion) {
  using detail::largenum;
  EXPECT_EQ(largenum(0, false), "        0");
  EXPECT_EQ(largenum(99999999, false), " 99999999");
  EXPECT_EQ(largenum(100000000, false), "  100000K");
  EXPECT_EQ(largenum(999999999, false), "  999999K");
  EXPECT_EQ(largenum(1000000000, false), "    1000M");
  EXPECT_EQ(largenum(99999999999ULL, false), "   99999M");
  EXPECT_EQ(largenum(100000000000ULL, false), "     100G");
  EXPECT_EQ(largenum(99999999999999ULL, false), "   99999G");
  EXPECT_EQ(largenum(100000000000000ULL, false), "     100T");
  EXPECT_EQ(largenum(18446744073709551615ULL, false), "18446744T");
}

TEST(Largenum, ExactWidensPastEightDigits) {
  using detail::largenum;
  EXPECT_EQ(largenum(0, true), "        0");
  EXPECT_EQ(largenum(12345678, true), " 12345678");
  EXPECT_EQ(largenum(123456789, true), " 123456789");
  EXPECT_EQ(largenum(18446744073709551615ULL, true), " 18446744073709551615");
}

// ---- the empty table ----

TEST(ListEmpty, EveryTitle) {
  const ListModel m;
  const std::string v = "IP Virtual Server version 1.2.1 (size=4096)\n";
  EXPECT_EQ(list_n(m, numeric()),
            v + "Prot LocalAddress:Port Scheduler Flags\n"
                "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n");
  EXPECT_EQ(list_n(m, ListOptions{}), list_n(m, numeric()));
  ListOptions o = numeric();
  o.stats = true;
  EXPECT_EQ(list_n(m, o),
            v + "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n"
                "  -> RemoteAddress:Port\n");
  o = numeric();
  o.rate = true;
  EXPECT_EQ(list_n(m, o),
            v + "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n"
                "  -> RemoteAddress:Port\n");
  o = numeric();
  o.thresholds = true;
  EXPECT_EQ(list_n(m, o), v + "Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn "
                              "InActConn \n  -> RemoteAddress:Port\n");
  o = numeric();
  o.persistent_conn = true;
  EXPECT_EQ(list_n(m, o), v + "Prot LocalAddress:Port            Weight    PersistConn ActiveConn "
                              "InActConn \n  -> RemoteAddress:Port\n");
  o = numeric();
  o.tun_info = true;
  EXPECT_EQ(list_n(m, o), v + "Prot LocalAddress:Port Scheduler Flags\n"
                              "  -> RemoteAddress:Port           Forward TunnelInfo    Weight "
                              "ActiveConn InActConn\n");
  EXPECT_EQ(save(m, true), "");
  EXPECT_EQ(save(m, false), "");
}

TEST(ListEmpty, TableSizeAndVersion) {
  ListModel m;
  m.conn_tab_size = 1048576;
  m.version_code = 0x010203;
  EXPECT_EQ(list_n(m, numeric()).substr(0, 50),
            "IP Virtual Server version 1.2.3 (size=1048576)\nPro");
}

// ---- one NAT service ----

TEST(ListNat, Default) {
  EXPECT_EQ(list_n(nat_model(), numeric()),
            "IP Virtual Server version 1.2.1 (size=4096)\n"
            "Prot LocalAddress:Port Scheduler Flags\n"
            "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
            "TCP  198.18.2.100:80 rr\n"
            "  -> 198.18.3.1:8080              Masq    2      0          1         \n"
            "  -> 198.18.3.2:80                Masq    1      3          5         \n");
  // No resolver: names fall back to numbers, so -n changes nothing.
  EXPECT_EQ(list_n(nat_model(), ListOptions{}), list_n(nat_model(), numeric()));
}

TEST(ListNat, SortIsDefaultNosortKeepsOrder) {
  ListOptions o = numeric();
  o.nosort = true;
  EXPECT_EQ(list_n(nat_model(), o),
            "IP Virtual Server version 1.2.1 (size=4096)\n"
            "Prot LocalAddress:Port Scheduler Flags\n"
            "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
            "TCP  198.18.2.100:80 rr\n"
            "  -> 198.18.3.2:80                Masq    1      3          5         \n"
            "  -> 198.18.3.1:8080              Masq    2      0          1         \n");
}

TEST(ListNat, Thresholds) {
  ListOptions o = numeric();
  o.thresholds = true;
  EXPECT_EQ(list_n(nat_model(), o),
            "IP Virtual Server version 1.2.1 (size=4096)\n"
            "Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn \n"
            "  -> RemoteAddress:Port\n"
            "TCP  198.18.2.100:80 rr\n"
            "  -> 198.18.3.1:8080              0          0          0          1         \n"
            "  -> 198.18.3.2:80                100        50         3          5         \n");
}

TEST(ListNat, PersistentConn) {
  ListOptions o = numeric();
  o.persistent_conn = true;
  EXPECT_EQ(list_n(nat_model(), o),
            "IP Virtual Server version 1.2.1 (size=4096)\n"
            "Prot LocalAddress:Port            Weight    PersistConn ActiveConn InActConn \n"
            "  -> RemoteAddress:Port\n"
            "TCP  198.18.2.100:80 rr\n"
            "  -> 198.18.3.1:8080              2         0           0          1         \n"
            "  -> 198.18.3.2:80                1         2           3          5         \n");
}

TEST(ListNat, Stats) {
  ListOptions o = numeric();
  o.stats = true;
  EXPECT_EQ(list_n(nat_model(), o),
            "IP Virtual Server version 1.2.1 (size=4096)\n"
            "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n"
            "  -> RemoteAddress:Port\n"
            "TCP  198.18.2.100:80                    10      200      150    30000   120000\n"
            "  -> 198.18.3.1:8080                     4       80       60    12000    48000\n"
            "  -> 198.18.3.2:80                       6      120       90    18000    72000\n");
}

TEST(ListNat, Rate) {
  ListOptions o = numeric();
  o.rate = true;
  EXPECT_EQ(list_n(nat_model(), o),
            "IP Virtual Server version 1.2.1 (size=4096)\n"
            "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n"
            "  -> RemoteAddress:Port\n"
            "TCP  198.18.2.100:80                     3       40       30     5000    20000\n"
            "  -> 198.18.3.1:8080                     1       15       10     2000     8000\n"
            "  -> 198.18.3.2:80                       2       25       20     3000    12000\n");
}

TEST(ListNat, StatsWinOverRateAndThresholds) {
  ListOptions a = numeric();
  a.stats = a.rate = a.thresholds = a.persistent_conn = a.tun_info = true;
  ListOptions b = numeric();
  b.stats = true;
  EXPECT_EQ(list_n(nat_model(), a), list_n(nat_model(), b));
  a.stats = false;
  b.stats = false;
  b.rate = true;
  EXPECT_EQ(list_n(nat_model(), a), list_n(nat_model(), b));
}

TEST(ListNat, SingleServiceHasNoVersionLine) {
  ListOptions o = numeric();
  o.service = ServiceKey{0, net::Family::kV4, kProtoTcp, ip("198.18.2.100"), 80};
  EXPECT_EQ(list_n(nat_model(), o),
            "Prot LocalAddress:Port Scheduler Flags\n"
            "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
            "TCP  198.18.2.100:80 rr\n"
            "  -> 198.18.3.1:8080              Masq    2      0          1         \n"
            "  -> 198.18.3.2:80                Masq    1      3          5         \n");
}

TEST(ListNat, SingleServiceMissing) {
  ListOptions o = numeric();
  o.service = ServiceKey{0, net::Family::kV4, kProtoUdp, ip("198.18.2.100"), 80};
  ListOutput r = list(nat_model(), o);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "No such service\n");
  o.service = ServiceKey{0, net::Family::kV4, kProtoTcp, ip("198.18.2.100"), 81};
  EXPECT_EQ(list(nat_model(), o).err, "No such service\n");
  o.service = ServiceKey{80, net::Family::kV4, kProtoTcp, {}, 0};
  EXPECT_EQ(list(nat_model(), o).err, "No such service\n");
}

TEST(ListNat, Save) {
  const std::string expected =
      "-A -t 198.18.2.100:80 -s rr\n"
      "-a -t 198.18.2.100:80 -r 198.18.3.1:8080 -m -w 2\n"
      "-a -t 198.18.2.100:80 -r 198.18.3.2:80 -m -w 1\n";
  EXPECT_EQ(save(nat_model(), true), expected);
  EXPECT_EQ(save(nat_model(), false), expected);  // no resolver: numbers
}

// ---- IPv6 ----

ListModel v6_model() {
  ListModel m;
  Service s = svc(kProtoTcp, "2001:db8:ffff:ffff:ffff:ffff:ffff:100", 443, "wlc");
  s.stats = {1, 2, 3, 4, 5};
  RealServer a = rs("2001:db8:1111:2222:3333:4444:5555:1", 443, FwdMethod::kRoute, 1, 0, 0);
  RealServer b = rs("2001:db8::2", 443, FwdMethod::kRoute, 5, 0, 0);
  RealServer c = rs("2001:db8::1", 443, FwdMethod::kRoute, 5, 7, 8);
  c.stats = {1, 2, 3, 4, 5};
  s.servers = {a, b, c};
  m.services.push_back(s);
  return m;
}

TEST(ListV6, BracketsAndNoTruncation) {
  EXPECT_EQ(
      list_n(v6_model(), numeric()),
      "IP Virtual Server version 1.2.1 (size=4096)\n"
      "Prot LocalAddress:Port Scheduler Flags\n"
      "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
      "TCP  [2001:db8:ffff:ffff:ffff:ffff:ffff:100]:443 wlc\n"
      "  -> [2001:db8::1]:443            Route   5      7          8         \n"
      "  -> [2001:db8::2]:443            Route   5      0          0         \n"
      "  -> [2001:db8:1111:2222:3333:4444:5555:1]:443 Route   1      0          0         \n");
}

TEST(ListV6, StatsNamesOverflowTheColumn) {
  ListOptions o = numeric();
  o.stats = true;
  EXPECT_EQ(list_n(v6_model(), o),
            "IP Virtual Server version 1.2.1 (size=4096)\n"
            "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n"
            "  -> RemoteAddress:Port\n"
            "TCP  [2001:db8:ffff:ffff:ffff:ffff:ffff:100]:443        1        2        3        4  "
            "      5\n"
            "  -> [2001:db8::1]:443                   1        2        3        4        5\n"
            "  -> [2001:db8::2]:443                   0        0        0        0        0\n"
            "  -> [2001:db8:1111:2222:3333:4444:5555:1]:443        0        0        0        0    "
            "    0\n");
}

TEST(ListV6, Save) {
  EXPECT_EQ(save(v6_model(), true),
            "-A -t [2001:db8:ffff:ffff:ffff:ffff:ffff:100]:443 -s wlc\n"
            "-a -t [2001:db8:ffff:ffff:ffff:ffff:ffff:100]:443 -r [2001:db8::1]:443 -g -w 5\n"
            "-a -t [2001:db8:ffff:ffff:ffff:ffff:ffff:100]:443 -r [2001:db8::2]:443 -g -w 5\n"
            "-a -t [2001:db8:ffff:ffff:ffff:ffff:ffff:100]:443 "
            "-r [2001:db8:1111:2222:3333:4444:5555:1]:443 -g -w 1\n");
}

// ---- firewall marks and scheduler flags ----

ListModel fwm_model() {
  ListModel m;
  Service f3 = fwm(3, net::Family::kV4, "wlc");
  f3.sched_flags = kSvcFlagSched1 | kSvcFlagSched3;
  Service f2 = fwm(2, net::Family::kV6, "mh");
  f2.sched_flags = kSvcFlagSched2;
  f2.servers = {rs("2001:db8::1", 0, FwdMethod::kTunnel, 3, 1, 2)};
  Service f1 = fwm(1, net::Family::kV4, "sh");
  f1.sched_flags = kSvcFlagSched1 | kSvcFlagSched2;
  f1.servers = {rs("198.18.3.2", 0, FwdMethod::kRoute, 1, 0, 0),
                rs("198.18.3.1", 0, FwdMethod::kRoute, 1, 0, 0)};
  // sh shows only its two flags by name: the third leaves empty parentheses, as ipvsadm.
  Service f4 = fwm(4, net::Family::kV4, "sh");
  f4.sched_flags = kSvcFlagSched3;
  m.services = {f3, f2, f4, f1};
  return m;
}

TEST(ListFwmark, FamiliesAndSchedulerFlags) {
  EXPECT_EQ(list_n(fwm_model(), numeric()),
            "IP Virtual Server version 1.2.1 (size=4096)\n"
            "Prot LocalAddress:Port Scheduler Flags\n"
            "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
            "FWM  1 sh (sh-fallback,sh-port)\n"
            "  -> 198.18.3.1:0                 Route   1      0          0         \n"
            "  -> 198.18.3.2:0                 Route   1      0          0         \n"
            "FWM  2 IPv6 mh (mh-port)\n"
            "  -> [2001:db8::1]:0              Tunnel  3      1          2         \n"
            "FWM  3 wlc (flag-1,flag-3)\n"
            "FWM  4 sh ()\n");
}

TEST(ListFwmark, SingleServiceMatchesFamily) {
  ListOptions o = numeric();
  o.service = ServiceKey{2, net::Family::kV6, kProtoTcp, {}, 0};
  const ListOutput r = list(fwm_model(), o);
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out,
            "Prot LocalAddress:Port Scheduler Flags\n"
            "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
            "FWM  2 IPv6 mh (mh-port)\n"
            "  -> [2001:db8::1]:0              Tunnel  3      1          2         \n");
  o.service = ServiceKey{2, net::Family::kV4, kProtoTcp, {}, 0};
  EXPECT_EQ(list(fwm_model(), o).err, "No such service\n");
}

TEST(ListFwmark, Save) {
  EXPECT_EQ(save(fwm_model(), true),
            "-A -f 1 -s sh -b sh-fallback,sh-port\n"
            "-a -f 1 -r 198.18.3.1:0 -g -w 1\n"
            "-a -f 1 -r 198.18.3.2:0 -g -w 1\n"
            "-A -f 2 -6 -s mh -b mh-port\n"
            "-a -f 2 -6 -r [2001:db8::1]:0 -i -w 3 --tun-type ipip\n"
            "-A -f 3 -s wlc -b flag-1,flag-3\n"
            "-A -f 4 -s sh -b \n");
}

TEST(ListFwmark, LargeMarkIsUnsigned) {
  ListModel m;
  m.services = {fwm(2882430849u, net::Family::kV4, "wlc")};
  EXPECT_NE(list_n(m, numeric()).find("\nFWM  2882430849 wlc\n"), std::string::npos);
  EXPECT_EQ(save(m, true), "-A -f 2882430849 -s wlc\n");
}

// ---- persistence, netmask, pe, ops ----

ListModel persist_model() {
  ListModel m;
  Service a = svc(kProtoTcp, "198.18.2.100", 443, "wlc");
  a.persistent = true;
  a.persistence_timeout = 300;
  a.netmask_v4 = 0xffffff00;
  a.servers = {rs("198.18.3.1", 443, FwdMethod::kRoute, 1, 0, 0)};
  Service b = svc(kProtoUdp, "198.18.2.100", 5060, "rr");
  b.persistent = true;
  b.persistence_timeout = 360;
  b.pe_name = "sip";
  Service c = svc(kProtoUdp, "198.18.2.100", 53, "rr");
  c.one_packet = true;
  Service d = fwm(7, net::Family::kV6, "sh");
  d.sched_flags = kSvcFlagSched1;
  d.persistent = true;
  d.persistence_timeout = 600;
  d.prefix_v6 = 64;
  d.one_packet = true;
  d.servers = {rs("2001:db8::7", 0, FwdMethod::kRoute, 1, 0, 0)};
  // A persistence engine without persistence: the listing hides it, -S writes it.
  Service e = svc(kProtoTcp, "198.18.2.101", 80, "wlc");
  e.pe_name = "sip";
  m.services = {d, b, e, c, a};
  return m;
}

TEST(ListPersistence, MaskPeOps) {
  EXPECT_EQ(list_n(persist_model(), numeric()),
            "IP Virtual Server version 1.2.1 (size=4096)\n"
            "Prot LocalAddress:Port Scheduler Flags\n"
            "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
            "TCP  198.18.2.100:443 wlc persistent 300 mask 255.255.255.0\n"
            "  -> 198.18.3.1:443               Route   1      0          0         \n"
            "TCP  198.18.2.101:80 wlc\n"
            "UDP  198.18.2.100:53 rr ops\n"
            "UDP  198.18.2.100:5060 rr persistent 360 pe sip\n"
            "FWM  7 IPv6 sh (sh-fallback) persistent 600 mask 64 ops\n"
            "  -> [2001:db8::7]:0              Route   1      0          0         \n");
}

TEST(ListPersistence, Save) {
  EXPECT_EQ(save(persist_model(), true),
            "-A -t 198.18.2.100:443 -s wlc -p 300 -M 255.255.255.0\n"
            "-a -t 198.18.2.100:443 -r 198.18.3.1:443 -g -w 1\n"
            "-A -t 198.18.2.101:80 -s wlc --pe sip\n"
            "-A -u 198.18.2.100:53 -s rr -o\n"
            "-A -u 198.18.2.100:5060 -s rr -p 360 --pe sip\n"
            "-A -f 7 -6 -s sh -p 600 -M 64 -o -b sh-fallback\n"
            "-a -f 7 -6 -r [2001:db8::7]:0 -g -w 1\n");
}

TEST(ListPersistence, FullMaskAndPrefixAreNotShown) {
  ListModel m;
  Service a = svc(kProtoTcp, "198.18.2.100", 443, "wlc");
  a.persistent = true;
  a.persistence_timeout = 0;
  Service b = svc(kProtoTcp, "2001:db8::100", 443, "wlc");
  b.persistent = true;
  b.persistence_timeout = 10;
  b.netmask_v4 = 0xffff0000;  // ignored for IPv6
  m.services = {a, b};
  EXPECT_EQ(save(m, true),
            "-A -t 198.18.2.100:443 -s wlc -p 0\n"
            "-A -t [2001:db8::100]:443 -s wlc -p 10\n");
}

// ---- tunnels and forwarding methods ----

ListModel tun_model() {
  ListModel m;
  Service s = svc(kProtoTcp, "198.18.2.100", 80, "wlc");
  auto t = [](const char* a, uint16_t port, FwdMethod f, int w, TunType tt, uint16_t tport,
              TunCsum cs) {
    RealServer d = rs(a, port, f, w, uint32_t(w) * 10, uint32_t(w) * 100);
    d.tun_type = tt;
    d.tun_port = tport;
    d.tun_csum = cs;
    return d;
  };
  s.servers = {
      t("198.18.4.8", 80, FwdMethod::kMasq, 0, TunType::kGue, 9, TunCsum::kCsum),
      t("198.18.4.7", 8080, FwdMethod::kFullNat, 7, TunType::kIpip, 0, TunCsum::kNoCsum),
      t("198.18.4.6", 80, FwdMethod::kLocal, 6, TunType::kIpip, 0, TunCsum::kNoCsum),
      t("198.18.4.5", 80, FwdMethod::kRoute, 5, TunType::kIpip, 0, TunCsum::kNoCsum),
      t("198.18.4.4", 80, FwdMethod::kTunnel, 4, TunType::kGue, 5555, TunCsum::kNoCsum),
      t("198.18.4.3", 80, FwdMethod::kTunnel, 3, TunType::kGre, 0, TunCsum::kRemCsum),
      t("198.18.4.2", 80, FwdMethod::kTunnel, 2, TunType::kGue, 6080, TunCsum::kCsum),
      t("198.18.4.1", 80, FwdMethod::kTunnel, 1, TunType::kIpip, 0, TunCsum::kNoCsum),
  };
  m.services.push_back(s);
  return m;
}

TEST(ListTunnel, TunInfo) {
  ListOptions o = numeric();
  o.tun_info = true;
  EXPECT_EQ(
      list_n(tun_model(), o),
      "IP Virtual Server version 1.2.1 (size=4096)\n"
      "Prot LocalAddress:Port Scheduler Flags\n"
      "  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n"
      "TCP  198.18.2.100:80 wlc\n"
      "  -> 198.18.4.1:80                Tunnel  ipip          1      10         100       \n"
      "  -> 198.18.4.2:80                Tunnel  gue:6080:+c   2      20         200       \n"
      "  -> 198.18.4.3:80                Tunnel  gre:r+c       3      30         300       \n"
      "  -> 198.18.4.4:80                Tunnel  gue:5555:-c   4      40         400       \n"
      "  -> 198.18.4.5:80                Route   n/a           5      50         500       \n"
      "  -> 198.18.4.6:80                Local   n/a           6      60         600       \n"
      "  -> 198.18.4.7:8080              FullNat n/a           7      70         700       \n"
      "  -> 198.18.4.8:80                Masq    n/a           0      0          0         \n");
}

TEST(ListTunnel, WithoutTunInfo) {
  EXPECT_EQ(list_n(tun_model(), numeric()),
            "IP Virtual Server version 1.2.1 (size=4096)\n"
            "Prot LocalAddress:Port Scheduler Flags\n"
            "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
            "TCP  198.18.2.100:80 wlc\n"
            "  -> 198.18.4.1:80                Tunnel  1      10         100       \n"
            "  -> 198.18.4.2:80                Tunnel  2      20         200       \n"
            "  -> 198.18.4.3:80                Tunnel  3      30         300       \n"
            "  -> 198.18.4.4:80                Tunnel  4      40         400       \n"
            "  -> 198.18.4.5:80                Route   5      50         500       \n"
            "  -> 198.18.4.6:80                Local   6      60         600       \n"
            "  -> 198.18.4.7:8080              FullNat 7      70         700       \n"
            "  -> 198.18.4.8:80                Masq    0      0          0         \n");
}

TEST(ListTunnel, Save) {
  EXPECT_EQ(save(tun_model(), true),
            "-A -t 198.18.2.100:80 -s wlc\n"
            "-a -t 198.18.2.100:80 -r 198.18.4.1:80 -i -w 1 --tun-type ipip\n"
            "-a -t 198.18.2.100:80 -r 198.18.4.2:80 -i -w 2 --tun-type gue --tun-port 6080 "
            "--tun-csum\n"
            "-a -t 198.18.2.100:80 -r 198.18.4.3:80 -i -w 3 --tun-type gre --tun-remcsum\n"
            "-a -t 198.18.2.100:80 -r 198.18.4.4:80 -i -w 4 --tun-type gue --tun-port 5555 "
            "--tun-nocsum\n"
            "-a -t 198.18.2.100:80 -r 198.18.4.5:80 -g -w 5\n"
            "-a -t 198.18.2.100:80 -r 198.18.4.6:80 -g -w 6\n"
            "-a -t 198.18.2.100:80 -r 198.18.4.7:8080 --fullnat -w 7\n"
            "-a -t 198.18.2.100:80 -r 198.18.4.8:80 -m -w 0\n");
}

TEST(ListTunnel, ThresholdsAreNotSaved) {
  ListModel m = nat_model();
  ASSERT_EQ(m.services[0].servers[0].u_threshold, 100u);
  EXPECT_EQ(save(m, true).find("-x"), std::string::npos);
  EXPECT_EQ(save(m, true).find("-y"), std::string::npos);
}

// ---- large counters ----

ListModel big_model() {
  ListModel m;
  Service s = svc(kProtoTcp, "198.18.2.100", 80, "wlc");
  s.stats = {99999999, 100000000, 1234567890, 123456789012345ULL, 18446744073709551615ULL};
  s.rates = {123456789, 5, 100000000000000ULL, 2000000000, 7};
  RealServer d = rs("198.18.3.1", 80, FwdMethod::kMasq, 1, 0, 0);
  d.stats = {5, 999999999, 99999999999ULL, 100000000000ULL, 99999999999999ULL};
  d.rates = {123456789, 5, 6, 2000000000, 7};
  s.servers = {d};
  m.services.push_back(s);
  return m;
}

TEST(ListLarge, StatsScaled) {
  ListOptions o = numeric();
  o.stats = true;
  EXPECT_EQ(list_n(big_model(), o),
            "IP Virtual Server version 1.2.1 (size=4096)\n"
            "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n"
            "  -> RemoteAddress:Port\n"
            "TCP  198.18.2.100:80              99999999  100000K    1234M     123T18446744T\n"
            "  -> 198.18.3.1:80                       5  999999K   99999M     100G   99999G\n");
}

TEST(ListLarge, StatsExact) {
  ListOptions o = numeric();
  o.stats = true;
  o.exact = true;
  EXPECT_EQ(list_n(big_model(), o),
            "IP Virtual Server version 1.2.1 (size=4096)\n"
            "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n"
            "  -> RemoteAddress:Port\n"
            "TCP  198.18.2.100:80              99999999 100000000 1234567890 123456789012345 "
            "18446744073709551615\n"
            "  -> 198.18.3.1:80                       5 999999999 99999999999 100000000000 "
            "99999999999999\n");
}

TEST(ListLarge, RateServerPacketRatesUnscaled) {
  ListOptions o = numeric();
  o.rate = true;
  EXPECT_EQ(list_n(big_model(), o),
            "IP Virtual Server version 1.2.1 (size=4096)\n"
            "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n"
            "  -> RemoteAddress:Port\n"
            "TCP  198.18.2.100:80               123456K        5     100T    2000M        7\n"
            "  -> 198.18.3.1:80                123456789        5        6    2000M        7\n");
}

TEST(ListLarge, RateExact) {
  ListOptions o = numeric();
  o.rate = true;
  o.exact = true;
  EXPECT_EQ(
      list_n(big_model(), o),
      "IP Virtual Server version 1.2.1 (size=4096)\n"
      "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n"
      "  -> RemoteAddress:Port\n"
      "TCP  198.18.2.100:80              123456789        5 100000000000000 2000000000        7\n"
      "  -> 198.18.3.1:80                123456789        5        6 2000000000        7\n");
}

// ---- connections ----

Connection conn(uint8_t proto, uint32_t expires, const char* state, const char* c, uint16_t cp,
                const char* v, uint16_t vp, const char* d, uint16_t dp) {
  Connection x;
  x.protocol = proto;
  x.expires = expires;
  x.state = state;
  x.client = {ip(c), cp};
  x.virt = {ip(v), vp};
  x.dest = {ip(d), dp};
  return x;
}

ListModel conn_model() {
  ListModel m;
  m.connections.push_back(conn(kProtoTcp, 900, "ESTABLISHED", "203.0.113.5", 40000, "198.18.2.100",
                               80, "198.18.3.1", 8080));
  m.connections.push_back(
      conn(kProtoUdp, 59, "UDP", "203.0.113.6", 5353, "198.18.2.100", 53, "198.18.3.2", 53));
  Connection t =
      conn(kProtoTcp, 360, "NONE", "203.0.113.0", 0, "198.18.2.100", 443, "198.18.3.1", 443);
  t.is_template = true;
  m.connections.push_back(t);
  // A fwmark template: shown by the kernel as protocol IP with the mark as virtual address.
  Connection f =
      conn(kProtoTcp, 6000, "NONE", "203.0.113.7", 0, "198.18.2.100", 80, "198.18.3.1", 0);
  f.is_template = true;
  f.fwmark = 1;
  m.connections.push_back(f);
  m.connections.push_back(conn(kProtoTcp, 3, "SYN_RECV", "2001:db8:1::5", 50000, "2001:db8::100",
                               443, "2001:db8::2", 443));
  Connection f6 =
      conn(kProtoTcp, 61, "ASSURED", "2001:db8:1::", 0, "2001:db8::100", 0, "2001:db8::2", 0);
  f6.is_template = true;
  f6.fwmark = 2;
  m.connections.push_back(f6);
  m.connections.push_back(conn(kProtoSctp, 30, "ESTABLISHED", "203.0.113.9", 3868, "198.18.2.100",
                               3868, "198.18.3.4", 3868));
  Connection sip =
      conn(kProtoUdp, 180, "UDP", "203.0.113.8", 5060, "198.18.2.100", 5060, "198.18.3.3", 5060);
  sip.pe_name = "sip";
  sip.pe_data = "abc123@host";
  m.connections.push_back(sip);
  // pe name without data: ipvsadm's sscanf finds 10 fields and prints the short form.
  Connection sip2 =
      conn(kProtoUdp, 181, "UDP", "203.0.113.8", 5061, "198.18.2.100", 5060, "198.18.3.3", 5060);
  sip2.pe_name = "sip";
  m.connections.push_back(sip2);
  return m;
}

TEST(ListConn, Numeric) {
  ListOptions o = numeric();
  o.connections = true;
  EXPECT_EQ(list_n(conn_model(), o),
            "IPVS connection entries\n"
            "pro expire state       source             virtual            destination\n"
            "TCP 15:00  ESTABLISHED 203.0.113.5:40000  198.18.2.100:80    198.18.3.1:8080\n"
            "UDP 00:59  UDP         203.0.113.6:5353   198.18.2.100:53    198.18.3.2:53\n"
            "TCP 06:00  NONE        203.0.113.0:0      198.18.2.100:443   198.18.3.1:443\n"
            "IP  100:00 NONE        203.0.113.7:0      0.0.0.1:0          198.18.3.1:0\n"
            "TCP 00:03  SYN_RECV    [2001:db8:1::5]:50000 [2001:db8::100]:443 [2001:db8::2]:443\n"
            "IP  01:01  ASSURED     [2001:db8:1::]:0   [0:2::]:0          [2001:db8::2]:0\n"
            "SCTP 00:30  ESTABLISHED 203.0.113.9:3868   198.18.2.100:3868  198.18.3.4:3868\n"
            "UDP 03:00  UDP         203.0.113.8:5060   198.18.2.100:5060  198.18.3.3:5060\n"
            "UDP 03:01  UDP         203.0.113.8:5061   198.18.2.100:5060  198.18.3.3:5060\n");
}

TEST(ListConn, PersistentConn) {
  ListOptions o = numeric();
  o.connections = true;
  o.persistent_conn = true;
  EXPECT_EQ(list_n(conn_model(), o),
            "IPVS connection entries\n"
            "pro expire state       source             virtual            destination        pe "
            "name          pe_data\n"
            "TCP 15:00  ESTABLISHED 203.0.113.5:40000  198.18.2.100:80    198.18.3.1:8080\n"
            "UDP 00:59  UDP         203.0.113.6:5353   198.18.2.100:53    198.18.3.2:53\n"
            "TCP 06:00  NONE        203.0.113.0:0      198.18.2.100:443   198.18.3.1:443\n"
            "IP  100:00 NONE        203.0.113.7:0      0.0.0.1:0          198.18.3.1:0\n"
            "TCP 00:03  SYN_RECV    [2001:db8:1::5]:50000 [2001:db8::100]:443 [2001:db8::2]:443\n"
            "IP  01:01  ASSURED     [2001:db8:1::]:0   [0:2::]:0          [2001:db8::2]:0\n"
            "SCTP 00:30  ESTABLISHED 203.0.113.9:3868   198.18.2.100:3868  198.18.3.4:3868\n"
            "UDP 03:00  UDP         203.0.113.8:5060   198.18.2.100:5060  198.18.3.3:5060  sip     "
            "           abc123@host\n"
            "UDP 03:01  UDP         203.0.113.8:5061   198.18.2.100:5060  198.18.3.3:5060\n");
}

TEST(ListConn, EmptyAndExactIgnored) {
  ListOptions o = numeric();
  o.connections = true;
  o.exact = true;
  EXPECT_EQ(list_n(ListModel{}, o),
            "IPVS connection entries\n"
            "pro expire state       source             virtual            destination\n");
}

// ---- --timeout and --daemon ----

TEST(ListTimeout, Format) {
  ListOptions o;
  o.timeout = true;
  EXPECT_EQ(list_n(ListModel{}, o), "Timeout (tcp tcpfin udp): 900 120 300\n");
  EXPECT_EQ(list_timeout(Timeouts{0, 30, 2678400}), "Timeout (tcp tcpfin udp): 0 30 2678400\n");
}

TEST(ListDaemon, MasterAndBackup) {
  ListModel m;
  SyncDaemon a;
  a.role = SyncRole::kMaster;
  a.mcast_ifn = "eth0";
  a.syncid = 1;
  a.sync_maxlen = 1472;
  a.mcast_group = ip("224.0.0.81");
  a.mcast_port = 8848;
  a.mcast_ttl = 1;
  SyncDaemon b;
  b.role = SyncRole::kBackup;
  b.mcast_ifn = "eth1";
  b.syncid = 200;
  m.daemons = {a, b};
  ListOptions o;
  o.daemon = true;
  EXPECT_EQ(list_n(m, o),
            "master sync daemon (mcast=eth0, syncid=1, maxlen=1472, group=224.0.0.81, "
            "port=8848, ttl=1)\n"
            "backup sync daemon (mcast=eth1, syncid=200)\n");
  m.daemons[0].mcast_group = ip("ff02::8:1");
  m.daemons[0].sync_maxlen = 0;
  m.daemons[1].role = SyncRole::kNone;
  EXPECT_EQ(list_daemon(m),
            "master sync daemon (mcast=eth0, syncid=1, group=ff02::8:1, "
            "port=8848, ttl=1)\n");
  EXPECT_EQ(list_daemon(ListModel{}), "");
}

// ---- option conflicts (process_options' CMD_LIST check) ----

TEST(ListConflict, Rejected) {
  auto conflict = [](ListOptions o) {
    const ListOutput r = list(nat_model(), o);
    return r.status == 2 && r.out.empty() && r.err == "options conflicts in the list command\n";
  };
  ListOptions o;
  o.connections = true;
  o.stats = true;
  EXPECT_TRUE(conflict(o));
  o = {};
  o.timeout = true;
  o.persistent_conn = true;
  EXPECT_TRUE(conflict(o));
  o = {};
  o.daemon = true;
  o.rate = true;
  EXPECT_TRUE(conflict(o));
  o = {};
  o.daemon = true;
  o.thresholds = true;
  EXPECT_TRUE(conflict(o));
  o = {};
  o.connections = true;
  o.persistent_conn = true;  // allowed
  EXPECT_FALSE(conflict(o));
  o = {};
  o.stats = true;
  o.service = ServiceKey{0, net::Family::kV4, kProtoTcp, ip("198.18.2.100"), 80};
  EXPECT_FALSE(conflict(o));
}

// ---- order: libipvs's comparisons, wrap-around included ----

ListModel sort_model() {
  ListModel m;
  Service t10 = svc(kProtoTcp, "10.0.0.1", 80, "wlc");
  t10.servers = {rs("10.0.0.2", 81, FwdMethod::kMasq, 1, 0, 0),
                 rs("10.0.0.2", 80, FwdMethod::kMasq, 1, 0, 0),
                 rs("200.0.0.2", 80, FwdMethod::kMasq, 1, 0, 0),
                 rs("192.168.1.1", 80, FwdMethod::kMasq, 1, 0, 0)};
  m.services = {
      fwm(5, net::Family::kV6, "wlc"),           t10,
      svc(kProtoSctp, "10.0.0.1", 80, "wlc"),    svc(kProtoTcp, "2001:db8::1", 80, "wlc"),
      svc(kProtoUdp, "10.0.0.1", 53, "wlc"),     fwm(5, net::Family::kV4, "wlc"),
      svc(kProtoTcp, "192.168.0.1", 443, "wlc"), svc(kProtoTcp, "200.0.0.1", 80, "wlc"),
      fwm(4000000000u, net::Family::kV4, "wlc"), svc(kProtoTcp, "192.168.0.1", 80, "wlc"),
  };
  return m;
}

// libipvs subtracts unsigned marks and addresses into an int: 10.0.0.1 - 200.0.0.1 wraps
// positive, so 200.0.0.1 sorts first; a mark above 2^31 sorts before mark 0.
TEST(ListSort, LibipvsOrder) {
  EXPECT_EQ(list_n(sort_model(), numeric()),
            "IP Virtual Server version 1.2.1 (size=4096)\n"
            "Prot LocalAddress:Port Scheduler Flags\n"
            "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
            "FWM  4000000000 wlc\n"
            "TCP  192.168.0.1:80 wlc\n"
            "TCP  192.168.0.1:443 wlc\n"
            "TCP  200.0.0.1:80 wlc\n"
            "TCP  10.0.0.1:80 wlc\n"
            "  -> 192.168.1.1:80               Masq    1      0          0         \n"
            "  -> 200.0.0.2:80                 Masq    1      0          0         \n"
            "  -> 10.0.0.2:80                  Masq    1      0          0         \n"
            "  -> 10.0.0.2:81                  Masq    1      0          0         \n"
            "UDP  10.0.0.1:53 wlc\n"
            "SCTP 10.0.0.1:80 wlc\n"
            "TCP  [2001:db8::1]:80 wlc\n"
            "FWM  5 wlc\n"
            "FWM  5 IPv6 wlc\n");
}

TEST(ListSort, ServerWordsWrapToo) {
  // 0x00000000 - 0xaaaa0000 wraps positive: 2001:db8:aaaa::1 sorts before 2001:db8::1.
  ListModel m;
  Service s = svc(kProtoTcp, "2001:db8::100", 80, "rr");
  s.servers = {rs("2001:db8::1", 80, FwdMethod::kRoute, 1, 0, 0),
               rs("2001:db8:aaaa::1", 80, FwdMethod::kRoute, 1, 0, 0)};
  m.services = {s};
  EXPECT_EQ(save(m, true),
            "-A -t [2001:db8::100]:80 -s rr\n"
            "-a -t [2001:db8::100]:80 -r [2001:db8:aaaa::1]:80 -g -w 1\n"
            "-a -t [2001:db8::100]:80 -r [2001:db8::1]:80 -g -w 1\n");
}

TEST(ListSort, ExplicitSortEqualsDefaultAndSaveSorts) {
  const std::string s = save(sort_model(), true);
  EXPECT_EQ(s.substr(0, s.find('\n')), "-A -f 4000000000 -s wlc");
  const size_t a = s.find("-A -t 192.168.0.1:80 ");
  const size_t b = s.find("-A -t 192.168.0.1:443 ");
  const size_t c = s.find("-A -t 10.0.0.1:80 ");
  EXPECT_TRUE(a < b && b < c);
  ListOptions o = numeric();
  o.nosort = true;
  const std::string unsorted = list_n(sort_model(), o);
  EXPECT_LT(unsorted.find("FWM  5 IPv6"), unsorted.find("FWM  4000000000"));
}

// ---- names (without -n) ----

class FakeResolver : public ReverseResolver {
 public:
  std::optional<std::string> host(const net::IpAddr& a) const override {
    static const std::map<std::string, std::string> kHosts = {
        {"198.18.2.100", "www.example.com"},
        {"198.18.2.101", "a-rather-long-virtual-service-name.example.com"},
        {"198.18.3.1", "rs1.example.com"},
        {"198.18.3.2", "a-very-long-real-server-name.example.com"},
        {"2001:db8::100", "v6.example.com"},
        {"2001:db8::99", std::string(70, 'h')},
    };
    auto it = kHosts.find(a.to_string());
    if (it == kHosts.end()) return std::nullopt;
    return it->second;
  }
  std::optional<std::string> service(uint16_t port, uint8_t proto) const override {
    if (proto == kProtoTcp && port == 80) return "http";
    if (proto == kProtoTcp && port == 8080) return "http-alt";
    if (proto == kProtoTcp && port == 443) return "https";
    if (proto == kProtoUdp && port == 53) return "domain";
    return std::nullopt;
  }
};

ListModel names_model() {
  ListModel m = nat_model();
  Service b = svc(kProtoTcp, "198.18.2.101", 80, "wlc");
  b.servers = {rs("198.18.3.1", 80, FwdMethod::kRoute, 1, 0, 0)};
  Service c = svc(kProtoUdp, "198.18.2.100", 53, "rr");
  c.servers = {rs("198.18.3.9", 53, FwdMethod::kMasq, 1, 0, 0)};
  Service d = svc(kProtoTcp, "2001:db8::100", 443, "wlc");
  d.servers = {rs("2001:db8::1", 443, FwdMethod::kMasq, 1, 0, 0)};
  Service f = fwm(9, net::Family::kV4, "wlc");
  f.servers = {rs("198.18.3.1", 0, FwdMethod::kRoute, 1, 0, 0)};
  m.services.push_back(b);
  m.services.push_back(c);
  m.services.push_back(d);
  m.services.push_back(f);
  return m;
}

// IPv4 service names are cut at 33 bytes and server names at 28; IPv6 ones never.
TEST(ListNames, ResolvedAndTruncated) {
  FakeResolver r;
  EXPECT_EQ(list(names_model(), ListOptions{}, &r).out,
            "IP Virtual Server version 1.2.1 (size=4096)\n"
            "Prot LocalAddress:Port Scheduler Flags\n"
            "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
            "TCP  www.example.com:http rr\n"
            "  -> rs1.example.com:http-alt     Masq    2      0          1         \n"
            "  -> a-very-long-real-server-name Masq    1      3          5         \n"
            "TCP  a-rather-long-virtual-servic wlc\n"
            "  -> rs1.example.com:http         Route   1      0          0         \n"
            "UDP  www.example.com:domain rr\n"
            "  -> 198.18.3.9:domain            Masq    1      0          0         \n"
            "TCP  [v6.example.com]:https wlc\n"
            "  -> [2001:db8::1]:https          Masq    1      0          0         \n"
            "FWM  9 wlc\n"
            "  -> rs1.example.com:0            Route   1      0          0         \n");
}

TEST(ListNames, NumericIgnoresResolver) {
  FakeResolver r;
  EXPECT_EQ(list(names_model(), numeric(), &r).out, list(names_model(), numeric()).out);
  EXPECT_EQ(save(names_model(), true, &r), save(names_model(), true));
  EXPECT_EQ(list(names_model(), numeric(), &r).out.find("example"), std::string::npos);
}

TEST(ListNames, StatsPadTruncatedName) {
  FakeResolver r;
  ListOptions o;
  o.stats = true;
  const std::string out = list(names_model(), o, &r).out;
  EXPECT_NE(
      out.find("\n" + std::string("TCP  a-rather-long-virtual-servic") + "        0        0"),
      std::string::npos);
}

TEST(ListNames, SaveUsesFullNames) {
  FakeResolver r;
  EXPECT_EQ(
      save(names_model(), false, &r),
      "-A -t www.example.com:http -s rr\n"
      "-a -t www.example.com:http -r rs1.example.com:http-alt -m -w 2\n"
      "-a -t www.example.com:http -r a-very-long-real-server-name.example.com:http -m -w 1\n"
      "-A -t a-rather-long-virtual-service-name.example.com:http -s wlc\n"
      "-a -t a-rather-long-virtual-service-name.example.com:http -r rs1.example.com:http -g -w 1\n"
      "-A -u www.example.com:domain -s rr\n"
      "-a -u www.example.com:domain -r 198.18.3.9:domain -m -w 1\n"
      "-A -t [v6.example.com]:https -s wlc\n"
      "-a -t [v6.example.com]:https -r [2001:db8::1]:https -m -w 1\n"
      "-A -f 9 -s wlc\n"
      "-a -f 9 -r rs1.example.com:0 -g -w 1\n");
}

TEST(ListNames, ConnectionsCutAt59Bytes) {
  FakeResolver r;
  ListModel m;
  m.connections.push_back(conn(kProtoTcp, 125, "ESTABLISHED", "2001:db8::99", 443, "2001:db8::100",
                               443, "2001:db8::1", 443));
  m.connections.push_back(
      conn(kProtoTcp, 1, "CLOSE", "203.0.113.5", 40000, "198.18.2.100", 80, "198.18.3.1", 8080));
  ListOptions o;
  o.connections = true;
  EXPECT_EQ(
      list(m, o, &r).out,
      "IPVS connection entries\n"
      "pro expire state       source             virtual            destination\n"
      "TCP 02:05  ESTABLISHED [hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh "
      "[v6.example.com]:https [2001:db8::1]:https\n"
      "TCP 00:01  CLOSE       203.0.113.5:40000  www.example.com:http rs1.example.com:http-alt\n");
}

TEST(ListNames, SingleServiceResolved) {
  FakeResolver r;
  ListOptions o;
  o.service = ServiceKey{0, net::Family::kV4, kProtoTcp, ip("198.18.2.100"), 80};
  EXPECT_EQ(list(names_model(), o, &r).out,
            "Prot LocalAddress:Port Scheduler Flags\n"
            "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
            "TCP  www.example.com:http rr\n"
            "  -> rs1.example.com:http-alt     Masq    2      0          1         \n"
            "  -> a-very-long-real-server-name Masq    1      3          5         \n");
}

}  // namespace
}  // namespace lvs::adm
