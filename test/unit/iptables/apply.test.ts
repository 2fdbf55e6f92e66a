import t from 'tap';
import { applyRules, captureLines, printRules, removeRules } from '../../../src/iptables/apply.js';
import {
  IptablesCommandError,
  IptablesMissingError,
  NotRootError,
  type CommandResult,
  type CommandRunner,
} from '../../../src/iptables/run.js';

/** A tiny in-memory nat table per binary family, speaking just the iptables verbs we use. */
function fakeIptables(): { runner: CommandRunner; calls: string[]; save: (v6?: boolean) => string } {
  const tables = new Map<string, Map<string, string[]>>();
  const calls: string[] = [];
  const table = (v6: boolean): Map<string, string[]> => {
    const key = v6 ? '6' : '4';
    let tbl = tables.get(key);
    if (tbl === undefined) {
      tbl = new Map(['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'].map((c) => [c, []]));
      tables.set(key, tbl);
    }
    return tbl;
  };
  const builtin = new Set(['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING']);
  const save = (v6 = false): string => {
    const tbl = table(v6);
    const lines = ['*nat'];
    for (const c of tbl.keys()) lines.push(builtin.has(c) ? `:${c} ACCEPT [0:0]` : `:${c} - [0:0]`);
    for (const [c, rules] of tbl) for (const r of rules) lines.push(`-A ${c} ${r}`);
    lines.push('COMMIT', '');
    return lines.join('\n');
  };
  const ok = (stdout = ''): CommandResult => ({ code: 0, stdout, stderr: '' });
  const fail = (stderr: string): CommandResult => ({ code: 1, stdout: '', stderr });
  const runner: CommandRunner = async (file, args) => {
    calls.push([file, ...args].join(' '));
    const v6 = file.startsWith('ip6');
    if (file.endsWith('-save')) return ok(save(v6));
    const tbl = table(v6);
    const [, , op = '', chain = '', ...rest] = args;
    const rule = rest.join(' ');
    const rules = tbl.get(chain);
    switch (op) {
      case '-N':
        if (rules) return fail('iptables: Chain already exists.');
        tbl.set(chain, []);
        return ok();
      case '-F':
        if (!rules) return fail('No chain/target/match by that name.');
        rules.length = 0;
        return ok();
      case '-X':
        if (!rules || rules.length > 0 || [...tbl.values()].some((rs) => rs.some((r) => r.endsWith(`-j ${chain}`)))) {
          return fail('cannot delete chain');
        }
        tbl.delete(chain);
        return ok();
      case '-A':
        if (!rules) return fail('No chain/target/match by that name.');
        rules.push(rule);
        return ok();
      case '-C':
        return rules?.includes(rule) === true ? ok() : fail('Bad rule (does a matching rule exist in that chain?).');
      case '-D': {
        const i = rules?.indexOf(rule) ?? -1;
        if (i < 0) return fail('Bad rule (does a matching rule exist in that chain?).');
        rules!.splice(i, 1);
        return ok();
      }
      default:
        return fail(`unsupported ${op}`);
    }
  };
  return { runner, calls, save };
}

const WALKTHROUGH = printRules({ proxyUid: 0 });

t.test('a fresh apply runs exactly the walkthrough commands', async (t) => {
  const f = fakeIptables();
  const report = await applyRules({ proxyUid: 0 }, { runner: f.runner });
  t.same(report.commands, WALKTHROUGH);
  t.same(captureLines(f.save()), [
    ':PROXY_INIT_REDIRECT - [0:0]',
    ':PROXY_INIT_OUTPUT - [0:0]',
    '-A PREROUTING -j PROXY_INIT_REDIRECT',
    '-A OUTPUT -j PROXY_INIT_OUTPUT',
    '-A PROXY_INIT_REDIRECT -p tcp --match multiport --dports 4190,4191,4567,4568 -j RETURN',
    '-A PROXY_INIT_REDIRECT -p tcp -j REDIRECT --to-port 4143',
    '-A PROXY_INIT_OUTPUT -m owner --uid-owner 0 -j RETURN',
    '-A PROXY_INIT_OUTPUT -o lo -j RETURN',
    '-A PROXY_INIT_OUTPUT -p tcp --match multiport --dports 4567,4568 -j RETURN',
    '-A PROXY_INIT_OUTPUT -p tcp -j REDIRECT --to-port 4140',
  ]);
});

