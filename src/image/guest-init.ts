// The guest's PID 1 (/sbin/tart-init, bash) and the sshd configuration it runs with: reads the
// seed disk, applies identity, keys and network, starts sshd, prints the ready marker, reaps
// zombies and ends the VM when sshd dies or on SIGTERM. No systemd.
import { BOOT_COMMAND_CONSOLE, EXTRA_SEED_FILES, GUEST_DEVICES, GUEST_READY_MARKER, GUEST_SSH_PORT, GUEST_VSOCK_SSH_PORT, HELPER_ROOT_BUSYBOX, SEED_FILES } from '../vmm/guest-contract.js';

export { EXTRA_SEED_FILES } from '../vmm/guest-contract.js';

export const SEED_MOUNT = '/run/tart-seed';

/** sshd_config: key-only root login, no passwords/PAM/DNS, host key from the seed. */
export function renderSshdConfig(): string {
  return `# Written by tart image build: key-only root login, per-VM host key from the seed disk.
Port ${GUEST_SSH_PORT}
HostKey /etc/ssh/${SEED_FILES.hostKey}
PermitRootLogin prohibit-password
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitEmptyPasswords no
UsePAM no
UseDNS no
PrintMotd no
PrintLastLog no
MaxSessions 64
MaxStartups 64:30:128
AcceptEnv LANG LC_*
Subsystem sftp internal-sftp
`;
}

/**
 * The small programs of the init's own steps, run as applets of the root's static busybox: one
 * static exec (~10 ms under TCG) instead of a dynamically linked program (~40 ms each), and a boot
 * command finds busybox's code warm. install, perl, sshd and socat stay the root's own.
 */
export const INIT_BUSYBOX_APPLETS = ['mount', 'mkdir', 'ln', 'tar', 'head', 'tr', 'date', 'ip', 'grep', 'sleep', 'cat', 'sync'] as const;

