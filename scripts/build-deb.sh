#!/usr/bin/env bash
# Builds the Debian package with dpkg-deb: the npm package (dist/, bin/, docs, packaging) under
# /usr/lib/tart with its runtime node_modules bundled, /usr/bin/tart, the systemd unit (run as the
# `tart` user), /etc/tart/config.toml (0600 conffile) and maintainer scripts from packaging/debian/.
# Usage: scripts/build-deb.sh [--output DIR]   (default: ./out). Prints the .deb path.
set -euo pipefail
cd "$(dirname "$0")/.."

output=out
while (($# > 0)); do
  case "$1" in
    --output) output="$2"; shift 2 ;;
    *) echo "usage: $0 [--output DIR]" >&2; exit 2 ;;
  esac
done
mkdir -p "$output"
output=$(cd "$output" && pwd)

version=$(node -p 'require("./package.json").version')
revision=${TART_REVISION:-$(git rev-parse --short=8 HEAD 2>/dev/null || echo unknown)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage="$work/stage"

# 1. The npm tarball (its prepack builds dist/ and records the revision): exactly what npm users get.
TART_REVISION="$revision" npm pack --silent --pack-destination "$work" >/dev/null
mkdir -p "$stage/usr/lib/tart"
tar -xzf "$work"/tart-gitlab-runner-"$version".tgz -C "$stage/usr/lib/tart" --strip-components=1

# 2. Runtime dependencies only, from the lock file, without install scripts (ssh2's optional
#    native helper is not needed).
cp package-lock.json "$stage/usr/lib/tart/"
(cd "$stage/usr/lib/tart" && npm ci --omit=dev --ignore-scripts --prefer-offline --no-audit --no-fund --loglevel=error >/dev/null)
rm -f "$stage/usr/lib/tart/package-lock.json" "$stage/usr/lib/tart/node_modules/.package-lock.json"

# 3. Command, unit, config, docs.
mkdir -p "$stage/usr/bin" "$stage/lib/systemd/system" "$stage/etc/tart" "$stage/usr/share/doc/tart"
ln -s ../lib/tart/bin/tart.js "$stage/usr/bin/tart"
node --input-type=module -e '
  const [root, out] = process.argv.slice(1);
  const { renderServiceUnit } = await import(`${root}/dist/service/unit.js`);
  const text = await renderServiceUnit({ tartPath: "/usr/bin/tart", configPath: "/etc/tart/config.toml",
    user: "tart", packageRoot: root });
  (await import("node:fs")).writeFileSync(out, text.replaceAll(`file://${root}/docs/`, "file:///usr/share/doc/tart/"));
' "$stage/usr/lib/tart" "$stage/lib/systemd/system/tart.service"
share="$stage/usr/lib/tart/dist/share"
install -D -m 0644 "$share/tart.bash" "$stage/usr/share/bash-completion/completions/tart"
install -D -m 0644 "$share/_tart" "$stage/usr/share/zsh/vendor-completions/_tart"
install -D -m 0644 "$share/tart.fish" "$stage/usr/share/fish/vendor_completions.d/tart.fish"
mkdir -p "$stage/usr/share/man/man1"
gzip -9n <"$share/tart.1" >"$stage/usr/share/man/man1/tart.1.gz"
cp packaging/debian/config.toml "$stage/etc/tart/config.toml"
cp packaging/debian/copyright "$stage/usr/share/doc/tart/copyright"
cp docs/configuration.md "$stage/usr/share/doc/tart/configuration.md"

# 4. Modes: directories 0755, files 0644, the command 0755, /etc/tart 0700 and config.toml 0600.
find "$stage" -type d -exec chmod 0755 {} +
find "$stage" -type f -exec chmod 0644 {} +
chmod 0755 "$stage/usr/lib/tart/bin/tart.js"
find "$stage/usr/lib/tart/node_modules" -path '*/.bin/*' -type f -exec chmod 0755 {} + 2>/dev/null || true
chmod 0700 "$stage/etc/tart"
chmod 0600 "$stage/etc/tart/config.toml"

# 5. Control data.
mkdir -p "$stage/DEBIAN"
install -m 0755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm "$stage/DEBIAN/"
echo /etc/tart/config.toml >"$stage/DEBIAN/conffiles"
installed_size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat >"$stage/DEBIAN/control" <<CONTROL
Package: tart
Version: ${version}-1
Architecture: amd64
Maintainer: Tart maintainers <tart@users.noreply.example>
Installed-Size: ${installed_size}
Depends: nodejs (>= 20.12), adduser, passwd, git, ca-certificates, qemu-system-x86, qemu-utils, e2fsprogs, iproute2, nftables, zstd, tar, gzip
Recommends: mmdebstrap, busybox-static, cpio, xz-utils, apt
Section: devel
Priority: optional
Homepage: https://www.npmjs.com/package/tart-gitlab-runner
Description: GitLab CI runner that runs every job in a fresh microVM
 Tart speaks GitLab's runner API and runs each job in its own throw-away
 QEMU (or Firecracker) microVM with its own kernel. It reads gitlab-runner's
 config.toml keys and has its CLI verbs (register, run, install, start ...).
 .
 Needs Node.js 20.12 or newer: Debian 12 ships 18, so install the nodejs
 package from NodeSource (deb.nodesource.com, node_20.x) or use Debian 13.
 Build revision: ${revision}.
CONTROL

deb="$output/tart_${version}-1_amd64.deb"
dpkg-deb --root-owner-group -Zgzip --build "$stage" "$deb" >/dev/null
echo "$deb"
