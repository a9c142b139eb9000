import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hasCode } from '../../src/errors.js';
import {
  parseDeb822Sources,
  parseOneLineSources,
  renderDeb822,
  sourcesForSuite,
} from '../../src/image/apt-sources.js';

const HOST_DEB822 = `Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: https://deb.nodesource.com/node_20.x
Suites: nodistro
Components: main
Signed-By: /usr/share/keyrings/nodesource.gpg
`;

test('deb822 stanzas are parsed with comments ignored', () => {
  const sources = parseDeb822Sources(HOST_DEB822);
  assert.equal(sources.length, 3);
  assert.deepEqual(sources[0], {
    uris: ['http://deb.debian.org/debian'],
    suites: ['bookworm', 'bookworm-updates'],
    components: ['main'],
    signedBy: '/usr/share/keyrings/debian-archive-keyring.gpg',
  });
});

test('one-line sources keep their signed-by option and skip deb-src and comments', () => {
  const sources = parseOneLineSources(
    '# comment\ndeb [arch=amd64 signed-by=/k.gpg] http://mirror/debian bookworm main contrib\ndeb-src http://mirror/debian bookworm main\ndeb https://packages.cloud.google.com/apt cloud-sdk-bookworm main\n',
  );
  assert.deepEqual(sources, [
    {
      uris: ['http://mirror/debian'],
      suites: ['bookworm'],
      components: ['main', 'contrib'],
      signedBy: '/k.gpg',
    },
    {
      uris: ['https://packages.cloud.google.com/apt'],
      suites: ['cloud-sdk-bookworm'],
      components: ['main'],
      signedBy: undefined,
    },
  ]);
});

test('only the guest suite and its updates and security suites reach mmdebstrap', () => {
  const kept = sourcesForSuite(
    [
      ...parseDeb822Sources(HOST_DEB822),
      ...parseOneLineSources('deb https://packages.cloud.google.com/apt cloud-sdk-bookworm main'),
    ],
    'bookworm',
  );
  assert.deepEqual(
    kept.map((source) => source.suites.join(' ')),
    ['bookworm bookworm-updates', 'bookworm-security'],
  );
  const rendered = renderDeb822(kept);
  assert.ok(!rendered.includes('nodesource') && !rendered.includes('cloud-sdk'));
  assert.deepEqual(parseDeb822Sources(rendered), kept);
});

test('a host without the guest suite is an error naming the suite', () => {
  assert.throws(
    () => sourcesForSuite(parseOneLineSources('deb http://mirror/debian trixie main'), 'bookworm'),
    (error: unknown) => hasCode(error, 'IMAGE_NO_APT_SOURCE') && error.message.includes('"bookworm"'),
  );
});
