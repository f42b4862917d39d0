// One clear message for bad input: which file, what is wrong, what to do. Callers show `message` as is.

export class StackSegError extends Error {
  constructor(
    /** What is wrong, in one sentence. */
    readonly what: string,
    readonly options: { file?: string; page?: number; hint?: string; code?: string } = {},
  ) {
    super(StackSegError.format(what, options));
    this.name = 'StackSegError';
  }

  get file(): string | undefined { return this.options.file; }
  get page(): number | undefined { return this.options.page; }
  get hint(): string | undefined { return this.options.hint; }
  get code(): string | undefined { return this.options.code; }

  static format(what: string, o: { file?: string; page?: number; hint?: string }): string {
    const where = o.file ? `${o.file}${o.page !== undefined ? ` (page ${o.page})` : ''}: ` : '';
    return `${where}${what}${o.hint ? ` — ${o.hint}` : ''}`;
  }
}

/** Usage errors map to CLI exit code 2, everything else to 1. */
export class UsageError extends StackSegError {
  constructor(what: string, hint?: string) {
    super(what, { hint, code: 'usage' });
    this.name = 'UsageError';
  }
}
