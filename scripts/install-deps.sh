#!/usr/bin/env bash
# Installs the Debian packages zpr and its tests need. Idempotent: does nothing (and does not
# touch the network) when everything is already installed. Needs root for apt-get.
set -euo pipefail

# Keep this list in step with the README's "What the machine needs".
packages=(
  git            # swift package manager fetches dependencies with git
  libcurl4       # Foundation's networking on Linux
  libxml2        # FoundationXML
  libsqlite3-dev # the embedded SQLite store (GRDB builds against it)
  postgresql     # the PostgreSQL store's tests run against a real server (scripts/test-postgres.sh)
  nftables       # zpr agent enforces policies with nft; its tests run it in network namespaces
  conntrack      # zpr agent cuts established connections a policy change revokes
  iproute2       # ip netns: the enforcement tests' (and the lab's) network namespaces
  iputils-ping   # the enforcement tests ping across namespaces
  python3        # the enforcement tests' TCP listeners and probes inside namespaces
  openssl        # the HTTPS test makes a certificate
  curl           # the HTTPS test speaks to the server
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing ${missing[*]}; run as root (or: sudo $0)" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
