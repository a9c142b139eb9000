// Test images built from Debian packages, never downloaded, cached by their inputs under
// /var/cache/tart-test-images (TART_TEST_IMAGE_CACHE) so CI builds each once:
//   busybox: busybox-static only (no bash, no git), two layers with a whiteout and an opaque dir;
//   busybox-entrypoint, busybox-user: the same with an ENTRYPOINT script, or USER builder (uid 1000);
//   python:  Debian minbase + python3-minimal (mmdebstrap);
//   busybox-web: busybox plus an entrypoint that sleeps 3 s, writes $WEB_GREETING into its page and
//            runs busybox httpd on port 80 (EXPOSE 80/tcp, WORKDIR /srv/web): a service slow to listen;
//   redis:   Debian minbase + redis-server (EXPOSE 6379/tcp), as a service;
//   node:    Debian minbase + the host's Node 20 and npm (/usr/bin/node, /usr/lib/node_modules/npm),
//            and the host's CA bundle (a site's TLS proxy CA, as an organisation bakes into its images);
//   docker:  Debian minbase + docker.io (dockerd, containerd, runc, the CLI), busybox-static and openssl,
//            laid out as docker:dind is: CMD dockerd-entrypoint.sh (TLS on 2376 with certs under
//            DOCKER_TLS_CERTDIR=/certs, or plain TCP 2375 when it is empty), EXPOSE 2375/tcp 2376/tcp,
//            VOLUME /var/lib/docker; the same image is the job's client image;
// Each is an OCI index with an amd64 and an arm64 entry (the arm64 one is a marker image: same
// busybox files plus /etc/tart-test-arch=arm64, enough to prove the amd64 entry is chosen).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { renderDeb822, readHostAptSources, sourcesForSuite } from '../../../src/image/apt-sources.js';
import { publishDir, writeOciLayout, type PlatformImage } from './oci-layout.js';

export type TestImageName = 'busybox' | 'busybox-entrypoint' | 'busybox-user' | 'busybox-web' | 'python' | 'redis' | 'node' | 'docker';

const RECIPE_VERSION = '1';
export const TEST_IMAGE_ENV = 'TART_TEST_GREETING=hello-from-image';

function cacheRoot(): string {
  return process.env.TART_TEST_IMAGE_CACHE ?? '/var/cache/tart-test-images';
}

