// IPVS's FTP helper for VS/NAT (net/netfilter/ipvs/ip_vs_ftp.c, with the sequence bookkeeping of
// ip_vs_app.c) as pure functions; the engine owns the connection entries and the frames.
//
// What IPVS does per direction of an FTP control connection (only in TCP state ESTABLISHED):
//  client -> server (ip_vs_ftp_in): never changes the payload. "PASV\r\n" (IPv4) or "EPSV"
//    anywhere in it switches the connection to passive mode; else "PORT h1,h2,h3,h4,p1,p2" (IPv4)
//    or "EPRT |af|addr|port|" at the start of the payload makes a data connection entry
//    <addr:port -> VIP:vport-1> to the control's real server, port dport-1, and turns passive off.
//  server -> client (ip_vs_ftp_out), in passive mode only: "227 ... (h1,h2,h3,h4,p1,p2)" or
//    "229 ... (|||port|)" at the start of the payload makes a data connection entry
//    <client:any -> VIP:port> to the address in the reply (the real server's unless a 227 names
//    another), port `port`; the text is then rewritten to name the VIP ("h1,...,p2" of the VIP
//    and the same port; "|||port|"), which may change the payload's length. Passive mode ends.
//  Every later packet's sequence numbers (and the peer's acknowledgements) are shifted by the
//    accumulated length change (ip_vs_seq: fix_seq, fix_ack, seq_update).
//
// Where this differs from IPVS, on purpose: numbers above 255 (227, PORT) and ports above 65535
// (229, EPRT) are refused (IPVS keeps the low 8 or 16 bits), as are empty numbers ("1,,2,...",
// IPVS reads 0). IPv6 text in EPRT/229 goes through inet_pton rather than the kernel's in6_pton.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "net/addr.h"
#include "net/parse.h"

namespace lvs::core {

// --- Sequence adjustment (IPVS struct ip_vs_seq)

// One direction's shift: data after `init_seq` (the original sequence number of the last resized
// packet) moved by `delta`, data up to it by `previous_delta`. `set` is IPVS's
// IP_VS_CONN_F_OUT_SEQ / IP_VS_CONN_F_IN_SEQ: nothing is adjusted before the first resize.
struct SeqAdjust {
  uint32_t init_seq = 0;
  int32_t delta = 0;
  int32_t previous_delta = 0;
  bool set = false;
};

// RFC 793 comparisons modulo 2^32 (the kernel's before() and after()).
inline bool seq_before(uint32_t a, uint32_t b) { return int32_t(a - b) < 0; }
inline bool seq_after(uint32_t a, uint32_t b) { return seq_before(b, a); }

// vs_fix_seq: the sequence number a packet of the adjusted stream carries on the far side.
uint32_t fix_seq(const SeqAdjust& s, uint32_t seq);
// vs_fix_ack_seq: the far side's acknowledgement of the adjusted stream, mapped back. IPVS
// compares with init_seq + delta, which is off for a shrinking rewrite (delta < previous_delta):
// an acknowledgement of exactly the data before the resized packet then comes back |diff| too
// high. Kept as IPVS has it; conntrack's seqadj compares ack - previous_delta with init_seq.
uint32_t fix_ack(const SeqAdjust& s, uint32_t ack);
// vs_seq_update: records a resize by `diff` bytes of the packet whose original sequence number is
// `seq`; only the first resize and resizes of later packets count (a retransmission of an older
// one does not move the point again). A `diff` of 0 changes nothing (IPVS does not call it then).
void seq_update(SeqAdjust& s, uint32_t seq, int32_t diff);

// Applies the adjustments to the TCP header at `tcp` (`avail` bytes readable there) in place and
// patches its checksum incrementally: the sequence number by `for_seq` (fix_seq), the
// acknowledgement by `for_ack` (fix_ack), and with `adjust_sack` the SACK blocks' edges by
// `for_ack` as well. IPVS's app_tcp_pkt_out passes (out_seq, in_seq), app_tcp_pkt_in
// (in_seq, out_seq). IPVS itself does not touch SACK blocks (its FTP rewrite relies on
// conntrack's seqadj, which does); leaving them makes the peer's SACK blocks point |delta| bytes
// off, so the engine should pass true. Options are walked as conntrack does (EOL ends, NOP is
// one byte, a partial option stops the walk).
void tcp_seq_fix(uint8_t* tcp, size_t avail, const SeqAdjust& for_seq, const SeqAdjust& for_ack,
                 bool adjust_sack);

// --- Finding the commands and replies

// What the client's last command asked for (IPVS keeps it in cp->app_data).
enum class FtpMode : uint8_t { kActive = 0, kPasv, kEpsv };

enum class FtpKind : uint8_t { kNone = 0, k227, k229, kPort, kEprt };

enum class FtpStatus : uint8_t {
  kNoMatch = 0,  // the payload does not start with the reply code or command (IPVS: 0)
  kOk,
  kTruncated,  // it does, but the payload ends before the text does (IPVS: -1)
  kMalformed,  // it does, but the text is wrong; see FtpError (IPVS: -1)
};

enum class FtpError : uint8_t {
  kNone = 0,
  kEmptyNumber,    // "1,,2,...": a field without digits
  kNumberTooBig,   // a field above 255
  kWrongCount,     // not exactly six fields
  kBadDelimiter,   // EPRT/229: delimiter outside ASCII 33..126, or missing where required
  kWrongFamily,    // EPRT/229: a family other than the control connection's (1 IPv4, 2 IPv6)
  kMissingFamily,  // EPRT: "|||": no family and address (allowed in 229 only)
  kBadAddress,     // EPRT/229: the address does not parse
  kBadPort,        // EPRT/229: port missing, 0 or above 65535
  kEpsvFamily,     // client "EPSV <n>" with another family than the connection's, or "EPSV ALL"
  kCount,
};

std::string_view ftp_error_name(FtpError e);

// A reply or command found at the start of a payload.
struct FtpMatch {
  FtpStatus status = FtpStatus::kNoMatch;
  FtpError error = FtpError::kNone;
  FtpKind kind = FtpKind::kNone;
  net::IpAddr addr;  // the address in the text; family kNone for "229 (|||port|)"
  uint16_t port = 0;
  uint32_t start = 0;  // the text a rewrite replaces: payload[start, end)
  uint32_t end = 0;

