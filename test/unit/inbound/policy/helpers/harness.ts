// A policy store wired to a fake policy controller over real gRPC, plus Server message builders.
import type { Test } from 'tap';
import { FakePolicy } from '../../../../support/fake-policy.js';
import { duration, ipNetwork, type Wire } from '../../../../support/control-plane-codec.js';
import { TestPki } from '../../../../support/pki.js';
import { testCredentials, testProxyEnv } from '../../../../support/proxy-env.js';
import { staticIdentity } from '../../../../support/static-identity.js';
import { loadConfig } from '../../../../../src/config/index.js';
import type { Config } from '../../../../../src/config/types.js';
import { controlPlaneClients, type ControlPlaneClients } from '../../../../../src/discovery/clients.js';
import type { Fields, Level, Logger } from '../../../../../src/log/logger.js';
import { createPortPolicies, type WatchedPortPolicies } from '../../../../../src/inbound/policy/index.js';
import { TestClock } from '../../../control/helpers/test-clock.js';

export interface LogLine {
  readonly level: Level;
  readonly message: string;
  readonly fields: Fields | undefined;
}

/** Records every line at every level. */
export function recordingLogger(lines: LogLine[] = []): Logger & { readonly lines: LogLine[] } {
  const at =
    (level: Level) =>
    (message: string, fields?: Fields): void => {
      lines.push({ level, message, fields });
    };
  const log: Logger & { readonly lines: LogLine[] } = {
    lines,
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    trace: at('trace'),
    enabled: () => true,
    child: () => log,
  };
  return log;
}

export interface PolicyHarness {
  readonly fake: FakePolicy;
  readonly clock: TestClock;
  readonly config: Config;
  readonly clients: ControlPlaneClients;
  readonly policies: WatchedPortPolicies;
  readonly log: ReturnType<typeof recordingLogger>;
}

let pki: TestPki | undefined;

function credentials(t: Test): ReturnType<typeof testCredentials> {
  if (pki === undefined) {
    const created = new TestPki();
    pki = created;
    t.teardown(() => {
      created.cleanup();
      pki = undefined;
    });
  }
  return testCredentials(pki);
}

/**
 * Starts the fake controller, loads a config pointing POLICY_SVC_ADDR at it (INBOUND_PORTS=8080
 * unless `env` says otherwise) and builds the store on the config's clients. `beforeStore` runs
 * first, so the fake can be primed before the eager watches start.
 */
export async function startHarness(t: Test, env: Record<string, string> = {}, beforeStore?: (fake: FakePolicy) => void): Promise<PolicyHarness> {
  const fake = await FakePolicy.start();
  const { ca, creds } = credentials(t);
  const { config } = loadConfig(
    testProxyEnv(ca.certPem, {
      LINKERD2_PROXY_POLICY_SVC_ADDR: `127.0.0.1:${fake.port}`,
      LINKERD2_PROXY_INBOUND_PORTS: '8080',
      ...env,
    }),
  );
  const clock = new TestClock();
  const log = recordingLogger();
  const clients = controlPlaneClients(config, staticIdentity(creds), { clock });
  beforeStore?.(fake);
  const policies = createPortPolicies({ inbound: config.inbound, client: clients.inboundPolicy, log });
  t.teardown(async () => {
    policies.close();
    clients.close();
    await fake.stop();
  });
  return { fake, clock, config, clients, policies, log };
}

export interface ServerSpec {
  readonly name: string;
  readonly authorizations?: readonly Wire[];
  /** Defaults to Opaque (a TCP-only server). */
  readonly protocol?: Wire;
}

/** A `Server` as the policy controller sends it for a Server resource. */
export function server(spec: ServerSpec): Wire {
  return {
    protocol: spec.protocol ?? { opaque: {} },
    authorizations: [...(spec.authorizations ?? [])],
    labels: { group: 'policy.linkerd.io', kind: 'server', name: spec.name },
  };
}

export function detect(timeoutMs = 10_000): Wire {
  return { detect: { timeout: duration(timeoutMs), httpRoutes: [] } };
}

/** A MeshTLS authorization admitting exactly these identities from anywhere. */
export function meshTlsIdentities(name: string, identities: readonly string[]): Wire {
  return {
    networks: [{ net: ipNetwork('0.0.0.0/0') }, { net: ipNetwork('::/0') }],
    authentication: { meshTLS: { identities: { identities: identities.map((id) => ({ name: id })) } } },
    metadata: { resource: { group: 'policy.linkerd.io', kind: 'authorizationpolicy', name } },
  };
}
