// How the demo starts this program again (the proxy, the demo apps) inside its namespaces: node + our main script, or the single binary.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

let cached: Promise<readonly string[]> | undefined;

/**
 * argv prefix that runs `linkerd2-proxy-ts` (append the subcommand and its arguments). Loaded
 * from TypeScript sources (tests), the compiled dist/src/main.js is used: child processes run
 * plain node.
 */
export function selfCommand(): Promise<readonly string[]> {
  cached ??= (async () => {
    const sea = await import('node:sea').then((m) => m.isSea()).catch(() => false);
    if (sea) return [process.execPath];
    const here = new URL('../main.js', import.meta.url);
    const main = existsSync(fileURLToPath(here)) ? here : new URL('../../dist/src/main.js', import.meta.url);
    return [process.execPath, fileURLToPath(main)];
  })();
  return cached;
}