  bool ok() const { return status == FtpStatus::kOk; }
};

// Each parser looks only at the start of the payload, case-insensitively, as IPVS's
// ip_vs_ftp_get_addrport does; `af` is the control connection's family.
//   227: "227 " then anything up to "(" or the first digit, then h1,h2,h3,h4,p1,p2 ended by any
//        other character. [start, end) is the six numbers.
//   229: "229 " then anything up to "(", then <d><d><d>port<d> or <d>af<d>addr<d>port<d>, d being
//        any of ASCII 33..126. [start, end) is from the first to the last delimiter.
//   PORT: "PORT" then anything up to " " or the first digit, then the six numbers.
//   EPRT: "EPRT" then anything up to " ", then <d>af<d>addr<d>port<d>.
FtpMatch ftp_parse_227(const uint8_t* p, size_t len);
FtpMatch ftp_parse_229(const uint8_t* p, size_t len, net::Family af);
FtpMatch ftp_parse_port(const uint8_t* p, size_t len);
FtpMatch ftp_parse_eprt(const uint8_t* p, size_t len, net::Family af);

enum class FtpCommand : uint8_t { kNone = 0, kPasv, kEpsv, kPort, kEprt };

struct FtpClientResult {
  FtpCommand command = FtpCommand::kNone;
  FtpMatch match;  // PORT/EPRT as parsed (or why not); kMalformed/kEpsvFamily for a refused EPSV
};

// Client -> server (ip_vs_ftp_in's parsing). kPasv/kEpsv: set the mode. kPort/kEprt: make the
// data connection (ftp_expect) and set the mode to kActive. kNone: nothing to do.
FtpClientResult ftp_client_command(net::Family af, const uint8_t* p, size_t len);

// Server -> client (ip_vs_ftp_out's parsing): the 227 reply in kPasv, the 229 reply in kEpsv,
// nothing in kActive.
FtpMatch ftp_server_reply(FtpMode mode, net::Family af, const uint8_t* p, size_t len);

// --- The data connection

// The control connection as the helper needs it (ports in host order).
struct FtpCtl {
  net::IpAddr caddr;
  net::IpAddr vaddr;
  net::IpAddr daddr;
  uint16_t cport = 0;
  uint16_t vport = 0;
  uint16_t dport = 0;
};

// The data connection entry IPVS makes (ip_vs_conn_new with the control's real server, then
// ip_vs_control_add and ip_vs_tcp_conn_listen), unless a lookup finds one already:
//  passive (227/229): lookup real-server side <daddr:dport -> caddr:0>; new entry
//    <caddr:* -> vaddr:vport> to daddr:dport with any_cport (IP_VS_CONN_F_NO_CPORT: the client's
//    port is learnt from its first packet). vport = dport = the port in the reply.
//  active (PORT/EPRT): lookup client side <caddr:cport -> vaddr:vport>; new entry with
//    caddr:cport from the command (IPVS trusts the text, it does not compare it with the
//    control's client), vport = control vport - 1, daddr = control daddr, dport = control
//    dport - 1 (port 20 for 21).
struct FtpExpect {
  net::IpAddr caddr;
  net::IpAddr vaddr;
  net::IpAddr daddr;
  uint16_t cport = 0;
  uint16_t vport = 0;
  uint16_t dport = 0;
  bool any_cport = false;
  bool passive = false;  // which lookup: real-server side (passive) or client side (active)
};

// Requires m.ok(). For a 229 without an address the data address is the control's real server.
FtpExpect ftp_expect(const FtpCtl& ctl, const FtpMatch& m);

// --- Rewriting the passive reply

struct FtpRewrite {
  bool ok = false;
  uint32_t len = 0;   // the new payload (or, for ftp_mangle, frame) length
  int32_t delta = 0;  // new minus old length: the diff for seq_update
};

// Longest replacement text: "255,255,255,255,255,255".
inline constexpr size_t kFtpMaxReplacement = 23;
// Most a payload can grow by: 23 characters replacing the shortest 227 text, "0,0,0,0,0,0".
inline constexpr size_t kFtpMaxGrowth = kFtpMaxReplacement - 11;

// The replacement text IPVS writes for a 227 ("%u,%u,%u,%u,%u,%u" of an IPv4 address and port)
// or a 229 ("|||%u|"; the client then uses the address it is connected to, the VIP) into `out`
// (kFtpMaxReplacement bytes). Returns its length, 0 when `kind` is neither or a 227 gets a
// non-IPv4 address.
size_t ftp_reply_text(FtpKind kind, const net::IpAddr& addr, uint16_t port, char* out);

// Copies the payload to `out` with payload[m.start, m.end) replaced by the reply text for
// `addr`/`port` (normally the data connection's vaddr/vport). Not ok when `m` is not an ok 227 or
// 229 within `len`, or `out_cap` is too small; `out` must not overlap `payload`.
FtpRewrite ftp_rewrite(const uint8_t* payload, size_t len, const FtpMatch& m,
                       const net::IpAddr& addr, uint16_t port, uint8_t* out, size_t out_cap);
// ftp_parse_227 then ftp_rewrite.
FtpRewrite ftp_rewrite_227(const uint8_t* payload, size_t len, const net::IpAddr& new_addr,
                           uint16_t new_port, uint8_t* out, size_t out_cap);

// The same rewrite in place in a parsed TCP frame (`m` from the frame's payload, `cap` usable
// bytes from `frame`): moves the bytes after the text, sets the IP length (IPv4 header checksum
// patched), recomputes the TCP checksum over the whole segment (as IPVS does after a helper
// changed the payload) and updates `p.l3_len`. Ethernet padding after the IP packet is dropped.
// Returns the new frame length in `len`; not ok (frame untouched) when the frame has no room or
// the IP length would pass 65535. Sequence numbers are left to seq_update/tcp_seq_fix.
FtpRewrite ftp_mangle(uint8_t* frame, size_t cap, net::ParsedPacket& p, const FtpMatch& m,
                      const net::IpAddr& addr, uint16_t port);

}  // namespace lvs::core
