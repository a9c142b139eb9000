// Go's time.Duration text form, which gitlab-runner prints in messages
// ("execution took longer than 1h0m0s seconds") and reads from variables ("90s", "1h30m").

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Formats milliseconds as Go's Duration.String() does, e.g. 3600000 → "1h0m0s", 500 → "500ms". */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 0) return `-${formatGoDuration(-ms)}`;
  if (ms < 1000) return `${trimNumber(ms)}ms`;
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const seconds = trimNumber((ms % 60_000) / 1000);
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}

/** Parses Go duration syntax ("1h30m", "90s", "-5m", "0") into milliseconds; undefined when malformed. */
export function parseGoDuration(text: string): number | undefined {
  const match = /^([+-]?)(.*)$/.exec(text.trim());
  const body = match?.[2] ?? '';
  const sign = match?.[1] === '-' ? -1 : 1;
  if (body === '0') return 0;
  if (body === '') return undefined;
  const part = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let index = 0;
  while (index < body.length) {
    part.lastIndex = index;
    const piece = part.exec(body);
    if (piece === null) return undefined;
    total += Number(piece[1]) * (UNIT_MS[piece[2] as string] ?? Number.NaN);
    index = part.lastIndex;
  }
  return Number.isFinite(total) ? sign * total : undefined;
}

// Go prints up to 9 fractional digits without trailing zeros.
function trimNumber(value: number): string {
  return Number(value.toFixed(9)).toString();
}
