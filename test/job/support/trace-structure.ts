// Reduces a raw job trace to its structure for golden comparisons: section markers (without
// timestamps), stage headers, "$ command" lines, the header and footer, WARNING/ERROR lines.
// Git and helper output, hostnames and temp paths are dropped, so the golden file stays stable.
import { stripAnsi } from '../../../src/model/ansi.js';

const MARKER = /section_(start|end):\d+:([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?\r\x1b\[0K/g;
const KEPT = [
  /^Running with /,
  /^ {2}on /,
  /^Using .* executor\.\.\.$/,
  /^Running on /,
  /^\$ /,
  /^WARNING: /,
  /^ERROR: /,
  /^Job succeeded$/,
];

// Parts that differ between machines and builds.
function normalise(text: string): string {
  return text
    .replace(/^Running with tart \S+ \([^)]*\)/, 'Running with tart <version> (<revision>)')
    .replace(/^Running on .*\.\.\.$/, 'Running on <host>...')
    .trimEnd();
}

export function traceStructure(trace: string): string[] {
  const out: string[] = [];
  for (const line of trace.split('\n')) {
    let rest = line;
    for (const match of line.matchAll(MARKER)) out.push(`section_${match[1]}:${match[2]}`);
    rest = rest.replace(MARKER, '');
    const isStageHeader = rest.includes('\x1b[36;1m');
    const text = stripAnsi(rest).replace(/\r/g, '');
    if (isStageHeader) out.push(`# ${text}`);
    else if (KEPT.some((pattern) => pattern.test(text))) out.push(normalise(text));
  }
  return out;
}