/** The OCI layout dir of a test image (tag "test"), built if its inputs changed. */
export async function testImageLayout(name: TestImageName): Promise<string> {
  const key = createHash('sha256').update(JSON.stringify([RECIPE_VERSION, name, inputsOf(name)])).digest('hex').slice(0, 16);
  const target = join(cacheRoot(), `${name}-${key}`);
  if (existsSync(join(target, 'index.json'))) return target;
  await mkdir(cacheRoot(), { recursive: true });
  const work = await mkdtemp(join(cacheRoot(), `.build-${name}-`));
  try {
    const layout = join(work, 'layout');
    await writeOciLayout(layout, 'test', await platformsOf(name, work), work);
    await publishDir(layout, target);
    return target;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Pushes a test image to `registry` as `<repository>:<tag>` (an index with both platforms). */
export function pushTestImage(layout: string, registry: string, repository: string, tag: string, authFile?: string): void {
  const auth = authFile ? ['--dest-authfile', authFile] : ['--dest-no-creds'];
  execFileSync('skopeo', ['--insecure-policy', 'copy', '--quiet', '--all', '--dest-tls-verify=false', ...auth, `oci:${layout}:test`, `docker://${registry}/${repository}:${tag}`], {
    env: { PATH: process.env.PATH, HOME: '/nonexistent' },
  });
}

// Slow to listen on purpose: a job that reaches it at its first command proves the readiness wait.
const WEB_WORKDIR = '/srv/web';
const WEB_ENTRYPOINT = [
  '#!/bin/sh',
  'echo "web: starting in $(pwd), listening in 3 s"',
  'sleep 3',
  'mkdir -p /www',
  'echo "web says: $WEB_GREETING" >/www/index.html',
  'echo "web: listening"',
  'exec "$@"',
  '',
].join('\n');

// docker:dind's entrypoint, as docker-library's dockerd-entrypoint.sh behaves: with DOCKER_TLS_CERTDIR
// set (the image's default, /certs) it makes a CA, a server cert for `docker`, localhost and
// 127.0.0.1 and a client cert (ca/, server/, client/ under it; client/ is what a shared
// `/certs/client` volume hands the job) and listens with TLS on 2376; with it empty, plain TCP on
// 2375. The unix socket always; a service's `command` is passed on. EC keys: RSA is slow under TCG.
const DOCKER_PACKAGES = ['docker.io', 'busybox-static', 'openssl'];
const DOCKERD_ENTRYPOINT = [
  '#!/bin/sh',
  'set -e',
  'echo "dockerd-entrypoint: starting dockerd $(dockerd --version)"',
  'if [ -z "${DOCKER_TLS_CERTDIR:-}" ]; then exec dockerd --host=unix:///var/run/docker.sock --host=tcp://0.0.0.0:2375 --tls=false "$@"; fi',
  'd=$DOCKER_TLS_CERTDIR; mkdir -p "$d/ca" "$d/server" "$d/client"; cd "$d"',
  'key() { openssl ecparam -name prime256v1 -genkey -noout -out "$1/key.pem"; }',
  'key ca; openssl req -new -x509 -days 7 -key ca/key.pem -subj "/CN=docker:dind CA" -out ca/cert.pem',
  'printf "subjectAltName=DNS:docker,DNS:localhost,IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n" > server/ext.cnf',
  'key server; openssl req -new -key server/key.pem -subj "/CN=docker:dind server" -out server/csr.pem',
  'openssl x509 -req -days 7 -in server/csr.pem -CA ca/cert.pem -CAkey ca/key.pem -CAcreateserial -extfile server/ext.cnf -out server/cert.pem',
  'printf "extendedKeyUsage=clientAuth\\n" > client/ext.cnf',
  'key client; openssl req -new -key client/key.pem -subj "/CN=docker:dind client" -out client/csr.pem',
  'openssl x509 -req -days 7 -in client/csr.pem -CA ca/cert.pem -CAkey ca/key.pem -CAcreateserial -extfile client/ext.cnf -out client/cert.pem',
  'cp ca/cert.pem server/ca.pem; cp ca/cert.pem client/ca.pem; chmod 0644 client/key.pem',
  'echo "dockerd-entrypoint: certificates in $d"',
  'exec dockerd --host=unix:///var/run/docker.sock --host=tcp://0.0.0.0:2376 --tlsverify --tlscacert "$d/server/ca.pem" --tlscert "$d/server/cert.pem" --tlskey "$d/server/key.pem" "$@"',
  '',
].join('\n');

// The Node running this process, and the npm installed beside it (<prefix>/lib/node_modules/npm),
// so the image's `node --version` is this process's.
const HOST_NODE = process.execPath;
const HOST_NPM = join(dirname(dirname(HOST_NODE)), 'lib', 'node_modules', 'npm');
const HOST_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

function digestOf(path: string): string {
  return existsSync(path) ? createHash('sha256').update(readFileSync(path)).digest('hex') : 'absent';
}

function inputsOf(name: TestImageName): unknown {
  const busybox = digestOf('/bin/busybox');
  const mmdebstrap = () => execFileSync('dpkg-query', ['-W', 'mmdebstrap'], { encoding: 'utf8' });
  if (name === 'python') return [busybox, 'bookworm', 'python3-minimal', mmdebstrap()];
  if (name === 'redis') return [busybox, 'bookworm', 'redis-server', mmdebstrap()];
  if (name === 'node') return [busybox, 'bookworm', mmdebstrap(), digestOf(HOST_NODE), (JSON.parse(readFileSync(join(HOST_NPM, 'package.json'), 'utf8')) as { version: string }).version, digestOf(HOST_CA_BUNDLE)];
  if (name === 'docker') return [busybox, 'bookworm', DOCKER_PACKAGES, DOCKERD_ENTRYPOINT, mmdebstrap()];
  if (name === 'busybox-web') return [busybox, WEB_ENTRYPOINT, WEB_WORKDIR];
  return [busybox];
}

async function platformsOf(name: TestImageName, work: string): Promise<PlatformImage[]> {
  const base = await busyboxLayers(work);
  const env = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', TEST_IMAGE_ENV];
  const marker = async (arch: string) => {
    const dir = join(work, `marker-${arch}`);
    await mkdir(join(dir, 'etc'), { recursive: true });
    await writeFile(join(dir, 'etc', 'tart-test-arch'), `${arch}\n`);
    return { dir };
  };
  const arm64: PlatformImage = { architecture: 'arm64', layers: [...base, await marker('arm64')], config: { Env: env, Cmd: ['sh'] } };
  if (name === 'python') {
    const tar = join(work, 'python-minbase.tar');
    await debianMinbase(tar, ['python3-minimal']);
    return [{ architecture: 'amd64', layers: [{ tar }, await marker('amd64')], config: { Env: env, Cmd: ['python3'] } }, arm64];
  }
  if (name === 'redis') {
    const tar = join(work, 'redis-minbase.tar');
    await debianMinbase(tar, ['redis-server']);
    const config = { Env: env, Cmd: ['redis-server', '--protected-mode', 'no', '--save', ''], ExposedPorts: { '6379/tcp': {} } };
    return [{ architecture: 'amd64', layers: [{ tar }, await marker('amd64')], config }, arm64];
  }
  if (name === 'node') {
    const tar = join(work, 'node-minbase.tar');
    await debianMinbase(tar, []);
    const config = { Env: [...env, `NODE_EXTRA_CA_CERTS=${HOST_CA_BUNDLE}`, 'NODE_VERSION=' + process.versions.node], Cmd: ['node'] };
    return [{ architecture: 'amd64', layers: [{ tar }, { dir: await nodeLayer(work) }, await marker('amd64')], config }, arm64];
  }
  if (name === 'docker') {
    const tar = join(work, 'docker-minbase.tar');
    await debianMinbase(tar, DOCKER_PACKAGES);
    const dir = join(work, 'dind');
    await mkdir(join(dir, 'usr', 'local', 'bin'), { recursive: true });
    await writeFile(join(dir, 'usr', 'local', 'bin', 'dockerd-entrypoint.sh'), DOCKERD_ENTRYPOINT, { mode: 0o755 });
    const config = { Env: [...env, 'DOCKER_TLS_CERTDIR=/certs'], Cmd: ['dockerd-entrypoint.sh'], ExposedPorts: { '2375/tcp': {}, '2376/tcp': {} }, Volumes: { '/var/lib/docker': {} } };
    return [{ architecture: 'amd64', layers: [{ tar }, { dir }, await marker('amd64')], config }, arm64];
  }
  const amd64: PlatformImage = { architecture: 'amd64', layers: [...base, await marker('amd64')], config: { Env: env, Cmd: ['sh'] } };
  if (name === 'busybox-entrypoint') {
    const dir = join(work, 'entrypoint');
    await mkdir(join(dir, 'usr', 'local', 'bin'), { recursive: true });
    await writeFile(join(dir, 'usr', 'local', 'bin', 'entry.sh'), '#!/bin/sh\necho "TART TEST ENTRYPOINT RAN"\nexec "$@"\n', { mode: 0o755 });
    amd64.layers.push({ dir });
    amd64.config.Entrypoint = ['/usr/local/bin/entry.sh'];
  }
  if (name === 'busybox-user') {
    // USER builder: uid 1000, in group staff (50) besides its own.
    const dir = join(work, 'user');
    await mkdir(join(dir, 'etc'), { recursive: true });
    await mkdir(join(dir, 'home', 'builder'), { recursive: true });
    await writeFile(join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nbuilder:x:1000:1000::/home/builder:/bin/sh\n');
    await writeFile(join(dir, 'etc', 'group'), 'root:x:0:\nstaff:x:50:builder\nbuilder:x:1000:\n');
    amd64.layers.push({ dir });
    amd64.config.User = 'builder';
  }
  if (name === 'busybox-web') {
    const dir = join(work, 'web');
    await mkdir(join(dir, 'usr', 'local', 'bin'), { recursive: true });
    await writeFile(join(dir, 'usr', 'local', 'bin', 'web.sh'), WEB_ENTRYPOINT, { mode: 0o755 });
    amd64.layers.push({ dir });
    amd64.config = { Env: env, Entrypoint: ['/usr/local/bin/web.sh'], Cmd: ['httpd', '-f', '-v', '-p', '80', '-h', '/www'], ExposedPorts: { '80/tcp': {} }, WorkingDir: WEB_WORKDIR };
  }
  return [amd64, arm64];
}

// Layer 1: busybox and its applets, /etc/passwd, a file and a dir for layer 2 to hide.
// Layer 2: a whiteout for /etc/hidden-by-layer2 and an opaque /opt/opaque.
async function busyboxLayers(work: string): Promise<{ dir: string }[]> {
  const one = join(work, 'busybox-1');
  if (!existsSync(one)) {
    for (const sub of ['bin', 'etc', 'tmp', 'root', 'opt/opaque', 'usr/bin', 'usr/local/bin']) await mkdir(join(one, sub), { recursive: true });
    await chmod(join(one, 'tmp'), 0o1777);
    await writeFile(join(one, 'bin', 'busybox'), await readFile('/bin/busybox'), { mode: 0o755 });
    const applets = execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n').filter((applet) => applet && applet !== 'busybox');
    for (const applet of applets) await symlink('busybox', join(one, 'bin', applet));
    await writeFile(join(one, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
    await writeFile(join(one, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
    await writeFile(join(one, 'etc', 'hidden-by-layer2'), 'lower\n');
    await writeFile(join(one, 'opt', 'opaque', 'from-layer1'), 'lower\n');
  }
  const two = join(work, 'busybox-2');
  if (!existsSync(two)) {
    await mkdir(join(two, 'etc'), { recursive: true });
    await mkdir(join(two, 'opt', 'opaque'), { recursive: true });
    await writeFile(join(two, 'etc', '.wh.hidden-by-layer2'), '');
    await writeFile(join(two, 'opt', 'opaque', '.wh..wh..opq'), '');
    await writeFile(join(two, 'opt', 'opaque', 'from-layer2'), 'upper\n');
    await writeFile(join(two, 'etc', 'tart-test-image'), 'busybox\n');
  }
  return [{ dir: one }, { dir: two }];
}

// The host's node and npm in /usr/local, as the official node images lay them out, and its CA bundle.
async function nodeLayer(work: string): Promise<string> {
  const dir = join(work, 'node');
  for (const sub of ['usr/local/bin', 'usr/local/lib/node_modules', 'etc/ssl/certs']) await mkdir(join(dir, sub), { recursive: true });
  await cp(HOST_NODE, join(dir, 'usr/local/bin/node'));
  await cp(HOST_NPM, join(dir, 'usr/local/lib/node_modules/npm'), { recursive: true, verbatimSymlinks: true });
  await symlink('../lib/node_modules/npm/bin/npm-cli.js', join(dir, 'usr/local/bin/npm'));
  await symlink('../lib/node_modules/npm/bin/npx-cli.js', join(dir, 'usr/local/bin/npx'));
  if (existsSync(HOST_CA_BUNDLE)) await cp(HOST_CA_BUNDLE, join(dir, 'etc/ssl/certs/ca-certificates.crt'));
  return dir;
}

// A Debian minbase root with extra packages, as an uncompressed tar, from the host's mirrors.
async function debianMinbase(tarPath: string, packages: readonly string[]): Promise<void> {
  const sources = join(dirname(tarPath), 'image.sources');
  await writeFile(sources, renderDeb822(sourcesForSuite(await readHostAptSources(), 'bookworm')));
  execFileSync(
    'mmdebstrap',
    [
      '--mode=root',
      '--variant=minbase',
      ...(packages.length > 0 ? [`--include=${packages.join(',')}`] : []),
      '--dpkgopt=path-exclude=/usr/share/man/*',
      '--dpkgopt=path-exclude=/usr/share/doc/*',
      '--dpkgopt=path-exclude=/usr/share/locale/*',
      '--dpkgopt=force-unsafe-io',
      '--customize-hook=rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/* "$1"/var/log/*.log',
      'bookworm',
      tarPath,
      sources,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, SOURCE_DATE_EPOCH: '0' } },
  );
}
