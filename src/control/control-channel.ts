// One grpc-js client per control-plane service, shared by every stream, replaced when its credentials rotate.
import * as grpc from '@grpc/grpc-js';
import type { ChannelSetup } from './channel.js';

/** A stream's hold on a client: release it when the stream ends. */
export interface ChannelLease {
  readonly client: grpc.Client;
  release(): void;
}

/** Where watches get their clients. */
export interface ChannelSource {
  /** Throws what the setup factory throws (e.g. NoCredentialsError). */
  acquire(): ChannelLease;
}

interface Entry {
  readonly setup: ChannelSetup;
  readonly client: grpc.Client;
  leases: number;
  retired: boolean;
}

/**
 * Hands out the client for the factory's current setup. The factory returns the same object
 * until credentials rotate; then new streams get a new client and the old one is closed once
 * its last stream ends (streams are not cut by a rotation, as in the Rust proxy).
 */
export class ControlChannel implements ChannelSource {
  private current: Entry | undefined;
  private readonly retired = new Set<Entry>();
  private closed = false;

  constructor(private readonly setup: () => ChannelSetup) {}

  acquire(): ChannelLease {
    if (this.closed) throw new Error('control-plane channel is closed');
    const setup = this.setup();
    let entry = this.current;
    if (entry === undefined || entry.setup !== setup) {
      if (entry !== undefined) this.retire(entry);
      entry = { setup, client: new grpc.Client(setup.target, setup.credentials, setup.options), leases: 0, retired: false };
      this.current = entry;
    }
    const held = entry;
    held.leases++;
    let released = false;
    return {
      client: held.client,
      release: () => {
        if (released) return;
        released = true;
        held.leases--;
        if (held.retired && held.leases === 0) {
          this.retired.delete(held);
          held.client.close();
        }
      },
    };
  }

  /** Clients alive now (the current one plus retired ones still carrying streams). */
  get clientCount(): number {
    return (this.current === undefined ? 0 : 1) + this.retired.size;
  }

  /** Closes every client; cancel the streams first (closing a grpc-js client does not end its calls). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.current?.client.close();
    this.current = undefined;
    for (const e of this.retired) e.client.close();
    this.retired.clear();
  }

  private retire(entry: Entry): void {
    entry.retired = true;
    if (entry.leases === 0) entry.client.close();
    else this.retired.add(entry);
  }
}
