// Masks registered secrets (runner tokens, job tokens) in log output with the one secret masker.
// One registry is shared by a logger and all its children, so a secret added anywhere is masked
// everywhere.
import { maskSecrets } from '../masking/secret-masker.js';

// Very short values would mask ordinary words and make logs unreadable; tokens are far longer.
const MIN_SECRET_LENGTH = 4;

export class SecretRegistry {
  private secrets: readonly string[] = [];

  add(value: string): void {
    if (value.length < MIN_SECRET_LENGTH || this.secrets.includes(value)) return;
    // A new array, so the masker compiles the new list once and reuses it until the next add.
    this.secrets = [...this.secrets, value];
  }

  redact(text: string): string {
    return maskSecrets(text, this.secrets);
  }
}
