// The single error thrown for bad configuration: every problem found, one per line; exit code 64.
import type { ConfigProblem } from './types.js';

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
