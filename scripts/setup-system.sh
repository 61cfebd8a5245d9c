#!/usr/bin/env bash
# Installs the Debian packages Palisade's dataplane, lab and tests use. Idempotent; needs root.
set -euo pipefail
need=()
command -v nft >/dev/null 2>&1 || need+=(nftables)
command -v iptables-legacy >/dev/null 2>&1 || need+=(iptables)
command -v ipset >/dev/null 2>&1 || need+=(ipset)
command -v conntrack >/dev/null 2>&1 || need+=(conntrack)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
# The agent's --log-drops reads NFLOG with tcpdump (libpcap's nflog device).
command -v tcpdump >/dev/null 2>&1 || need+=(tcpdump)
command -v ss >/dev/null 2>&1 || need+=(iproute2)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v modprobe >/dev/null 2>&1 || need+=(kmod)
# Headless Chromium for the web page's browser tests (test/web), driven by playwright-core.
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# A CJK font, so the page shows the seed posts' Chinese and Japanese comments (and their screenshots) as text.
[ -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || need+=(fonts-wqy-zenhei)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup-system: missing ${need[*]}; run as root (apt-get install)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# Kernel modules the lab's bridge mode and the dataplane tests use (present on the dev and CI machines).
modprobe br_netfilter 2>/dev/null || true
modprobe nf_conntrack 2>/dev/null || true
echo "setup-system: nft $(nft --version | awk '{print $2}'), $(iptables-legacy --version), ipset $(ipset --version | awk '{print $2}'), $(chromium --version 2>/dev/null | head -1)"
