/**
 * The registry side of a poll: list tags, gather what the strategy needs,
 * select (pure), then HEAD the selected tag for its digest. Config blobs are
 * fetched only for `newest`, and their answers cached (by tag, or by digest
 * with `cacheBy: digest`). Requests per registry are rate-limited inside the
 * engine.
 *
 * An unchanged poll costs (test/watch/unchanged-cost.test.ts): `digest` one
 * manifest HEAD; `semver`, `alphabetical` and `newest` one `tags/list` page
 * per 1,000 tags plus that HEAD (`created` from the cache); `newest` with
 * `cacheBy: digest` the list plus one HEAD per allowed tag, the selected
 * tag's included (not asked twice).
 */
import { pool } from '../async/index.js';
import { representativeChild } from '../notify/index.js';
import { MT } from '../registry/index.js';
import type { ResolvedWatch } from './definition.js';
import { compileTagFilter, selectTag, type Selection, type TagCreated } from './strategy/index.js';

/** What src/watch needs from the registry engine (RegistryEngine implements it). */
export interface WatchEngine {
  listTags(repository: string, signal?: AbortSignal): Promise<string[]>;
  resolveDigest(ref: string, signal?: AbortSignal): Promise<{ digest: string; mediaType: string; size: number } | undefined>;
  getManifest(ref: string, signal?: AbortSignal): Promise<{ bytes: Buffer; digest: string; mediaType: string; json: any }>;
  /** Puts manifest bytes under a tag (the alias, alias.ts). */
  putManifest(ref: string, bytes: Buffer, mediaType: string, signal?: AbortSignal): Promise<{ digest: string }>;
  getBlobJson(repository: string, digest: string, signal?: AbortSignal): Promise<any>;
  deleteManifest(repository: string, digest: string, signal?: AbortSignal): Promise<boolean>;
}

/** Cached registry answers of one watch (Redis hash in production). */
export interface AnswerCache {
  get<T>(fields: string[]): Promise<(T | undefined)[]>;
  set(entries: [string, unknown][]): Promise<void>;
  /** Drop every field not in `keep`. */
  prune(keep: Set<string>): Promise<void>;
}

type HeadAnswer = { digest: string; mediaType: string; size: number };

interface CreatedAnswer {
  digest: string;
  created: string | null;
}

export interface Observation {
  selection: Selection;
  /** The selected tag and its digest now, when a tag was selected and exists. */
  selected?: { tag: string; digest: string; mediaType: string };
  /** Registry requests this poll made for `created` (0 when all came from the cache). */
  configFetches: number;
  /** The upstream tag list this poll read (undefined for `digest`, which lists nothing): the alias's conflict check. */
  tags?: string[] | undefined;
}


async function fetchCreated(engine: WatchEngine, repository: string, ref: string, signal: AbortSignal | undefined): Promise<CreatedAnswer> {
  const top = await engine.getManifest(ref, signal);
  let image = top;
  if (top.mediaType === MT.OCI_INDEX || top.mediaType === MT.DOCKER_LIST || Array.isArray(top.json?.manifests)) {
    const child = representativeChild(top.json?.manifests);
    if (!child) return { digest: top.digest, created: null };
    image = await engine.getManifest(`${repository}@${child.digest}`, signal);
  }
  const cfg = image.json?.config?.digest;
  if (typeof cfg !== 'string') return { digest: top.digest, created: null };
  const blob = await engine.getBlobJson(repository, cfg, signal);
  return { digest: top.digest, created: typeof blob?.created === 'string' ? blob.created : null };
}

/** `fn` over `items`, 4 at a time through the one bounded pool, results in order. */
async function mapLimit<T, R>(items: readonly T[], n: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  await pool(items.map((item, index) => ({ item, index })), n, undefined, async ({ item, index }) => {
    out[index] = await fn(item, index);
  });
  return out;
}

/**
 * `created` of every tag. cacheBy `tag` (default): one cached answer per tag,
 * trusted until the selected tag is seen at another digest (tags assumed
 * immutable). cacheBy `digest` (mutable tags): HEAD every tag, cache per
 * digest (content-addressed, so never stale).
 */
