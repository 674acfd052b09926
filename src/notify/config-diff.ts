/**
 * What changed in an image's config between two digests: the "deployment
 * contract" a Deployment relies on (OpenShift's image-change proposal):
 * exposed ports, env variable NAMES (values can hold secrets and are never
 * read out), entrypoint, cmd, user and labels. Pure: it compares two parsed
 * OCI/Docker image config blobs (`{ config: { ExposedPorts, Env, ... } }`).
 */

/** The child whose config stands for a multi-platform index: linux/amd64, else the first real platform, else the first. One source for notify diffs and the `newest` watch strategy (src/watch/observe.ts). */
export function representativeChild(manifests: unknown): { digest: string } | undefined {
  if (!Array.isArray(manifests)) return undefined;
  const ds = manifests.filter((m): m is { digest: string; platform?: { os?: string; architecture?: string } } => typeof m?.digest === 'string');
  return (
    ds.find((m) => m.platform?.os === 'linux' && m.platform.architecture === 'amd64') ??
    ds.find((m) => m.platform?.os && m.platform.os !== 'unknown') ??
    ds[0]
  );
}

export interface SetChange {
  added: string[];
  removed: string[];
}

export interface ValueChange<T> {
  old: T;
  new: T;
}

export interface ConfigDiff {
  /** True when any of the fields below changed. */
  changed: boolean;
  /** `80/tcp` style keys of `ExposedPorts`. */
  exposedPorts: SetChange;
  /** Names only: `PATH=/usr/bin` counts as `PATH`; a changed value is not reported. */
  envNames: SetChange;
  /** Present only when it differs. */
  entrypoint?: ValueChange<string[] | null>;
  cmd?: ValueChange<string[] | null>;
  user?: ValueChange<string | null>;
  labels: { added: Record<string, string>; removed: Record<string, string>; changed: Record<string, ValueChange<string>> };
}

interface Contract {
  ports: string[];
  env: string[];
  entrypoint: string[] | null;
  cmd: string[] | null;
  user: string | null;
  labels: Record<string, string>;
}

const strings = (v: unknown): string[] | null => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : null);

/** The contract fields of an image config blob (missing or malformed fields read as empty). */
export function contractOf(blob: unknown): Contract {
  const c = (blob && typeof blob === 'object' ? (blob as { config?: unknown }).config : undefined) as Record<string, unknown> | undefined;
  const cfg = c && typeof c === 'object' ? c : {};
  const ports = cfg.ExposedPorts && typeof cfg.ExposedPorts === 'object' ? Object.keys(cfg.ExposedPorts) : [];
  const env = (strings(cfg.Env) ?? []).map((e) => e.split('=', 1)[0]!).filter((n) => n !== '');
  const labels: Record<string, string> = {};
  if (cfg.Labels && typeof cfg.Labels === 'object') for (const [k, v] of Object.entries(cfg.Labels)) if (typeof v === 'string') labels[k] = v;
  const user = typeof cfg.User === 'string' && cfg.User !== '' ? cfg.User : null;
  return { ports: [...new Set(ports)].sort(), env: [...new Set(env)].sort(), entrypoint: strings(cfg.Entrypoint), cmd: strings(cfg.Cmd), user, labels };
}

function setChange(a: string[], b: string[]): SetChange {
  const A = new Set(a);
  const B = new Set(b);
  return { added: b.filter((x) => !A.has(x)), removed: a.filter((x) => !B.has(x)) };
}

const sameList = (a: string[] | null, b: string[] | null): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The contract diff from `oldConfig` to `newConfig` (image config blobs). */
export function diffImageConfigs(oldConfig: unknown, newConfig: unknown): ConfigDiff {
  const a = contractOf(oldConfig);
  const b = contractOf(newConfig);
  const labels: ConfigDiff['labels'] = { added: {}, removed: {}, changed: {} };
  for (const [k, v] of Object.entries(b.labels)) {
    if (!(k in a.labels)) labels.added[k] = v;
    else if (a.labels[k] !== v) labels.changed[k] = { old: a.labels[k]!, new: v };
  }
  for (const [k, v] of Object.entries(a.labels)) if (!(k in b.labels)) labels.removed[k] = v;
  const d: ConfigDiff = { changed: false, exposedPorts: setChange(a.ports, b.ports), envNames: setChange(a.env, b.env), labels };
  if (!sameList(a.entrypoint, b.entrypoint)) d.entrypoint = { old: a.entrypoint, new: b.entrypoint };
  if (!sameList(a.cmd, b.cmd)) d.cmd = { old: a.cmd, new: b.cmd };
  if (a.user !== b.user) d.user = { old: a.user, new: b.user };
  d.changed =
    d.exposedPorts.added.length + d.exposedPorts.removed.length + d.envNames.added.length + d.envNames.removed.length > 0 ||
    d.entrypoint !== undefined ||
    d.cmd !== undefined ||
    d.user !== undefined ||
    Object.keys(labels.added).length + Object.keys(labels.removed).length + Object.keys(labels.changed).length > 0;
  return d;
}
