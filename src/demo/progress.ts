// The demo's terminal output: a live progress line while it waits, then ✔ or ✘ with the reason for every step.

export interface Output {
  write(s: string): unknown;
  readonly isTTY?: boolean;
}

export interface StepOutcome {
  readonly title: string;
  readonly ok: boolean;
  readonly detail: string;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export class Progress {
  readonly outcomes: StepOutcome[] = [];
  private clearLine: (() => void) | undefined;

  constructor(private readonly out: Output) {}

  /** Shows `what` with a spinner and the seconds spent until the returned function is called. */
  waiting(what: string): () => void {
    this.clearLine?.();
    const started = Date.now();
    if (this.out.isTTY !== true) {
      this.out.write(`  … ${what}\n`);
      return () => undefined;
    }
    let frame = 0;
    const draw = (): void => {
      const secs = ((Date.now() - started) / 1000).toFixed(0);
      this.out.write(`\r\x1b[2K  ${FRAMES[frame++ % FRAMES.length]} ${what} (${secs}s)`);
    };
    draw();
    const timer = setInterval(draw, 100);
    const clear = (): void => {
      clearInterval(timer);
      this.out.write('\r\x1b[2K');
      if (this.clearLine === clear) this.clearLine = undefined;
    };
    this.clearLine = clear;
    return clear;
  }

  heading(text: string): void {
    this.clearLine?.();
    this.out.write(`\n${text}\n`);
  }

  info(text: string): void {
    this.clearLine?.();
    this.out.write(`    ${text}\n`);
  }

  record(title: string, ok: boolean, detail: string): StepOutcome {
    this.clearLine?.();
    const outcome = { title, ok, detail };
    this.outcomes.push(outcome);
    this.out.write(`  ${ok ? '\u2714' : '\u2718'} ${title}\n      ${detail.split('\n').join('\n      ')}\n`);
    return outcome;
  }

  summary(): boolean {
    const passed = this.outcomes.filter((o) => o.ok).length;
    const failed = this.outcomes.length - passed;
    this.out.write(`\n${failed === 0 ? '\u2714' : '\u2718'} ${passed} of ${this.outcomes.length} steps held${failed === 0 ? '' : `; ${failed} did not:`}\n`);
    for (const o of this.outcomes.filter((x) => !x.ok)) this.out.write(`    \u2718 ${o.title}\n`);
    return failed === 0;
  }
}
