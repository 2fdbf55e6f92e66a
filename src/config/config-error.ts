// The single error thrown for bad configuration: every problem found, one per line; exit code 64.

/** One invalid or missing variable. */
export interface ConfigProblem {
  readonly variable: string;
  /** The raw value, or undefined when the variable is unset. */
  readonly value: string | undefined;
  /** The accepted form, e.g. "a duration like 300ms, 10s, 2m". */
  readonly expected: string;
  /** One line naming the variable, the value and the expected form. */
  readonly message: string;
}

/** sysexits.h EX_USAGE, as the Rust proxy exits on invalid configuration. */
export const CONFIG_EXIT_CODE = 64;

export class ConfigError extends Error {
  readonly exitCode = CONFIG_EXIT_CODE;
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(`Invalid configuration (${count}):\n${problems.map((p) => `  ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = Object.freeze([...problems]);
  }
}
