// Reads manifests from files and directories (multi-document YAML) and applies them in order, as `kubectl apply -f` would.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { messageOf } from '../../core/errors.js';
import type { ManifestProblem } from '../model/types.js';
import { readDocument } from './resource.js';
import type { ManifestResource, ManifestSet } from './types.js';

const YAML_FILE = /\.ya?ml$/i;

/**
 * The files `paths` stand for, in apply order: a file as given, a directory's `*.yaml`/`*.yml`
 * files sorted by name (not recursive, like `kubectl apply -f dir`). Unreadable paths and empty
 * directories are reported.
 */
export function manifestFiles(paths: readonly string[]): { files: string[]; problems: ManifestProblem[] } {
  const files: string[] = [];
  const problems: ManifestProblem[] = [];
  for (const p of paths) {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch (err) {
      problems.push({ severity: 'error', file: p, message: `cannot read: ${messageOf(err)}` });
      continue;
    }
    if (!isDir) {
      files.push(p);
      continue;
    }
    const entries = readdirSync(p, { withFileTypes: true })
      .filter((e) => e.isFile() && YAML_FILE.test(e.name))
      .map((e) => e.name)
      .sort();
    if (entries.length === 0) problems.push({ severity: 'warning', file: p, message: 'directory holds no *.yaml or *.yml files' });
    files.push(...entries.map((e) => path.join(p, e)));
  }
  return { files, problems };
}

/** Parses one file's text; a document with a YAML syntax error is reported and skipped, the others are kept. */
export function parseManifestText(text: string, file: string, nextOrder: () => number, problems: ManifestProblem[]): ManifestResource[] {
  const out: ManifestResource[] = [];
  // An empty stream is an empty array too.
  const docs = parseAllDocuments(text, { prettyErrors: true });
  docs.forEach((doc, i) => {
    const document = i + 1;
    if (doc.errors.length > 0) {
      const first = doc.errors[0];
      const pos = first?.linePos?.[0];
      const where = pos === undefined ? '' : ` (line ${pos.line}, column ${pos.col})`;
      const reason = (first?.message.split('\n')[0] ?? 'unreadable').replace(/ at line \d+, column \d+:?$/, '');
      problems.push({ severity: 'error', file, resource: `document ${document}`, message: `YAML syntax error${where}: ${reason}` });
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      problems.push({ severity: 'error', file, resource: `document ${document}`, message: `YAML error: ${messageOf(err)}` });
      return;
    }
    out.push(...readDocument(value, { file, document, nextOrder, problems }));
  });
  return out;
}

function keyOf(r: ManifestResource): string {
  return `${r.kind}/${r.meta.namespace}/${r.meta.name}`;
}

function sameSpec(a: ManifestResource, b: ManifestResource): boolean {
  const strip = (r: ManifestResource): string => JSON.stringify({ ...r, source: undefined });
  return strip(a) === strip(b);
}

/**
 * Applies resources in order: a later resource with the same kind, namespace and name replaces
 * the earlier one but keeps its place (an update keeps its creation time). A replacement that
 * differs is reported, since two files disagreeing is usually a mistake.
 */
export function applyInOrder(resources: readonly ManifestResource[], problems: ManifestProblem[]): ManifestResource[] {
  const byKey = new Map<string, ManifestResource>();
  for (const r of resources) {
    const key = keyOf(r);
    const prior = byKey.get(key);
    if (prior === undefined) {
      byKey.set(key, r);
      continue;
    }
    if (!sameSpec(prior, r)) {
      const ns = r.meta.namespace === '' ? '' : `${r.meta.namespace}/`;
      problems.push({
        severity: 'warning',
        file: r.source.file,
        resource: `${r.kind} ${ns}${r.meta.name}`,
        message: `replaces the definition in ${prior.source.file} (document ${prior.source.document}), as a later kubectl apply would`,
      });
    }
    byKey.set(key, Object.freeze({ ...r, source: Object.freeze({ ...r.source, order: prior.source.order }) }));
  }
  return [...byKey.values()].sort((a, b) => a.source.order - b.source.order);
}

/** Everything in `texts` (file name → YAML), parsed and applied in the given order. */
export function parseManifests(texts: readonly { readonly file: string; readonly text: string }[]): ManifestSet {
  const problems: ManifestProblem[] = [];
  let order = 0;
  const nextOrder = (): number => order++;
  const all = texts.flatMap((t) => parseManifestText(t.text, t.file, nextOrder, problems));
  const resources = applyInOrder(all, problems);
  return Object.freeze({ resources: Object.freeze(resources), problems: Object.freeze(problems) });
}

/** Reads and parses every manifest `paths` stand for (files and directories). */
export function loadManifests(paths: readonly string[]): ManifestSet {
  const { files, problems } = manifestFiles(paths);
  const texts: { file: string; text: string }[] = [];
  for (const file of files) {
    try {
      texts.push({ file, text: readFileSync(file, 'utf8') });
    } catch (err) {
      problems.push({ severity: 'error', file, message: `cannot read: ${messageOf(err)}` });
    }
  }
  const parsed = parseManifests(texts);
  return Object.freeze({ resources: parsed.resources, problems: Object.freeze([...problems, ...parsed.problems]) });
}
