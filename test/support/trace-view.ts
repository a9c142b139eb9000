// A job log as GitLab's job page shows it: FF_TIMESTAMPS headers hidden, and an entry flagged '+'
// joined to the previous entry of its stream (dropping the '\n' the runner added to flush it).
// A log without the headers is returned unchanged. For assertions only; stores nothing.

const HEADER = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z ([0-9a-f]{2}[OE])([ +])/;
const HEADER_LENGTH = 32;

/** The log text GitLab's UI renders for these raw trace bytes. */
export function traceAsShown(raw: Buffer | string): string {
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  if (!HEADER.test(text)) return text;
  const entries: string[] = [];
  const lastOfStream = new Map<string, number>();
  for (const line of text.split(/(?<=\n)/)) {
    const header = HEADER.exec(line);
    if (header === null) {
      entries.push(line);
      continue;
    }
    const [, stream = '', flag] = header;
    const body = line.slice(HEADER_LENGTH);
    const previous = lastOfStream.get(stream);
    if (flag === '+' && previous !== undefined) {
      entries[previous] = (entries[previous] ?? '').replace(/\n$/, '') + body;
    } else {
      lastOfStream.set(stream, entries.length);
      entries.push(body);
    }
  }
  return entries.join('');
}
