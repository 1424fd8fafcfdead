#!/usr/bin/env bash
# Installs the Debian 12 packages lvs needs, only those missing. Idempotent; run as root.
set -euo pipefail

# Build: compilers, CMake + Ninja, BPF toolchain and libraries.
build_pkgs=(g++ cmake ninja-build pkg-config make clang llvm linux-libc-dev
  libbpf-dev libxdp-dev libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev libclang-rt-14-dev libmnl-dev
  libnftables-dev libboost1.81-dev libssl-dev)
# Runtime of the tests, demo and benchmarks: real clients and servers, namespace plumbing.
run_pkgs=(iproute2 nftables ethtool nginx-light curl wrk socat procps psmisc jq python3 util-linux
          dnsmasq-base bind9-dnsutils iputils-ping vsftpd python3-prometheus-client opensmtpd openssl)

want=("${build_pkgs[@]}")
[ "${1:-}" = "--build-only" ] || want+=("${run_pkgs[@]}")

missing=()
for p in "${want[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
# promtool (`promtool check metrics` lints lvsd's /metrics in the tests) comes from Debian's
# prometheus package, whose installation would also start a Prometheus server: the package is
# fetched with apt and only promtool is taken out of it, into /var/cache/lvs-tools.
PROMTOOL_DIR=/var/cache/lvs-tools
fetch_promtool() {
  [ "${1:-}" = "--build-only" ] && return 0
  [ -x "$PROMTOOL_DIR/usr/bin/promtool" ] && return 0
  [ "$(id -u)" = 0 ] || { echo "install-deps: promtool missing (run as root to fetch it)" >&2; return 0; }
  local tmp
  tmp=$(mktemp -d)
  chmod 755 "$tmp"  # apt's _apt user downloads into it
  if (cd "$tmp" && apt-get download -q prometheus >/dev/null 2>&1); then
    mkdir -p "$PROMTOOL_DIR"
    dpkg-deb --fsys-tarfile "$tmp"/prometheus_*.deb | tar -x -C "$PROMTOOL_DIR" ./usr/bin/promtool
    echo "install-deps: promtool from the prometheus package in $PROMTOOL_DIR/usr/bin"
  else
    echo "install-deps: could not download the prometheus package; metrics lint skipped" >&2
  fi
  rm -rf "$tmp"
}

if [ ${#missing[@]} -eq 0 ]; then
  fetch_promtool "${1:-}"
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  echo "install-deps: missing packages: ${missing[*]} (run as root to install them)" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
# The nginx and vsftpd packages may start a system instance; lvs tests run their own in
# namespaces.
if [ -x /usr/sbin/nginx ] && [ -f /run/nginx.pid ] && [[ " ${missing[*]} " == *" nginx-light "* ]]; then
  /usr/sbin/nginx -s stop 2>/dev/null || true
fi
if [ -x /etc/init.d/vsftpd ] && [[ " ${missing[*]} " == *" vsftpd "* ]]; then
  /etc/init.d/vsftpd stop >/dev/null 2>&1 || true
fi
# Likewise opensmtpd (SMTP_CHECK's tests run `smtpd -d` in their namespaces).
if [[ " ${missing[*]} " == *" opensmtpd "* ]] && [ -f /run/smtpd.pid ]; then
  kill "$(cat /run/smtpd.pid)" 2>/dev/null || true
fi
fetch_promtool "${1:-}"
