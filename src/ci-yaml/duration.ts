// GitLab duration strings ("1h 30m", "3 hours", "90 minutes", "2 days", plain seconds) → seconds.
import { CiConfigError, type SourceLocation } from './errors.js';

const UNIT_SECONDS: Record<string, number> = {
  s: 1,
  sec: 1,
  secs: 1,
  second: 1,
  seconds: 1,
  m: 60,
  min: 60,
  mins: 60,
  minute: 60,
  minutes: 60,
  h: 3600,
  hr: 3600,
  hrs: 3600,
  hour: 3600,
  hours: 3600,
  d: 86400,
  day: 86400,
  days: 86400,
  w: 604800,
  wk: 604800,
  wks: 604800,
  week: 604800,
  weeks: 604800,
  mo: 2592000,
  mos: 2592000,
  month: 2592000,
  months: 2592000,
  y: 31536000,
  yr: 31536000,
  yrs: 31536000,
  year: 31536000,
  years: 31536000,
};

/** Parses a duration; throws CI_DURATION_INVALID naming where it was written. */
export function parseDuration(
  text: string | number,
  where: { location?: SourceLocation; job?: string } = {},
): number {
  if (typeof text === 'number') return text;
  const trimmed = text.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  let total = 0;
  let matched = '';
  for (const part of trimmed.matchAll(/(\d+(?:\.\d+)?)\s*([a-z]+)(?:\s+and)?[\s,]*/g)) {
    const unit = UNIT_SECONDS[part[2] ?? ''];
    if (unit === undefined) break;
    total += Number(part[1]) * unit;
    matched += part[0];
  }
  if (matched.length === 0 || matched.length !== trimmed.length) {
    throw new CiConfigError(
      'CI_DURATION_INVALID',
      `"${text}" is not a duration (e.g. "1h 30m", "45 minutes")`,
      where,
    );
  }
  return Math.round(total);
}
