// Masks registered secrets (runner tokens, job tokens) in log output. One registry is shared by a
// logger and all its children, so a secret added anywhere is masked everywhere.

export const MASK = '[MASKED]';

// Very short values would mask ordinary words and make logs unreadable; tokens are far longer.
const MIN_SECRET_LENGTH = 4;

export class SecretRegistry {
  private secrets: string[] = [];

  add(value: string): void {
    if (value.length < MIN_SECRET_LENGTH || this.secrets.includes(value)) return;
    // Longest first, so a secret that contains another is masked whole.
    this.secrets = [...this.secrets, value].sort((a, b) => b.length - a.length);
  }

  redact(text: string): string {
    let result = text;
    for (const secret of this.secrets) if (result.includes(secret)) result = result.split(secret).join(MASK);
    return result;
  }
}
