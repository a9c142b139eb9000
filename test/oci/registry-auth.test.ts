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

  it("the job payload's registry credentials come last: used where no earlier source names the registry", async () => {
    const jobCredentials = [
      { type: 'registry', url: 'registry.gitlab.example:5050', username: 'gitlab-ci-token', password: 'job-token' },
      { type: 'other', url: 'docker.io', username: 'x', password: 'y' },
    ];
    const fromPayload = await findRegistryCredentials('registry.gitlab.example:5050/group/app:1', { home: '/nonexistent', jobCredentials });
    assert.deepEqual(fromPayload.credentials, { source: 'job payload (GitLab Registry)', username: 'gitlab-ci-token', password: 'job-token' });
    const dockerAuthConfig = JSON.stringify({ auths: { 'registry.gitlab.example:5050': { auth: auth('deploy', 'd') } } });
    const earlier = await findRegistryCredentials('registry.gitlab.example:5050/group/app:1', { dockerAuthConfig, home: '/nonexistent', jobCredentials });
    assert.equal(earlier.credentials?.username, 'deploy', 'DOCKER_AUTH_CONFIG wins for the same registry');
    assert.equal((await findRegistryCredentials('node:20', { home: '/nonexistent', jobCredentials })).credentials, undefined, 'only type registry counts');
  });

  describe('credential helpers (credsStore, credHelpers), as real executables on PATH', () => {
    // A Docker credential helper: `get` reads a server URL on stdin and prints its entry from
    // secrets.json, or says "credentials not found" and exits 1; `list` prints {server: user}.
    const HELPER = `#!/bin/sh
secrets="$(dirname "$0")/secrets.json"
case "$1" in
  get) server=$(cat); node -e 'const s = require(process.argv[1])[process.argv[2]]; if (!s) { console.log("credentials not found in native keychain"); process.exit(1); } console.log(JSON.stringify({ ServerURL: process.argv[2], Username: s[0], Secret: s[1] }))' "$secrets" "$server";;
  list) node -e 'const s = require(process.argv[1]); console.log(JSON.stringify(Object.fromEntries(Object.entries(s).map(([k, v]) => [k, v[0]]))))' "$secrets";;
  *) exit 2;;
esac
`;
    const withHelpers = async (secrets: Record<string, [string, string]>, test: (env: NodeJS.ProcessEnv) => Promise<void>) => {
      const bin = await mkdtemp(join(tmpdir(), 'tart-cred-helpers-'));
      try {
        for (const name of ['docker-credential-tarttest', 'docker-credential-store']) await writeFile(join(bin, name), HELPER, { mode: 0o755 });
        await writeFile(join(bin, 'secrets.json'), JSON.stringify(secrets));
        await test({ PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}` });
      } finally {
        await rm(bin, { recursive: true, force: true });
      }
    };

    it('credHelpers run the named helper for their registry, over the auths entry for it', async () => {
      await withHelpers({ 'reg.example:5000': ['helper-user', 'helper-secret'] }, async (env) => {
        const document = JSON.stringify({
          auths: { 'reg.example:5000': { auth: auth('plain', 'p') }, 'other.example': { auth: auth('o', 'p') } },
          credHelpers: { 'reg.example:5000': 'tarttest', 'missing.example': 'tarttest' },
        });
        const found = await findRegistryCredentials('reg.example:5000/group/app:1', { dockerAuthConfig: document, home: '/nonexistent', env });
        assert.deepEqual(found, { credentials: { source: '$DOCKER_AUTH_CONFIG', username: 'helper-user', password: 'helper-secret' }, warnings: [] });
        const other = await findRegistryCredentials('other.example/app', { dockerAuthConfig: document, home: '/nonexistent', env });
        assert.equal(other.credentials?.username, 'o', 'an entry the helper does not know stays');
      });
    });

    it('a credsStore lists its servers and gets each, over auths', async () => {
      await withHelpers({ 'https://index.docker.io/v1/': ['hub-user', 'hub-secret'], 'reg.example': ['r', 's'] }, async (env) => {
        const document = JSON.stringify({ auths: { 'docker.io': { auth: auth('plain', 'p') } }, credsStore: 'store' });
        const hub = await findRegistryCredentials('node:20', { dockerAuthConfig: document, home: '/nonexistent', env });
        assert.deepEqual(hub.credentials, { source: '$DOCKER_AUTH_CONFIG', username: 'hub-user', password: 'hub-secret' });
        assert.equal((await findRegistryCredentials('reg.example/x', { dockerAuthConfig: document, home: '/nonexistent', env })).credentials?.password, 's');
      });
    });

    it('a helper that is missing, or a name with a path in it, warns and drops that source only', async () => {
      await withHelpers({}, async (env) => {
        const home = await mkdtemp(join(tmpdir(), 'tart-home-'));
        try {
          await mkdir(join(home, '.docker'));
          await writeFile(join(home, '.docker', 'config.json'), JSON.stringify({ auths: { 'reg.example': { auth: auth('file', 'f') } } }));
          const absent = await findRegistryCredentials('reg.example/x', { dockerAuthConfig: JSON.stringify({ credsStore: 'absent' }), home, env });
          assert.equal(absent.credentials?.username, 'file', 'the next source still answers');
          assert.match(absent.warnings[0] ?? '', /^Failed to resolve credentials from \$DOCKER_AUTH_CONFIG: docker-credential-absent list did not run: .*Credentials from this source will not be used\.$/);
          const traversal = await findRegistryCredentials('reg.example/x', { dockerAuthConfig: JSON.stringify({ credHelpers: { 'reg.example': '../../bin/sh' } }), home, env });
          assert.match(traversal.warnings[0] ?? '', /credential helper name "\.\.\/\.\.\/bin\/sh" contains a path separator/);
        } finally {
          await rm(home, { recursive: true, force: true });
        }
      });
    });
  });
});
