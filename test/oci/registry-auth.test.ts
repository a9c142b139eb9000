import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { findRegistryCredentials, lookupPaths } from '../../src/oci/registry-auth.js';

const auth = (user: string, password: string) => Buffer.from(`${user}:${password}`).toString('base64');

describe('registry credentials (gitlab-runner helpers/docker/auth)', () => {
  it('tries the image path up to the bare host, port kept, no library/', () => {
    assert.deepEqual(lookupPaths('alpine:3.19'), ['docker.io/alpine', 'docker.io']);
    assert.deepEqual(lookupPaths('registry.example.com:5000/a/b:tag'), ['registry.example.com:5000/a/b', 'registry.example.com:5000/a', 'registry.example.com:5000']);
    assert.deepEqual(lookupPaths('Registry.GitLab.com/g/p/img'), ['registry.gitlab.com/g/p/img', 'registry.gitlab.com/g/p', 'registry.gitlab.com/g', 'registry.gitlab.com']);
  });

  it('DOCKER_AUTH_CONFIG wins over ~/.docker/config.json; the https://index.docker.io/v1/ key is docker.io', async () => {
    const home = await mkdtemp(join(tmpdir(), 'tart-home-'));
    try {
      await mkdir(join(home, '.docker'));
      await writeFile(join(home, '.docker', 'config.json'), JSON.stringify({ auths: { 'https://index.docker.io/v1/': { auth: auth('file', 'f') }, 'other:5000': { auth: auth('o', 'p') } } }));
      const fromVariable = JSON.stringify({ auths: { 'docker.io': { username: 'var', password: 'v' } } });
      const hub = await findRegistryCredentials('node:20', { dockerAuthConfig: fromVariable, home });
      assert.deepEqual(hub.credentials, { source: '$DOCKER_AUTH_CONFIG', username: 'var', password: 'v' });
      const other = await findRegistryCredentials('other:5000/x/y:1', { dockerAuthConfig: fromVariable, home });
      assert.deepEqual(other.credentials, { source: join(home, '.docker', 'config.json'), username: 'o', password: 'p' });
      const none = await findRegistryCredentials('other/x', { home });
      assert.equal(none.credentials?.username, 'file');
      assert.equal((await findRegistryCredentials('other:5001/x', { home })).credentials, undefined);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it('a broken DOCKER_AUTH_CONFIG warns as gitlab-runner does and falls through', async () => {
    const result = await findRegistryCredentials('node:20', { dockerAuthConfig: '{not json', home: '/nonexistent' });
    assert.equal(result.credentials, undefined);
    assert.deepEqual(result.warnings, ['Failed to resolve credentials from $DOCKER_AUTH_CONFIG: not valid JSON. Credentials from this source will not be used.']);
  });
});
