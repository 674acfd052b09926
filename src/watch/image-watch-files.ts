/**
 * `ferry check-config --resources FILE...`: every ImageWatch in YAML files
 * (multi-document, as `kubectl apply -f` takes them) checked by the rules
 * the watch role applies (image-watch-object.ts). Documents of other kinds
 * are skipped, except those of the ferry.io group (a misspelt kind is a
 * problem, not silence). yaml is loaded only here.
 */
import { readFileSync } from 'node:fs';
import { IMAGE_WATCH_GROUP, IMAGE_WATCH_KIND } from './image-watch-crd.js';
import { parseImageWatch } from './image-watch-object.js';

export interface ResourceFileReport {
  file: string;
  /** 1-based position of the document in its file. */
  document: number;
  /** `namespace/name` when the document names one. */
  object: string | undefined;
  problems: string[];
}

export interface ResourceCheck {
  reports: ResourceFileReport[];
  /** ImageWatch documents checked. */
  checked: number;
  /** Documents of other kinds, skipped. */
  skipped: number;
}

function isOurs(doc: unknown): boolean {
  const o = doc as { apiVersion?: unknown; kind?: unknown };
  return o.kind === IMAGE_WATCH_KIND || (typeof o.apiVersion === 'string' && o.apiVersion.split('/')[0] === IMAGE_WATCH_GROUP);
}

/** Checks each file; `reports` has one entry per document with problems (unreadable files and YAML errors included). */
export async function checkImageWatchFiles(files: readonly string[]): Promise<ResourceCheck> {
  const { parseAllDocuments } = await import('yaml');
  const out: ResourceCheck = { reports: [], checked: 0, skipped: 0 };
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      out.reports.push({ file, document: 0, object: undefined, problems: [`cannot read: ${(e as Error).message}`] });
      continue;
    }
    parseAllDocuments(text).forEach((doc, i) => {
      const document = i + 1;
      if (doc.errors.length) {
        out.reports.push({ file, document, object: undefined, problems: doc.errors.map((e) => `YAML: ${e.message.split('\n')[0]}`) });
        return;
      }
      const obj = doc.toJS() as unknown;
      if (obj === null || obj === undefined) return; // an empty document (a trailing ---)
      if (typeof obj !== 'object' || Array.isArray(obj)) {
        out.reports.push({ file, document, object: undefined, problems: ['not a Kubernetes object (a mapping with apiVersion and kind)'] });
        return;
      }
      if (!isOurs(obj)) {
        out.skipped++;
        return;
      }
      out.checked++;
      const parsed = parseImageWatch(obj);
      if (parsed.ok) return;
      const m = (obj as { metadata?: { name?: unknown; namespace?: unknown } }).metadata;
      const object = typeof m?.name === 'string' ? `${typeof m.namespace === 'string' ? m.namespace : 'default'}/${m.name}` : undefined;
      out.reports.push({ file, document, object, problems: parsed.problems });
    });
  }
  return out;
}

/** Lines for stderr: `FILE: document N (ImageWatch ns/name): problem`. */
export function describeResourceCheck(c: ResourceCheck): string[] {
  const lines: string[] = [];
  for (const r of c.reports) {
    const where = r.document ? `${r.file}: document ${r.document}${r.object ? ` (ImageWatch ${r.object})` : ''}` : r.file;
    for (const p of r.problems) lines.push(`${where}: ${p}`);
  }
  const bad = c.reports.length;
  lines.push(`${c.checked} ImageWatch object${c.checked === 1 ? '' : 's'} checked${c.skipped ? `, ${c.skipped} document${c.skipped === 1 ? '' : 's'} of other kinds skipped` : ''}: ${bad ? `${bad} with problems` : 'all valid'}`);
  return lines;
}
