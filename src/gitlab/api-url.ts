// Where the runner API lives for a configured GitLab `url` (protocol reference §0.2).
import { TartError } from '../errors.js';

/** `https://gitlab.example.com/` or `…/ci` → `https://gitlab.example.com/api/v4/`. Rejects non-http(s) URLs. */
export function apiBaseUrl(configuredUrl: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(configuredUrl.trim());
  } catch (cause) {
    throw new TartError('GITLAB_BAD_URL', 'The GitLab URL is not a valid URL', { cause });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TartError('GITLAB_BAD_URL', `The GitLab URL must use http or https, not ${parsed.protocol}`);
  }
  let path = parsed.pathname.replace(/\/+$/, '');
  if (path.endsWith('/ci')) path = path.slice(0, -'/ci'.length);
  parsed.pathname = `${path}/api/v4/`;
  parsed.search = '';
  parsed.hash = '';
  return parsed;
}

/** Fills `:name` placeholders of an endpoint template such as `/jobs/:id/trace`. */
export function fillEndpoint(template: string, params: Record<string, string | number> = {}): string {
  return template.replace(/:([a-z_]+)/g, (_match, name: string) => {
    const value = params[name];
    if (value === undefined)
      throw new TartError('GITLAB_BAD_ENDPOINT', `No value for :${name} in ${template}`);
    return encodeURIComponent(String(value));
  });
}

/** The full URL of `endpoint` (a filled template) under the API base, with query parameters (empty ones omitted). */
export function endpointUrl(
  base: URL,
  endpoint: string,
  query: Record<string, string | undefined> = {},
): URL {
  const url = new URL(endpoint.replace(/^\/+/, ''), base);
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') url.searchParams.set(key, value);
  }
  return url;
}

/** Scheme, host and port only: safe to show in errors (never credentials or paths). */
export function describeOrigin(url: URL): string {
  return url.origin;
}
