// gitlab-runner's short form of a runner token: safe to show in listings and logs, and used by
// it in cache keys and build paths. Prefixes carry no entropy, so characters after them are kept.

export function shortToken(token: string): string {
  if (token.length < 8) return token;
  if (token.startsWith('glrt-')) return token.slice(5, 14);
  if (token.startsWith('glrtr-') || token.startsWith('glcbt-')) return token.slice(6, 15);
  // Registration tokens: "GR" + a hex-encoded rotation date.
  if (token.startsWith('GR') && token.length >= 17 && /^[0-9a-fA-F]{7}$/.test(token.slice(2, 9))) {
    return token.slice(0, 17);
  }
  return token.slice(0, 8);
}
