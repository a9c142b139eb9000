import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultImageDir, resolveConfigPath, type HostFacts } from '../../src/config/paths.js';

const user: HostFacts = { env: {}, uid: 1000, home: '/home/ci', hostname: 'h' };
const root: HostFacts = { env: {}, uid: 0, home: '/root', hostname: 'h' };

test('the config path is --config, else $TART_CONFIG, else a per-user or system default', () => {
  assert.equal(resolveConfigPath('/x/c.toml', { ...user, env: { TART_CONFIG: '/env.toml' } }), '/x/c.toml');
  assert.equal(resolveConfigPath(undefined, { ...user, env: { TART_CONFIG: '/env.toml' } }), '/env.toml');
  assert.equal(resolveConfigPath(undefined, user), '/home/ci/.tart/config.toml');
  assert.equal(resolveConfigPath(undefined, root), '/etc/tart/config.toml');
});

test('the default image dir is $TART_IMAGE_DIR, else a per-user or system location', () => {
  assert.equal(defaultImageDir({ ...root, env: { TART_IMAGE_DIR: '/img' } }), '/img/current');
  assert.equal(defaultImageDir(root), '/var/lib/tart/images/current');
  const nothingBuilt = () => false;
  assert.equal(defaultImageDir(user, nothingBuilt), '/home/ci/.local/share/tart/images/current');
});

test("a non-root user runs with root's system image unless they built their own", () => {
  const systemBuilt = (path: string) => path === '/var/lib/tart/images/current';
  assert.equal(defaultImageDir(user, systemBuilt), '/var/lib/tart/images/current');
  const bothBuilt = (path: string) => systemBuilt(path) || path === '/home/ci/.local/share/tart/images/current';
  assert.equal(defaultImageDir(user, bothBuilt), '/home/ci/.local/share/tart/images/current');
  assert.equal(defaultImageDir({ ...user, env: { TART_IMAGE_DIR: '/mine' } }, systemBuilt), '/mine/current');
});
