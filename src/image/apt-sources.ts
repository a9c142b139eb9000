// The Debian mirrors for mmdebstrap, taken from the host's own apt configuration (the build
// machine may reach only its configured mirror), keeping only the guest suite's entries.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../errors.js';

export interface AptSource {
  uris: string[];
  suites: string[];
  components: string[];
  signedBy?: string;
}

/** Reads /etc/apt/sources.list and sources.list.d/*.{list,sources}. */
export async function readHostAptSources(aptDir = '/etc/apt'): Promise<AptSource[]> {
  const files: string[] = [join(aptDir, 'sources.list')];
  const partsDir = join(aptDir, 'sources.list.d');
  const parts = await readdir(partsDir).catch(() => [] as string[]);
  files.push(...parts.sort().map((name) => join(partsDir, name)));
  const sources: AptSource[] = [];
  for (const file of files) {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    if (file.endsWith('.sources')) sources.push(...parseDeb822Sources(text));
    else if (file.endsWith('.list')) sources.push(...parseOneLineSources(text));
  }
  return sources;
}

/** Keeps the `deb` entries for `suite` and its updates/security suites. */
export function sourcesForSuite(sources: readonly AptSource[], suite: string): AptSource[] {
  const wanted = new Set([suite, `${suite}-updates`, `${suite}-security`]);
  const kept = sources
    .map((source) => ({ ...source, suites: source.suites.filter((name) => wanted.has(name)) }))
    .filter((source) => source.suites.length > 0 && source.components.includes('main'));
  if (!kept.some((source) => source.suites.includes(suite))) {
    throw new UserError(
      'IMAGE_NO_APT_SOURCE',
      `the host's apt sources have no "${suite}" entry for mmdebstrap`,
    );
  }
  return kept;
}

/** Renders entries as a deb822 .sources file (mmdebstrap accepts the path as its mirror). */
export function renderDeb822(sources: readonly AptSource[]): string {
  return sources
    .map((source) =>
      [
        'Types: deb',
        `URIs: ${source.uris.join(' ')}`,
        `Suites: ${source.suites.join(' ')}`,
        `Components: ${source.components.join(' ')}`,
        ...(source.signedBy ? [`Signed-By: ${source.signedBy}`] : []),
      ].join('\n'),
    )
    .join('\n\n')
    .concat('\n');
}

export function parseDeb822Sources(text: string): AptSource[] {
  const stanzas = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .split(/\n\s*\n/);
  const sources: AptSource[] = [];
  for (const stanza of stanzas) {
    const fields = new Map<string, string>();
    for (const line of stanza.split('\n')) {
      const match = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (match?.[1]) fields.set(match[1].toLowerCase(), match[2] ?? '');
    }
    const types = (fields.get('types') ?? '').split(/\s+/);
    if (!types.includes('deb') || fields.get('enabled') === 'no') continue;
    sources.push({
      uris: words(fields.get('uris')),
      suites: words(fields.get('suites')),
      components: words(fields.get('components')),
      signedBy: fields.get('signed-by') || undefined,
    });
  }
  return sources.filter((source) => source.uris.length > 0);
}

export function parseOneLineSources(text: string): AptSource[] {
  const sources: AptSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    const match = /^deb\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s*(.*)$/.exec(line);
    if (!match?.[2] || !match[3]) continue;
    const signedBy = /signed-by=(\S+)/.exec(match[1] ?? '')?.[1];
    sources.push({ uris: [match[2]], suites: [match[3]], components: words(match[4]), signedBy });
  }
  return sources;
}

function words(value: string | undefined): string[] {
  return (value ?? '').split(/\s+/).filter(Boolean);
}
