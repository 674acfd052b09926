/**
 * Server-side printing: the `meta.k8s.io/v1 Table` kubectl asks for (`Accept: ...;as=Table;v=v1;g=meta.k8s.io`),
 * built the way the apiextensions server builds it for a custom resource: a Name column, then the version's
 * additionalPrinterColumns (Age alone when it declares none), each cell read by its JSONPath and typed by
 * its column (`date` cells are printed as ages, like "5m2s").
 */
import type { KubeObject, PrinterColumn, ResourceType } from './store.js';

/** Does an Accept header ask for a v1 Table? (kubectl also offers v1beta1 and plain JSON: v1 is enough.) */
export function wantsTable(accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((part) => {
    const params = new Map(part.split(';').slice(1).map((p) => p.trim().split('=') as [string, string]));
    return params.get('as') === 'Table' && params.get('g') === 'meta.k8s.io' && params.get('v') === 'v1';
  });
}

/** Types the stand-in prints as Tables: custom resources, and any type that declares printer columns. */
export const printsTables = (t: ResourceType): boolean => Boolean(t.crd || t.printerColumns);

const AGE: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };
const NAME_COLUMN = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description: 'Name must be unique within a namespace. More info: http://kubernetes.io/docs/user-guide/identifiers#names',
  priority: 0,
};

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export interface TableOptions {
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
  /** `?includeObject=`: what each row's `object` is (default Metadata, a PartialObjectMetadata). */
  includeObject?: string;
}

export function toTable(t: ResourceType, items: KubeObject[], o: TableOptions): KubeObject {
  const columns = t.printerColumns && t.printerColumns.length > 0 ? t.printerColumns : [AGE];
  const include = (['None', 'Metadata', 'Object'].includes(o.includeObject ?? '') ? o.includeObject : 'Metadata') as IncludeObject;
  const metadata: Record<string, unknown> = { resourceVersion: o.resourceVersion };
  if (o.continue) Object.assign(metadata, { continue: o.continue, remainingItemCount: o.remainingItemCount });
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata,
    columnDefinitions: [
      NAME_COLUMN,
      ...columns.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: c.description ?? '', priority: c.priority ?? 0 })),
    ],
    rows: items.map((item) => ({
      cells: [item.metadata?.name ?? '', ...columns.map((c) => cell(c, item))],
      ...(include === 'None' ? {} : { object: include === 'Object' ? item : partialMetadata(item) }),
    })),
  };
}

function partialMetadata(o: KubeObject): KubeObject {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
}

function cell(c: PrinterColumn, o: KubeObject): unknown {
  const value = jsonPath(o, c.jsonPath)[0];
  if (value === undefined || value === null) return null;
  switch (c.type) {
    case 'string':
      return typeof value === 'string' ? value : JSON.stringify(value);
    case 'integer':
      return typeof value === 'number' ? Math.trunc(value) : null;
    case 'number':
      return typeof value === 'number' ? value : null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'date': {
      if (typeof value !== 'string') return null;
      const at = Date.parse(value);
      return Number.isNaN(at) ? '<invalid>' : humanDuration(Date.now() - at);
    }
    default:
      return null;
  }
}

/**
 * The JSONPath subset CRD printer columns use: `.a.b`, `.a[0]`, `.a[*]`, `['a.b']`, and filters
 * `[?(@.type=="Ready")]` (`==` / `!=` against a quoted string, a number or true/false). Every match, in order.
 */
export function jsonPath(root: unknown, path: string): unknown[] {
  let p = path.trim();
  if (p.startsWith('{') && p.endsWith('}')) p = p.slice(1, -1).trim();
  if (p.startsWith('$')) p = p.slice(1);
  let current: unknown[] = [root];
  const re = /\.([^.[\]]+)|\[\s*(\d+)\s*\]|\[\s*\*\s*\]|\[\s*'([^']*)'\s*\]|\[\s*"([^"]*)"\s*\]|\[\?\(\s*@((?:\.[^.=!)\s]+)+)\s*(==|!=)\s*("[^"]*"|'[^']*'|[^)\s]+)\s*\)\]/y;
  let pos = 0;
  while (pos < p.length) {
    re.lastIndex = pos;
    const m = re.exec(p);
    if (!m) return []; // outside the subset: no value, as a bad path is on the real server
    pos = re.lastIndex;
    const [, key, index, quoted1, quoted2, filterPath, op, literal] = m;
    const field = key ?? quoted1 ?? quoted2;
    const next: unknown[] = [];
    for (const v of current) {
      if (field !== undefined) {
        if (isRecord(v) && field in v) next.push(v[field]);
      } else if (index !== undefined) {
        if (Array.isArray(v) && Number(index) < v.length) next.push(v[Number(index)]);
      } else if (filterPath !== undefined) {
        if (!Array.isArray(v)) continue;
        const want = parseLiteral(literal!);
        for (const el of v) {
          const got = jsonPath(el, filterPath)[0];
          if ((got === want) === (op === '==')) next.push(el);
        }
      } else if (Array.isArray(v)) next.push(...v);
      else if (isRecord(v)) next.push(...Object.values(v));
    }
    current = next;
  }
  return current;
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function parseLiteral(s: string): unknown {
  if (/^(["']).*\1$/.test(s)) return s.slice(1, -1);
  if (s === 'true' || s === 'false') return s === 'true';
  const n = Number(s);
  return Number.isNaN(n) ? s : n;
}

/** k8s.io/apimachinery/pkg/util/duration.HumanDuration: how kubectl and the server print ages. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  const withRest = (big: number, unit: string, rest: number, restUnit: string): string => (rest === 0 ? `${big}${unit}` : `${big}${unit}${rest}${restUnit}`);
  if (minutes < 10) return withRest(minutes, 'm', seconds % 60, 's');
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return withRest(hours, 'h', minutes % 60, 'm');
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 8) return withRest(days, 'd', hours % 24, 'h');
  if (hours < 24 * 365 * 2) return `${days}d`;
  if (hours < 24 * 365 * 8) return withRest(Math.floor(days / 365), 'y', days % 365, 'd');
  return `${Math.floor(days / 365)}y`;
}
