// The live progress line on stderr (\r-updated), and logging that doesn't tear it.
let current = '';

export function progress(text: string): void {
  const width = Math.max(40, (process.stderr.columns ?? 120) - 1);
  const line = text.length > width ? text.slice(0, width) : text;
  process.stderr.write(`\r${line.padEnd(Math.max(current.length, line.length))}`);
  current = line;
}

/** Prints msg on a line of its own, then redraws the progress line. */
export function log(msg: string): void {
  if (current !== '') process.stderr.write(`\r${' '.repeat(current.length)}\r`);
  process.stderr.write(msg + '\n');
  if (current !== '') process.stderr.write(current);
}

export function endProgress(): void {
  if (current !== '') process.stderr.write('\n');
  current = '';
}