/** Renders /sbin/tart-init. */
export function renderGuestInit(): string {
  const seed = SEED_MOUNT;
  const f = SEED_FILES;
  return `#!/bin/bash
# tart guest init (PID 1): seed → identity, keys, network; then sshd until it exits or SIGTERM.
set -u
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
umask 022

log() { echo "tart-guest: $*"; }

# The root's static busybox for the small steps below: ~10 ms an exec under TCG, not ~40 ms.
${INIT_BUSYBOX_APPLETS.map((applet) => `${applet}() { ${HELPER_ROOT_BUSYBOX} ${applet} "$@"; }`).join('\n')}

# sysrq 'o' powers off where the VMM supports it; 'b' (reboot) ends QEMU (-no-reboot, reboot=t)
# and Firecracker (reboot=k) otherwise.
power_off() {
  log "powering off ($1)"
  sync
  echo o > /proc/sysrq-trigger
  sleep 1
  echo b > /proc/sysrq-trigger
  sleep 5
}

fail() {
  log "FAILED: $*"
  power_off "init failure"
}

mount_filesystems() {
  mount -t proc -o nosuid,nodev,noexec proc /proc
  mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
  # The unified cgroup hierarchy, as systemd mounts it: dockerd and runc in the job need it.
  mount -t cgroup2 -o nosuid,nodev,noexec,nsdelegate cgroup2 /sys/fs/cgroup || log "no cgroup2"
  mkdir -p /dev/pts /dev/shm
  mount -t devpts -o gid=5,mode=620,ptmxmode=000 devpts /dev/pts
  mount -t tmpfs -o nosuid,nodev tmpfs /dev/shm
  mount -t tmpfs -o nosuid,nodev,mode=0755 tmpfs /run
  mkdir -p /run/lock /run/sshd
  [ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
}

# Seed tar → a 0700 tmpfs that is never on disk.
read_seed() {
  mkdir -p ${seed}
  mount -t tmpfs -o mode=0700,size=4m,nosuid,nodev,noexec tmpfs ${seed} || fail "seed tmpfs"
  tar -x --no-same-owner -f ${GUEST_DEVICES.seed} -C ${seed} || fail "cannot read seed tar from ${GUEST_DEVICES.seed}"
}

# Host-provided seed bytes, credited through RNDADDENTROPY so the CRNG is ready at once and
# sshd does not block in getrandom() (seconds under TCG without virtio-rng). perl-base is
# essential in Debian; a plain write to /dev/urandom mixes without crediting.
credit_entropy() {
  head -c 512 "$1" | perl -e 'open(my $r, ">", "/dev/random") or exit 1; local $/; my $d = <STDIN>;
    ioctl($r, 0x40085203, pack("ii", 8 * length($d), length($d)) . $d) or exit 1' && return 0
  cat "$1" > /dev/urandom
}

apply_identity() {
  local name=tart-guest
  [ -s ${seed}/${f.hostname} ] && name=$(head -n1 ${seed}/${f.hostname} | tr -cd 'A-Za-z0-9.-')
  echo "$name" > /proc/sys/kernel/hostname
  echo "$name" > /etc/hostname
  printf '127.0.0.1\\tlocalhost\\n127.0.1.1\\t%s\\n::1\\tlocalhost ip6-localhost ip6-loopback\\n' "$name" > /etc/hosts
  # entropy_avail reads 256 once the CRNG is seeded (e.g. by virtio-rng); perl costs ~1 s under TCG.
  local entropy
  read -r entropy < /proc/sys/kernel/random/entropy_avail
  if [ -s ${seed}/${EXTRA_SEED_FILES.randomSeed} ] && [ "$entropy" -lt 256 ]; then
    credit_entropy ${seed}/${EXTRA_SEED_FILES.randomSeed}
  fi
  if [ -s ${seed}/${EXTRA_SEED_FILES.time} ]; then date -u -s "@$(head -c 20 ${seed}/${EXTRA_SEED_FILES.time} | tr -cd 0-9)" > /dev/null; fi
}

install_keys() {
  [ -s ${seed}/${f.authorizedKeys} ] || fail "seed has no ${f.authorizedKeys}"
  [ -s ${seed}/${f.hostKey} ] || fail "seed has no ${f.hostKey}"
  install -d -m 0700 /root/.ssh
  install -m 0600 ${seed}/${f.authorizedKeys} /root/.ssh/authorized_keys
  install -m 0600 ${seed}/${f.hostKey} /etc/ssh/${f.hostKey}
  if [ -s ${seed}/${f.hostKeyPub} ]; then
    install -m 0644 ${seed}/${f.hostKeyPub} /etc/ssh/${f.hostKeyPub}
  fi
}

# network.env: KEY=VALUE lines (ADDRESS, GATEWAY, DNS, MTU), parsed rather than sourced.
configure_network() {
  ip link set lo up
  [ -f ${seed}/${f.network} ] || { log "no ${f.network}: eth0 left down"; return 0; }
  local key value ADDRESS= GATEWAY= DNS= MTU=
  while IFS='=' read -r key value; do
    value=\${value%\\"}; value=\${value#\\"}; value=\${value%\\'}; value=\${value#\\'}
    case "$key" in
      ADDRESS) ADDRESS=$value ;;
      GATEWAY) GATEWAY=$value ;;
      DNS) DNS=$value ;;
      MTU) MTU=$value ;;
    esac
  done < ${seed}/${f.network}
  [ -n "$MTU" ] && ip link set dev eth0 mtu "$MTU"
  ip link set dev eth0 up || fail "no eth0"
  [ -n "$ADDRESS" ] && { ip addr add "$ADDRESS" dev eth0 || fail "ip addr $ADDRESS"; }
  [ -n "$GATEWAY" ] && { ip route add default via "$GATEWAY" dev eth0 || fail "ip route $GATEWAY"; }
  : > /etc/resolv.conf
  for server in $DNS; do echo "nameserver $server" >> /etc/resolv.conf; done
}

# Ready once sshd's socket is listening (state 0A in /proc/net/tcp), not merely forked.
start_sshd() {
  /usr/sbin/sshd -D -e &
  sshd_pid=$!
  local port_hex tries=0
  printf -v port_hex ':%04X ' ${GUEST_SSH_PORT}
  until grep -q "$port_hex.* 0A " /proc/net/tcp /proc/net/tcp6 2>/dev/null; do
    kill -0 "$sshd_pid" 2>/dev/null || fail "sshd exited at start"
    tries=$((tries + 1))
    [ "$tries" -gt 400 ] && fail "sshd not listening after 20 s"
    sleep 0.05
  done
  local uptime
  read -r uptime _ < /proc/uptime
  log "sshd listening at \${uptime} s"
}

# The seed's boot command (NUL-ended argv: the job image's root), run beside sshd's start; its
# output and status go to the console before the ready marker, where the host reads them. One
# fork of this shell and the command's own exec: bash keeps the status for wait, and the output
# file stays in /run (removing it would cost an exec on the way to the ready marker).
boot_command_pid=
start_boot_command() {
  [ -s ${seed}/${EXTRA_SEED_FILES.bootCommand} ] || return 0
  local -a argv
  mapfile -d '' -t argv < ${seed}/${EXTRA_SEED_FILES.bootCommand}
  local uptime
  read -r uptime _ < /proc/uptime
  log "boot command started at \${uptime} s"
  "\${argv[@]}" < /dev/null > /run/tart-boot-command.out 2>&1 &
  boot_command_pid=$!
}

report_boot_command() {
  [ -n "$boot_command_pid" ] || return 0
  local line status uptime
  wait "$boot_command_pid"
  status=$?
  while IFS= read -r line || [ -n "$line" ]; do echo "${BOOT_COMMAND_CONSOLE.output}$line"; done < /run/tart-boot-command.out
  read -r uptime _ < /proc/uptime
  log "boot command done at \${uptime} s"
  echo "${BOOT_COMMAND_CONSOLE.exit}$status"
}

# Firecracker reaches sshd over vsock (hybrid vsock, port ${GUEST_VSOCK_SSH_PORT}): bridge it when the device exists.
start_vsock_bridge() {
  [ -e /dev/vsock ] || return 0
  command -v socat > /dev/null || { log "no socat: vsock bridge not started"; return 0; }
  socat VSOCK-LISTEN:${GUEST_VSOCK_SSH_PORT},fork,reuseaddr TCP:127.0.0.1:${GUEST_SSH_PORT} &
  log "vsock port ${GUEST_VSOCK_SSH_PORT} bridged to sshd"
}

mount_filesystems
read -r uptime _ < /proc/uptime
log "init started at \${uptime} s"
read_seed
apply_identity
install_keys
configure_network
start_boot_command
start_vsock_bridge
start_sshd
report_boot_command
echo "${GUEST_READY_MARKER}"

trap 'log "SIGTERM"; kill -TERM "$sshd_pid" 2>/dev/null' TERM INT
# bash reaps every child that ends (adopted orphans included) while it waits here.
while kill -0 "$sshd_pid" 2>/dev/null; do
  wait "$sshd_pid"
done
power_off "sshd ended"
`;
}
