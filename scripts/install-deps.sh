#!/usr/bin/env bash
# Installs what Tart and its tests need on Debian 12: apt packages and npm dependencies.
# Idempotent; run as root (or with sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  git ca-certificates curl openssh-client
  qemu-system-x86 qemu-utils
  mmdebstrap linux-image-cloud-amd64 e2fsprogs cpio busybox-static zstd xz-utils
  nftables iproute2
  zip unzip tar gzip
  # container images for `image:` (src/oci) and the registry and htpasswd its tests start
  skopeo umoci docker-registry apache2-utils
  # the completion tests run the generated scripts in real zsh and fish; bench/exec's gitlab-ci-local needs rsync
  zsh fish rsync
)

missing=()
for package in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if ((${#missing[@]} > 0)); then
  echo "tart: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "tart: installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
fi
