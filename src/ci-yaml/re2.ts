// RE2 patterns (GitLab's regex engine for rules, coverage and inputs) as JavaScript RegExps. The
// common subset reads the same; a leading inline flag group `(?i)` / `(?s)` / `(?m)` becomes a flag.
export function re2ToRegExp(source: string, flags = ''): RegExp {
  const inline = /^\(\?([ims]+)\)/.exec(source);
  const body = inline ? source.slice(inline[0].length) : source;
  const allFlags = new Set([...flags.replace(/[^imsu]/g, ''), ...(inline?.[1] ?? '')]);
  return new RegExp(body, [...allFlags].join(''));
}
