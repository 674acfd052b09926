/**
 * A watch as the rest of src/watch uses it: the config entry plus its id,
 * parsed upstream repository and where it came from. Config-file watches and
 * API-defined ones (stored in Redis) are merged here; the file wins on an id
 * clash.
 */
import { createHash } from 'node:crypto';
import picomatch from 'picomatch';
import { resolveConfig, type WatchConfig } from '../config/index.js';
import { describeError, isFerryError } from '../errors.js';
import { parseReference, repositoryOf } from '../reference/index.js';
import { watchError } from './errors.js';
import { compileRange, compileTagFilter } from './strategy/index.js';

export type WatchSource = 'config' | 'api' | 'resource';

/** The ImageWatch object (imagewatches.ferry.io) a `resource` watch comes from. */
export interface WatchResource {
  namespace: string;
  name: string;
  uid?: string | undefined;
  /** metadata.generation: written back as status.observedGeneration. */
  generation?: number | undefined;
}

/** A watch defined by an ImageWatch: its spec as a `watch:` entry (id `<namespace>.<name>`) and the object it came from. */
export interface ResourceWatch {
  config: WatchConfig;
  resource: WatchResource;
}

export interface ResolvedWatch {
  id: string;
  source: WatchSource;
  /** The entry as written (file or API), id included when it was given. */
  config: WatchConfig;
  /** `host/path` upstream, e.g. `docker.io/library/nginx`. */
  repository: string;
  domain: string;
  path: string;
  /** `digest` strategy: the followed tag (config `tag`, else the image's tag, else `latest`). */
  tag: string | undefined;
  /** Set for `resource` watches: the ImageWatch it reconciles. */
  resource?: WatchResource | undefined;
}

const ID_RE = /^[A-Za-z0-9_.-]+$/;

function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 80);
}

/**
 * Default id: readable slug of the repository and strategy/tag plus a short
 * hash of image, strategy, tag and constraint (so two watches of one image
 * differ). Editing filters, schedule or keep keeps the id; give `id`
 * explicitly to keep history across any edit.
 */
export function deriveWatchId(w: WatchConfig): string {
  const r = parseReference(w.image);
  const tag = w.tag ?? r.tag;
  const what = w.strategy === 'digest' ? (tag ?? 'latest') : w.strategy;
  const h = createHash('sha256')
    .update(JSON.stringify([repositoryOf(r), w.strategy, w.strategy === 'digest' ? (tag ?? 'latest') : '', w.constraint ?? '']))
    .digest('hex')
    .slice(0, 6);
  return `${slug(`${repositoryOf(r)}-${what}`)}-${h}`;
}

export function resolveWatch(w: WatchConfig, source: WatchSource, resource?: WatchResource): ResolvedWatch {
  const r = parseReference(w.image);
  const id = w.id ?? deriveWatchId(w);
  return {
    id,
    source,
    config: w,
    repository: repositoryOf(r),
    domain: r.domain,
    path: r.path,
    tag: w.strategy === 'digest' ? (w.tag ?? r.tag ?? 'latest') : w.tag,
    ...(resource ? { resource } : {}),
  };
}

/** The upstream ref of one tag of the watched repository: `host/path:tag`. */
export function tagRef(w: ResolvedWatch, tag: string): string {
  return `${w.repository}:${tag}`;
}

export interface MergeResult {
  watches: ResolvedWatch[];
  /** Entries that could not be used (bad image, duplicate id), for logs. */
  problems: string[];
}

/** Config-file watches first (they win on an id clash), then API-defined ones, then ImageWatch resources. */
export function mergeWatches(fromConfig: readonly WatchConfig[], fromApi: readonly WatchConfig[], fromResources: readonly ResourceWatch[] = []): MergeResult {
  const out = new Map<string, ResolvedWatch>();
  const problems: string[] = [];
  const where = (w: WatchConfig, source: WatchSource, i: number, res?: WatchResource): string =>
    source === 'config' ? `watch.${i}` : source === 'api' ? `API watch ${w.id ?? i}` : `ImageWatch ${res?.namespace}/${res?.name}`;
  const add = (w: WatchConfig, source: WatchSource, i: number, res?: WatchResource) => {
    let rw: ResolvedWatch;
    try {
      rw = resolveWatch(w, source, res);
    } catch (e) {
      problems.push(`${where(w, source, i, res)}: ${describeError(e)}`);
      return;
    }
    if (out.has(rw.id)) {
      problems.push(`${where(w, source, i, res)} id "${rw.id}" is used by another ${out.get(rw.id)!.source} watch; ignored`);
      return;
    }
    out.set(rw.id, rw);
  };
  fromConfig.forEach((w, i) => add(w, 'config', i));
  fromApi.forEach((w, i) => add(w, 'api', i));
  fromResources.forEach((r, i) => add(r.config, 'resource', i, r.resource));
  return { watches: [...out.values()], problems };
}

/**
 * Validates a watch sent to the API: the config schema and checks
 * (`resolveConfig`, the same rules as the file), then what only src/watch
 * knows (image reference, semver range, ignore globs). Throws
 * FERRY_ERR_WATCH_INVALID listing every problem.
 */
export function validateApiWatch(id: string, body: unknown): WatchConfig {
  const problems: string[] = [];
  if (!ID_RE.test(id)) problems.push(`id "${id}" must match ${ID_RE.source}`);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw watchError('INVALID', 'the body must be a JSON object describing one watch', { problems: ['body is not an object'] });
  }
  const w = { ...(body as Record<string, unknown>) };
  if (w.id !== undefined && w.id !== id) problems.push(`body id "${String(w.id)}" differs from the URL id "${id}"`);
  w.id = id;
  try {
    resolveConfig({ watch: [w] }, {}, 'API watch');
  } catch (e) {
    const listed = isFerryError(e) && Array.isArray(e.details?.problems) ? (e.details.problems as string[]) : [describeError(e)];
    problems.push(...listed.map((p) => p.replace(/^watch\.0\./, '').replace(/^watch\.0:/, 'watch:')));
  }
  const c = w as unknown as WatchConfig;
  if (typeof c.image === 'string') {
    try {
      parseReference(c.image);
    } catch (e) {
      problems.push(`image: ${describeError(e)}`);
    }
  }
  if (problems.length === 0) {
    for (const check of [
      () => compileRange(c.constraint, c.prerelease),
      () => compileTagFilter(c),
      () => (c.ignoreTags ?? []).forEach((g) => picomatch.makeRe(g)),
    ]) {
      try {
        check();
      } catch (e) {
        problems.push(describeError(e));
      }
    }
  }
  if (problems.length) throw watchError('INVALID', `invalid watch "${id}": ${problems.join('; ')}`, { problems });
  return c;
}
