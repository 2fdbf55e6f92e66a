// Flow-controlled input from a client socket: bytes wait in a stash until the owner's state
// accepts them, the socket is paused meanwhile, and processing never recurses per request.
import type net from 'node:net';

export abstract class BufferedInput {
  /** Bytes read from the client and not processed yet. */
  protected stash: Buffer | undefined = undefined;
  /** The client sent FIN. */
  protected clientEnded = false;
  private pumping = false;
  private repump = false;

  constructor(readonly client: net.Socket) {}

  /** Whether input(…) may be called now. */
  protected abstract accepting(): boolean;
  /** Consumes what it can of buf, stashing the rest with stashRest(). */
  protected abstract input(buf: Buffer): void;
  /** Whether more bytes should be read from the socket now. */
  protected abstract wantsRead(): boolean;
  /** FIN received and everything before it looked at. */
  protected abstract inputFinished(): void;
  /** Input is being thrown away (closing), or the socket now belongs to a tunnel. */
  protected abstract ignoringInput(): boolean;

  protected readonly onData = (chunk: Buffer): void => {
    if (this.ignoringInput()) return;
    this.stashRest(chunk, 0);
    this.pump();
  };

  protected readonly onEnd = (): void => {
    this.clientEnded = true;
    if (!this.ignoringInput()) this.pump();
  };

  /** Keeps buf[off...] for later (a view, not a copy, unless bytes are already waiting). */
  protected stashRest(buf: Buffer, off: number): void {
    if (off >= buf.length) return;
    const rest = off === 0 ? buf : buf.subarray(off);
    this.stash = this.stash === undefined ? rest : Buffer.concat([this.stash, rest]);
  }

  /**
   * Feeds stashed bytes to input() for as long as the state accepts them. A call made while
   * already pumping (a request finishing synchronously) just makes the outer loop go round
   * again, so a burst of pipelined requests does not grow the stack.
   */
  protected pump(): void {
    if (this.pumping) {
      this.repump = true;
      return;
    }
    this.pumping = true;
    do {
      this.repump = false;
      while (this.stash !== undefined && this.accepting()) {
        const s = this.stash;
        this.stash = undefined;
        this.input(s);
      }
    } while (this.repump);
    this.pumping = false;
    this.updateReading();
    if (this.clientEnded && this.stash === undefined) this.inputFinished();
  }

  /** Pauses or resumes the socket to match wantsRead(). */
  updateReading(): void {
    const c = this.client;
    if (this.wantsRead()) {
      if (c.readableFlowing !== true) c.resume();
    } else if (c.readableFlowing === true) {
      c.pause();
    }
  }
}