async function describeTags(
  engine: WatchEngine,
  w: ResolvedWatch,
  tags: string[],
  cache: AnswerCache,
  signal: AbortSignal | undefined,
  counter: { fetches: number },
  skipCache = false,
): Promise<{ items: (TagCreated & { digest?: string })[]; fields: string[]; heads: Map<string, HeadAnswer> }> {
  const byDigest = w.config.cacheBy === 'digest';
  const fetchOne = async (ref: string): Promise<CreatedAnswer> => {
    counter.fetches++;
    return fetchCreated(engine, w.repository, ref, signal);
  };
  if (!byDigest) {
    const fields = tags.map((t) => `tag:${t}`);
    const cached = skipCache ? [] : await cache.get<CreatedAnswer>(fields);
    const fresh: [string, unknown][] = [];
    const items = await mapLimit(tags, 4, async (tag, i) => {
      const hit = cached[i];
      const a = hit ?? (await fetchOne(`${w.repository}:${tag}`));
      if (!hit) fresh.push([`tag:${tag}`, a]);
      return { tag, created: a.created ?? undefined, digest: a.digest };
    });
    await cache.set(fresh);
    return { items, fields, heads: new Map() };
  }
  const heads = await mapLimit(tags, 4, (tag) => engine.resolveDigest(`${w.repository}:${tag}`, signal));
  const answered = new Map<string, HeadAnswer>();
  tags.forEach((tag, i) => heads[i] && answered.set(tag, heads[i]!));
  const digests = heads.map((h) => h?.digest);
  const fields = digests.map((d) => `digest:${d ?? ''}`);
  const cached = skipCache ? [] : await cache.get<{ created: string | null }>(fields);
  const fresh: [string, unknown][] = [];
  const items = await mapLimit(tags, 4, async (tag, i) => {
    const d = digests[i];
    if (!d) return { tag }; // deleted since the listing
    let hit = cached[i];
    if (!hit) {
      hit = { created: (await fetchOne(`${w.repository}@${d}`)).created };
      fresh.push([`digest:${d}`, hit]);
    }
    return { tag, created: hit.created ?? undefined, digest: d };
  });
  await cache.set(fresh);
  return { items, fields: fields.filter((_f, i) => digests[i]), heads: answered };
}

export async function observe(engine: WatchEngine, w: ResolvedWatch, cache: AnswerCache, signal?: AbortSignal): Promise<Observation> {
  const c = w.config;
  const counter = { fetches: 0 };
  const base = { strategy: c.strategy, tag: w.tag, constraint: c.constraint, prerelease: c.prerelease, allowTags: c.allowTags, ignoreTags: c.ignoreTags };
  let tags: string[] = [];
  let created: (TagCreated & { digest?: string })[] = [];
  // cacheBy digest: every allowed tag was just HEADed; the selected one's answer is reused, not asked twice.
  let headed = new Map<string, HeadAnswer>();
  if (c.strategy !== 'digest') tags = await engine.listTags(w.repository, signal);
  const listed = c.strategy !== 'digest' ? { tags } : {};
  if (c.strategy === 'newest') {
    const allowed = compileTagFilter(c);
    const described = await describeTags(engine, w, tags.filter(allowed), cache, signal, counter);
    created = described.items;
    headed = described.heads;
    await cache.prune(new Set(described.fields));
  }
  for (let round = 0; ; round++) {
    const selection = selectTag({ ...base, tags, created });
    if (!selection.tag) return { selection, configFetches: counter.fetches, ...listed };
    const head = headed.get(selection.tag) ?? (await engine.resolveDigest(`${w.repository}:${selection.tag}`, signal));
    if (!head) {
      return {
        selection: { ...selection, tag: undefined, reason: `${selection.tag} was selected but ${w.repository}:${selection.tag} does not exist (deleted meanwhile?)` },
        configFetches: counter.fetches,
        ...listed,
      };
    }
    // newest + cacheBy tag: the selected tag moved since its `created` was cached -> refresh it and choose again.
    const cachedDigest = created.find((x) => x.tag === selection.tag)?.digest;
    if (c.strategy === 'newest' && c.cacheBy !== 'digest' && cachedDigest && cachedDigest !== head.digest && round < 3) {
      const [again] = (await describeTags(engine, w, [selection.tag], cache, signal, counter, true)).items;
      created = created.map((x) => (x.tag === again?.tag ? again : x));
      continue;
    }
    return { selection, selected: { tag: selection.tag, digest: head.digest, mediaType: head.mediaType }, configFetches: counter.fetches, ...listed };
  }
}
