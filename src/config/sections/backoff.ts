// The MIN/MAX/JITTER backoff triplet: all unset ⇒ default; MIN and MAX together; JITTER optional.
import type { EnvReader } from '../env-reader.js';
import { EXPECTED, parseDuration, parseJitter } from '../formats.js';
import type { BackoffConfig } from '../types.js';
import type { BackoffEnv } from './direction-env.js';

/**
 * Reads one backoff triplet. Giving only some of MIN/MAX is an error; JITTER alone is too.
 * When MIN and MAX are given without JITTER, jitter is 0 (not the default's), as in Rust.
 */
export function readBackoff(r: EnvReader, names: BackoffEnv, fallback: BackoffConfig): BackoffConfig {
  const min = r.parse(names.min, parseDuration);
  const max = r.parse(names.max, parseDuration);
  const jitter = r.parse(names.jitter, parseJitter);
  if (r.failed(names.min) || r.failed(names.max) || r.failed(names.jitter)) return fallback;
  if (min === undefined && max === undefined && jitter === undefined) return fallback;
  if (min === undefined || max === undefined) {
    r.rule(
      min === undefined ? names.min : names.max,
      undefined,
      EXPECTED.duration,
      `${names.min} and ${names.max} must be set together (${names.jitter} is optional)`,
    );
    return fallback;
  }
  const maxRaw = r.raw(names.max) ?? '';
  if (max < min) {
    r.invalid(names.max, maxRaw, `a duration not less than ${names.min}`, 'maximum must not be less than minimum');
    return fallback;
  }
  if (max === 0) {
    r.invalid(names.max, maxRaw, 'a non-zero duration', 'maximum must be non-zero');
    return fallback;
  }
  return { minMs: min, maxMs: max, jitter: jitter ?? 0 };
}
