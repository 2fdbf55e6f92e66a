// No proxy: the client talks to the origin itself (the baseline every ratio divides by).
import type { MeshConfig } from './types.js';

export const direct: MeshConfig = {
  name: 'direct',
  label: 'direct (no proxy)',
  unavailable: () => undefined,
  async start(ctx) {
    const { origin } = ctx;
    return {
      http: { host: origin.host, port: origin.httpPort, procs: [] },
      tcp: origin.tcpPort === undefined ? undefined : { host: origin.host, port: origin.tcpPort, procs: [] },
      notes: [],
      stop: async () => undefined,
    };
  },
};