t.test('applying again rebuilds the chains and keeps a single jump', async (t) => {
  const f = fakeIptables();
  await applyRules({ proxyUid: 0 }, { runner: f.runner });
  const first = f.save();
  const second = await applyRules({ proxyUid: 0 }, { runner: f.runner });
  t.equal(f.save(), first, 'identical table');
  t.ok(second.commands.includes('iptables -t nat -F PROXY_INIT_REDIRECT'), 'flushes instead of creating');
  t.notOk(second.commands.some((c) => c.includes('-A PREROUTING') || c.includes('-A OUTPUT')), 'no second jump');

  await applyRules({ proxyUid: 1000, outboundPort: 5140 }, { runner: f.runner });
  t.match(f.save(), /--uid-owner 1000/, 'new settings replace the old rules');
  t.notMatch(f.save(), /--uid-owner 0 /);
  t.equal(captureLines(f.save()).filter((l) => l.startsWith('-A OUTPUT')).length, 1);
});

t.test('remove leaves no trace, tolerates absence and duplicate jumps', async (t) => {
  const f = fakeIptables();
  t.same((await removeRules({}, { runner: f.runner })).commands, [], 'nothing to remove');
  await applyRules({ proxyUid: 0 }, { runner: f.runner });
  await f.runner('iptables', ['-t', 'nat', '-A', 'OUTPUT', '-j', 'PROXY_INIT_OUTPUT']); // a stray duplicate
  const r = await removeRules({}, { runner: f.runner });
  t.same(captureLines(f.save()), []);
  t.same(r.commands, [
    'iptables -t nat -D PREROUTING -j PROXY_INIT_REDIRECT',
    'iptables -t nat -D OUTPUT -j PROXY_INIT_OUTPUT',
    'iptables -t nat -D OUTPUT -j PROXY_INIT_OUTPUT',
    'iptables -t nat -F PROXY_INIT_REDIRECT',
    'iptables -t nat -X PROXY_INIT_REDIRECT',
    'iptables -t nat -F PROXY_INIT_OUTPUT',
    'iptables -t nat -X PROXY_INIT_OUTPUT',
  ]);
});

t.test('ipv6 programs ip6tables too', async (t) => {
  const f = fakeIptables();
  const report = await applyRules({ proxyUid: 0, ipv6: true }, { runner: f.runner });
  t.equal(report.commands.filter((c) => c.startsWith('ip6tables ')).length, WALKTHROUGH.length);
  t.equal(captureLines(f.save(true)).length, 10);
  await removeRules({ ipv6: true }, { runner: f.runner });
  t.same(captureLines(f.save(true)), []);
  t.same(captureLines(f.save(false)), []);
});

t.test('print runs nothing and quotes for the shell', async (t) => {
  t.equal(WALKTHROUGH[0], 'iptables -t nat -N PROXY_INIT_REDIRECT');
  t.equal(WALKTHROUGH.length, 10);
  const v6 = printRules({ proxyUid: 0, ipv6: true });
  t.equal(v6.length, 20);
  t.equal(v6[10], 'ip6tables -t nat -N PROXY_INIT_REDIRECT');
});

t.test('errors are classified', async (t) => {
  const missing: CommandRunner = () => Promise.reject(Object.assign(new Error('spawn iptables-save ENOENT'), { code: 'ENOENT' }));
  await t.rejects(applyRules({ proxyUid: 0 }, { runner: missing }), {
    constructor: IptablesMissingError,
    message: 'iptables-save not found; install the iptables package',
  });

  const wrappedMissing: CommandRunner = async () => ({ code: 1, stdout: '', stderr: 'exec of "iptables-save" failed: No such file or directory\n' });
  await t.rejects(applyRules({ proxyUid: 0 }, { runner: wrappedMissing }), IptablesMissingError);

  const denied: CommandRunner = async (file) => ({
    code: 4,
    stdout: '',
    stderr: `${file} v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)\n`,
  });
  await t.rejects(applyRules({ proxyUid: 0 }, { runner: denied }), {
    constructor: NotRootError,
    message: /^iptables apply needs root \(CAP_NET_ADMIN\); run as root/,
  });
  await t.rejects(removeRules({}, { runner: denied }), { message: /^iptables remove needs root/ });

  const f = fakeIptables();
  const broken: CommandRunner = async (file, args) =>
    args.includes('REDIRECT') ? { code: 2, stdout: '', stderr: "iptables: Couldn't load target `REDIRECT'\n" } : f.runner(file, args);
  await t.rejects(applyRules({ proxyUid: 0 }, { runner: broken }), {
    constructor: IptablesCommandError,
    message: "`iptables -t nat -A PROXY_INIT_REDIRECT -p tcp -j REDIRECT --to-port 4143` failed (exit 2): iptables: Couldn't load target `REDIRECT'",
  });
});
