// Errors with stable codes: callers branch on `code`, never on the message.

export type ErrorDetails = Record<string, unknown>;

export class TartError extends Error {
  readonly code: string;
  readonly details: ErrorDetails;

  constructor(code: string, message: string, options: { cause?: unknown; details?: ErrorDetails } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TartError';
    this.code = code;
    this.details = options.details ?? {};
  }
}

/** True when `error` is a TartError with the given code. */
export function hasCode(error: unknown, code: string): error is TartError {
  return error instanceof TartError && error.code === code;
}

/** A user mistake (bad config, bad flag): the CLI prints the message without a stack. */
export class UserError extends TartError {
  constructor(code: string, message: string, options: { cause?: unknown; details?: ErrorDetails } = {}) {
    super(code, message, options);
    this.name = 'UserError';
  }
}
