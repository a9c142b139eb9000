// A strict multipart/form-data parser (RFC 7578) over a fully read body. Strict on purpose:
// a runner that frames its upload wrongly must see the 400 GitLab would give it.

export interface MultipartPart {
  name: string;
  filename: string | undefined;
  contentType: string | undefined;
  data: Buffer;
}

export type MultipartResult = { ok: true; parts: MultipartPart[] } | { ok: false; error: string };

/** The boundary from a `multipart/form-data; boundary=…` Content-Type, or undefined. */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  if (contentType === undefined || !/^multipart\/form-data\s*;/i.test(contentType)) return undefined;
  const match = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return match?.[1] ?? match?.[2];
}

export function parseMultipart(body: Buffer, boundary: string): MultipartResult {
  const delimiter = Buffer.from(`--${boundary}`);
  let position = body.indexOf(delimiter);
  if (position === -1) return { ok: false, error: 'no opening boundary' };
  const parts: MultipartPart[] = [];
  for (;;) {
    const afterDelimiter = position + delimiter.length;
    if (body.subarray(afterDelimiter, afterDelimiter + 2).toString() === '--') return { ok: true, parts };
    if (body.subarray(afterDelimiter, afterDelimiter + 2).toString() !== '\r\n') {
      return { ok: false, error: 'boundary not followed by CRLF' };
    }
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), afterDelimiter);
    if (next === -1) return { ok: false, error: 'missing closing boundary' };
    const part = parsePart(body.subarray(afterDelimiter + 2, next));
    if (typeof part === 'string') return { ok: false, error: part };
    parts.push(part);
    position = next + 2;
  }
}

/** One part: headers, a blank line, then the data; returns an error string when malformed. */
function parsePart(raw: Buffer): MultipartPart | string {
  const headerEnd = raw.indexOf('\r\n\r\n');
  if (headerEnd === -1) return 'part without a header block';
  const headers = new Map<string, string>();
  for (const line of raw.subarray(0, headerEnd).toString('utf8').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) return `malformed part header: ${line.slice(0, 40)}`;
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const disposition = headers.get('content-disposition');
  if (disposition === undefined || !/^form-data\s*;/i.test(disposition))
    return 'part without Content-Disposition: form-data';
  const name = dispositionParam(disposition, 'name');
  if (name === undefined) return 'part without a name';
  return {
    name,
    filename: dispositionParam(disposition, 'filename'),
    contentType: headers.get('content-type'),
    data: raw.subarray(headerEnd + 4),
  };
}

function dispositionParam(disposition: string, key: string): string | undefined {
  const match = new RegExp(`;\\s*${key}=(?:"((?:[^"\\\\]|\\\\.)*)"|([^;\\s]+))`, 'i').exec(disposition);
  if (match === null) return undefined;
  return match[1] !== undefined ? match[1].replace(/\\(.)/g, '$1') : match[2];
}
