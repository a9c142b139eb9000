import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assignServiceAliases, derivedServiceAliases, explicitServiceAliases, serviceNameAndVersion } from '../../src/oci/service-aliases.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('service aliases', () => {
  // gitlab-runner helpers/container/services/test/test.go and ci/services docs.
  for (const [image, aliases] of [
    ['postgres:16', ['postgres']],
    ['postgres', ['postgres']],
    ['docker:dind', ['docker']],
    ['tutum/wordpress', ['tutum__wordpress', 'tutum-wordpress']],
    ['tutum/wordpress:latest', ['tutum__wordpress', 'tutum-wordpress']],
    ['registry.example.com:5000/a/b:tag', ['registry.example.com__a__b', 'registry.example.com-a-b']],
    ['127.0.0.1:5000/tools/httpd:1', ['127.0.0.1__tools__httpd', '127.0.0.1-tools-httpd']],
    [`domain.tld/namespace/service@${DIGEST}`, ['domain.tld__namespace__service', 'domain.tld-namespace-service']],
    ['localhost:5000/x', ['localhost__x', 'localhost-x']],
    ['Upper/Case', []],
    ['bad name', []],
  ] as const) {
    it(`${image} → ${aliases.join(', ') || 'no alias'}`, () => {
      assert.deepEqual(derivedServiceAliases(image), aliases);
    });
  }

  it("names a service as gitlab-runner's \"Starting service\" line does: no port, tag or latest, or the digest", () => {
    assert.deepEqual(serviceNameAndVersion('redis'), { service: 'redis', version: 'latest' });
    assert.deepEqual(serviceNameAndVersion('127.0.0.1:5000/tools/httpd:1'), { service: '127.0.0.1/tools/httpd', version: '1' });
    assert.deepEqual(serviceNameAndVersion(`a.tld/b@${DIGEST}`), { service: 'a.tld/b', version: `@${DIGEST}` });
    assert.equal(serviceNameAndVersion('bad name'), undefined);
  });

  it('splits alias on commas and whitespace', () => {
    assert.deepEqual(explicitServiceAliases('web, www  api,,db'), ['web', 'www', 'api', 'db']);
    assert.deepEqual(explicitServiceAliases(undefined), []);
  });

  it('appends explicit aliases to derived ones; a taken alias is skipped with the runner warning', () => {
    const { aliases, warnings } = assignServiceAliases([
      { name: 'tutum/wordpress:latest', alias: 'wp' },
      { name: 'mysql:8', alias: 'wp,db' },
      { name: 'mysql:8' },
    ]);
    assert.deepEqual(aliases, [['tutum__wordpress', 'tutum-wordpress', 'wp'], ['mysql', 'db'], []]);
    assert.deepEqual(warnings, [
      'Skipping alias "wp" for service "mysql:8" (services[1]): alias is already in use by another service.',
      'Skipping alias "mysql" for service "mysql:8" (services[2]): alias is already in use by another service.',
    ]);
  });
});
