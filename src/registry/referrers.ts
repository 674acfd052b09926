/**
 * Referrers: discovery upstream and byte-for-byte recursive copy into the
 * mirror (signatures, SBOMs, attestations of the copied digests).
 *
 * Discovery, per digest of the upstream repository:
 *  - the OCI 1.1 referrers API `GET /v2/<name>/referrers/<digest>` (an OCI
 *    index; `?artifactType=` when exactly one type is wanted, filtered here
 *    anyway). A 404 means the registry has no API (a registry with the API
 *    answers 200 with an empty index for an unknown digest), remembered for
 *    the repository for the rest of the call, so it is asked once;
 *  - without the API, the referrers tag schema fallback: tag `sha256-<hex>`
 *    holding an index of referrer descriptors;
 *  - cosign's legacy tags `sha256-<hex>.sig`, `.att`, `.sbom`.
 *  Which tags exist is learnt from ONE `tags/list` of the repository per call
 *  (all pages), so a digest without referrers costs at most the API request.
 *  A call may take more digests `later` (the worker starts with the source
 *  digest while the image's blobs move and hands over the children once the
 *  copy knows them, src/worker/referrer-step.ts): they share that tags/list
 *  and everything else learnt in the call.
 *
 * Copy, per referrer found (and again for its own referrers, depth- and
 * count-bounded): GET by digest (verified), HEAD in the mirror (present:
 * nothing moves), else its blobs through BlobTransfer (skip / mount /
 * verified stream) and a PUT by digest; a cosign tag is PUT under the same
 * tag. When the mirror's PUT answer has no `OCI-Subject` header and the
 * manifest has a `subject`, the mirror's fallback tag `sha256-<subject hex>`
 * is maintained read-modify-write (indexlock below).
 *
 * The upstream is untrusted: descriptors are shape- and digest-checked, tags
 * come from tags/list only when they pass the tag grammar, manifests are
 * size-bounded (manifest.ts), and the number of referrers per call is bounded.
 */
import { pool } from '../async/index.js';
import { FerryError } from '../errors.js';
import { pullScope, pushScope } from './auth.js';
import { Progress } from './blobs.js';
import type { CopyDeps } from './copy.js';
import { registryError, repoCtx } from './errors.js';
import { blobsOf, descriptorShapeProblem, isIndexType, MAX_MANIFEST_PUSH_BYTES, MAX_MANIFEST_READ_BYTES, MT, type Descriptor } from './manifest.js';
import { fetchManifest, headManifest, listTags, manifestTooLarge, nextLink, retryLinkReadRace, type FetchedManifest, type ManifestInfo } from './manifest-io.js';
import { checkDigest, checkRepository, digestProblem, manifestPath, tagProblem } from './paths.js';
import type { RegistryRef } from './ref.js';
import { updateFallbackIndex, type ReferrerDescriptor } from './referrers-index.js';

export type ReferrerVia = 'api' | 'fallback-tag' | 'cosign-tag';

export interface CopyReferrersOptions {
  /** Upstream repository (`host/path`, a tag or digest on it is ignored). */
  src: string;
  /** Mirror repository (`host/path`). */
  dst: string;
  /** Digests whose referrers are wanted: the top digest and the children copied. */
  digests: string[];
  /**
   * More digests known only later (an image copy's children and filtered
   * index, src/worker/referrer-step.ts): taken once `digests` are done and it
   * resolves, in the SAME call (one tags/list, the API and mirror state
   * learnt, the referrer bound and de-duplication shared). A rejection (the
   * copy failed) fails the call; so does an abort while waiting for it.
   */
  later?: Promise<string[]>;
  /** Only referrers of these artifact types (at every depth); undefined = all. */
  artifactTypes?: string[];
  signal?: AbortSignal;
  /** Referrers of referrers, levels (default 4). */
  maxDepth?: number;
  /** Referrers per call at most (default 256); more is an error. */
  maxReferrers?: number;
}

export interface FoundReferrer {
  digest: string;
  artifactType: string;
  via: ReferrerVia;
  /** The digest it refers to. */
  subject: string;
  /** The cosign tag, for via 'cosign-tag'. */
  tag?: string;
  /** 0 for referrers of `digests`, 1 for their referrers, ... */
  depth: number;
  /** False when the mirror already held it (nothing was pushed). */
  copied: boolean;
}

export interface CopyReferrersResult {
  /** Referrer manifests pushed to the mirror (not already there). */
  copied: number;
  /** Registry requests this call sent (upstream + mirror), filled by the engine. */
  requests: number;
  found: FoundReferrer[];
}

export const COSIGN_SUFFIXES = ['.sig', '.att', '.sbom'] as const;
export const DEFAULT_MAX_REFERRER_DEPTH = 4;
export const DEFAULT_MAX_REFERRERS = 256;
const DISCOVERY_CONCURRENCY = 4;
const COPY_CONCURRENCY = 4;
const MAX_REFERRER_PAGES = 16;

/** Config media types that say nothing about an artifact's kind. */
const GENERIC_CONFIG = new Set(['application/vnd.oci.image.config.v1+json', 'application/vnd.docker.container.image.v1+json', 'application/vnd.oci.empty.v1+json']);

/**
 * Artifact type of a referrer manifest: `artifactType`, else a config media
 * type that names one (OCI 1.1 rule), else the first layer's media type
 * (cosign's signatures: `application/vnd.dev.cosign.simplesigning.v1+json`,
 * attestations: `application/vnd.dsse.envelope.v1+json`), else the config's.
 */
export function artifactTypeOf(json: any): string {
  if (typeof json?.artifactType === 'string' && json.artifactType) return json.artifactType;
  const cfg = typeof json?.config?.mediaType === 'string' ? json.config.mediaType : '';
  if (cfg && !GENERIC_CONFIG.has(cfg)) return cfg;
  const first = Array.isArray(json?.layers) ? json.layers[0]?.mediaType : undefined;
  if (typeof first === 'string' && first) return first;
  return cfg || 'application/octet-stream';
}

/** `sha256:<hex>` -> `sha256-<hex>` (the fallback tag; cosign appends `.sig`...). */
export const fallbackTagOf = (digest: string): string => digest.replace(':', '-');

type Repo = { host: string; repository: string };

/** A referrer found, not yet fetched. */
interface Candidate {
  subject: string;
  via: ReferrerVia;
  depth: number;
  /** Known from an index (API or fallback tag); absent for cosign tags. */
  desc?: ReferrerDescriptor;
  tag?: string;
  /** Already fetched (cosign tags are read by tag). */
  manifest?: FetchedManifest;
}

interface Discovery {
  /** Upstream tags, or undefined when tags/list was refused (then tags are probed). */
  tags: Set<string> | undefined;
  /** False once the upstream answered 404 to the referrers API. */
  api: boolean;
  /** True once a level was asked for (the API's answer, if any, is known). */
  apiTried?: boolean;
}

/** `p`, or the abort reason as soon as `signal` aborts (waiting for `later`). */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

export async function copyReferrers(deps: CopyDeps, src: Repo, dst: Repo, opts: CopyReferrersOptions, signal: AbortSignal): Promise<CopyReferrersResult> {
  checkRepository(src);
  checkRepository(dst);
  const maxDepth = opts.maxDepth ?? DEFAULT_MAX_REFERRER_DEPTH;
  const maxReferrers = opts.maxReferrers ?? DEFAULT_MAX_REFERRERS;
  const wanted = opts.artifactTypes && opts.artifactTypes.length > 0 ? new Set(opts.artifactTypes) : undefined;
  const apiFilter = opts.artifactTypes?.length === 1 ? opts.artifactTypes[0] : undefined;
  // handled at once: a rejection while the first digests are still being walked is not an unhandled one
  const later = opts.later?.then(
    (digests) => ({ digests }),
    (err: unknown) => ({ err }),
  );
  const disc: Discovery = { tags: await upstreamTags(deps, src, signal), api: true };
  const mirror = new MirrorState(deps, dst);
  const found: FoundReferrer[] = [];
  /** Digests whose referrers were (or are being) asked for. */
  const queued = new Set<string>();
  /** Referrers taken (digest, or cosign tag). */
  const seen = new Set<string>();
  let copied = 0;
  const take = (digests: string[]): string[] => {
    const out: string[] = [];
    for (const d of digests) {
      const x = checkDigest(d, src, 'caller');
      if (!queued.has(x)) {
        queued.add(x);
        out.push(x);
      }
    }
    return out;
  };

  /** Referrers of `start` (depth 0) and theirs, level after level. */
  const walk = async (start: string[]): Promise<void> => {
    let level = start;
    for (let depth = 0; depth <= maxDepth && level.length > 0; depth++) {
      const one = (d: string, s: AbortSignal) => discover(deps, src, d, depth, disc, apiFilter, s);
      // the first digest alone while the API is untried: a 404 then spares the others' API requests
      const first = depth === 0 && disc.api && disc.apiTried !== true ? [await one(level[0]!, signal)] : [];
      disc.apiTried = true;
      const lists = [...first, ...(await poolMap(level.slice(first.length), DISCOVERY_CONCURRENCY, signal, one))];
      const candidates: Candidate[] = [];
      for (const c of lists.flat()) {
        const key = c.tag ?? c.desc!.digest;
        if (seen.has(key)) continue;
        if (c.desc?.artifactType && wanted && !wanted.has(c.desc.artifactType)) continue;
        seen.add(key);
        candidates.push(c);
      }
      if (found.length + candidates.length > maxReferrers) {
        throw registryError('MANIFEST_TOO_LARGE', `more than ${maxReferrers} referrers (ferry allows ${maxReferrers} per image)`, { ...repoCtx(src, 'referrers'), details: { limit: maxReferrers } });
      }
      const results = await poolMap(candidates, COPY_CONCURRENCY, signal, (c, s) => copyOne(deps, src, dst, c, wanted, mirror, s));
      const next: string[] = [];
      // the mirror's fallback indexes, one update per subject
      const bySubject = new Map<string, ReferrerDescriptor[]>();
      for (const r of results) {
        if (!r) continue;
        found.push(r.found);
        if (r.found.copied) copied++;
        next.push(...take([r.found.digest]));
        if (r.indexEntry) {
          const list = bySubject.get(r.indexEntry.subject) ?? [];
          list.push(r.indexEntry.desc);
          bySubject.set(r.indexEntry.subject, list);
        }
      }
      for (const [subject, descs] of bySubject) {
        if (!tagProblem(fallbackTagOf(subject)) && (await mirror.needsFallback(subject, signal))) await updateFallbackIndex(deps.transport, dst, subject, descs, signal, deps.logger);
      }
      level = next;
    }
  };

  await walk(take(opts.digests));
  if (later) {
    const more = await untilAborted(later, signal);
    if ('err' in more) throw more.err;
    await walk(take(more.digests));
  }
  return { copied, requests: 0, found };
}

async function poolMap<T, R>(items: T[], n: number, signal: AbortSignal, fn: (t: T, s: AbortSignal) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  await pool(items.map((t, i) => [t, i] as const), n, signal, async ([t, i], s) => {
    out[i] = await fn(t, s);
  });
  return out;
}

/** One tags/list of the upstream repository (every page); undefined when refused (not transient). */
async function upstreamTags(deps: CopyDeps, src: Repo, signal: AbortSignal): Promise<Set<string> | undefined> {
  try {
    return new Set(await listTags(deps.transport, src, signal));
  } catch (e) {
    if (signal.aborted || !(e instanceof FerryError) || e.transient) throw e;
    deps.logger.debug({ host: src.host, repository: src.repository, code: e.code }, 'tags/list refused: referrer tags are probed');
    return undefined;
  }
}

/** Referrers of `digest` upstream: API (or fallback tag) + cosign tags. */
async function discover(deps: CopyDeps, src: Repo, digest: string, depth: number, disc: Discovery, apiFilter: string | undefined, signal: AbortSignal): Promise<Candidate[]> {
  const out: Candidate[] = [];
  // a sha512 digest makes a tag longer than the grammar allows: no tag lookups then
  const has = (tag: string) => !tagProblem(tag) && (disc.tags === undefined || disc.tags.has(tag));
  let fromApi: ReferrerDescriptor[] | undefined;
  if (disc.api) {
    fromApi = await referrersApi(deps, src, digest, apiFilter, signal);
    if (fromApi === undefined) disc.api = false;
  }
  if (fromApi) {
    for (const d of fromApi) out.push({ subject: digest, via: 'api', depth, desc: d });
  } else {
    const tag = fallbackTagOf(digest);
    if (has(tag)) {
      const idx = await fetchManifest(deps.transport, { ...src, tag }, signal, true);
      if (idx) for (const d of descriptorsOf(idx, src, `fallback tag ${tag}`)) out.push({ subject: digest, via: 'fallback-tag', depth, desc: d });
    }
  }
  for (const sfx of COSIGN_SUFFIXES) {
    const tag = fallbackTagOf(digest) + sfx;
    if (!has(tag)) continue;
    const m = await fetchManifest(deps.transport, { ...src, tag }, signal, true);
    if (m) out.push({ subject: digest, via: 'cosign-tag', depth, tag, manifest: m });
  }
  return out;
}

/** Descriptors of a referrers index (API answer or fallback tag), each checked. */
function descriptorsOf(idx: { json: any; digest?: string }, src: Repo, from: string): ReferrerDescriptor[] {
  const list = Array.isArray(idx.json?.manifests) ? (idx.json.manifests as unknown[]) : [];
  const out: ReferrerDescriptor[] = [];
  for (const d of list) {
    const p = descriptorShapeProblem(d);
    if (p) throw registryError('MANIFEST_INVALID', `referrer descriptor (${from}) ${p}`, repoCtx(src));
    const x = d as ReferrerDescriptor;
    checkDigest(x.digest, src, from);
    out.push(x);
  }
  return out;
}

/** GET /v2/<name>/referrers/<digest>: descriptors, or undefined when the registry has no API (404). */
async function referrersApi(deps: CopyDeps, src: Repo, digest: string, artifactType: string | undefined, signal: AbortSignal): Promise<ReferrerDescriptor[] | undefined> {
  const q = artifactType ? `?artifactType=${encodeURIComponent(artifactType)}` : '';
  const ctx = repoCtx(src, `GET referrers ${digest}`);
  const out: ReferrerDescriptor[] = [];
  let path: string | undefined = `/v2/${checkRepository(src)}/referrers/${checkDigest(digest, src, 'caller')}${q}`;
  const seen = new Set<string>();
  // `Link: rel="next"` pages, loop- and runaway-guarded
  while (path && !seen.has(path) && seen.size < MAX_REFERRER_PAGES) {
    seen.add(path);
    const res = await deps.transport.request({
      host: src.host,
      repository: src.repository,
      method: 'GET',
      path,
      headers: { Accept: MT.OCI_INDEX },
      scopes: [pullScope(src.repository)],
      what: 'manifest',
      // 404: no API (distribution 2.8); 400/405/501: some registries' way of saying the same
      expect: seen.size === 1 ? [200, 400, 404, 405, 501] : [200],
      signal,
      op: ctx.op!,
    });
    if (res.status !== 200) {
      res.dispose();
      return undefined;
    }
    const bytes = await res.buffer(MAX_MANIFEST_READ_BYTES, (limit) => manifestTooLarge(undefined, limit, 'read', ctx));
    let json: any;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch {
      throw registryError('MANIFEST_INVALID', 'referrers answer is not JSON', ctx);
    }
    out.push(...descriptorsOf({ json }, src, `referrers of ${digest}`));
    try {
      path = nextLink(res.headers.get('link'), res.url);
    } catch {
      throw registryError('PROTOCOL', 'referrers page Link is not a URL', ctx);
    }
  }
  return out;
}

interface CopiedOne {
  found: FoundReferrer;
  /** A descriptor for the mirror's fallback index of `subject`. */
  indexEntry?: { subject: string; desc: ReferrerDescriptor };
}

/** One referrer: fetched (verified), filtered, blobs then manifest into the mirror. */
async function copyOne(deps: CopyDeps, src: Repo, dst: Repo, c: Candidate, wanted: Set<string> | undefined, mirror: MirrorState, signal: AbortSignal): Promise<CopiedOne | undefined> {
  let early: { head: ManifestInfo | undefined } | undefined;
  if (c.desc?.artifactType && !c.manifest) {
    // listed with its type: when the mirror holds it already, nothing is read upstream
    const d = c.desc;
    const head = await headManifest(deps.transport, { ...dst, digest: d.digest }, signal);
    early = { head };
    if (head?.digest === d.digest) {
      const found: FoundReferrer = { digest: d.digest, artifactType: d.artifactType!, via: c.via, subject: c.subject, depth: c.depth, copied: false };
      const desc: ReferrerDescriptor = { mediaType: head.mediaType, digest: d.digest, size: head.size, artifactType: d.artifactType!, ...(d.annotations && typeof d.annotations === 'object' ? { annotations: d.annotations } : {}) };
      return { found, indexEntry: { subject: c.subject, desc } };
    }
  }
  const m = c.manifest ?? (await fetchManifest(deps.transport, { ...src, digest: c.desc!.digest }, signal));
  if (m.bytes.length > MAX_MANIFEST_PUSH_BYTES) throw manifestTooLarge(m.bytes.length, MAX_MANIFEST_PUSH_BYTES, 'pushed', repoCtx(src, `referrer ${m.digest}`));
  const artifactType = c.desc?.artifactType || artifactTypeOf(m.json);
  if (wanted && !wanted.has(artifactType)) return undefined;
  if (isIndexType(m.mediaType)) {
    // an index as a referrer (rare): not supported yet, skipped (debug log), not in `found`
    deps.logger.debug({ digest: m.digest, subject: c.subject }, 'referrer is an index: not copied');
    return undefined;
  }
  const digestRef: RegistryRef = { ...dst, digest: m.digest };
  const head = early ? early.head : await headManifest(deps.transport, c.tag ? { ...dst, tag: c.tag } : digestRef, signal);
  let copied = false;
  let subjectHeader = false;
  if (head?.digest !== m.digest) {
    const progress = new Progress(undefined);
    const counters = { bytesCopied: 0 };
    const blobs = blobsOf(m.json);
    for (const b of blobs) {
      const p = descriptorShapeProblem(b);
      if (p) throw registryError('MANIFEST_INVALID', `descriptor (blob of referrer ${m.digest}) ${p}`, repoCtx(src));
      checkDigest(b.digest, src, `blob of referrer ${m.digest}`);
    }
    const src2: RegistryRef = { ...src };
    await pool(blobs, Math.max(1, deps.config().copy.layerConcurrency), signal, async (b, s) => {
      await deps.blobs.ensureBlob(src2, digestRef, b as Descriptor, progress, counters, src.host === dst.host ? [`${src.host}/${src.repository}`] : [], s);
    });
    subjectHeader = await putReferrerManifest(deps, dst, c.tag ?? m.digest, m, signal);
    mirror.sawPut(subjectHeader);
    copied = true;
  }
  const found: FoundReferrer = { digest: m.digest, artifactType, via: c.via, subject: c.subject, depth: c.depth, copied, ...(c.tag ? { tag: c.tag } : {}) };
  const subject = m.json?.subject;
  const hasSubject = subject && typeof subject === 'object' && !digestProblem(subject.digest);
  // index entry: the manifest names a subject (or the upstream listed it in a fallback index) and the mirror did not say it indexes it
  if (!subjectHeader && (hasSubject || c.via === 'fallback-tag')) {
    const desc: ReferrerDescriptor = c.desc
      ? pickDescriptor(c.desc, m, artifactType)
      : { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length, artifactType, ...(m.json?.annotations && typeof m.json.annotations === 'object' ? { annotations: m.json.annotations } : {}) };
    return { found, indexEntry: { subject: hasSubject ? subject.digest : c.subject, desc } };
  }
  return { found };
}

/** The upstream's descriptor, its fields checked against the bytes fetched. */
function pickDescriptor(d: ReferrerDescriptor, m: FetchedManifest, artifactType: string): ReferrerDescriptor {
  const out: ReferrerDescriptor = { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length, artifactType };
  if (d.annotations && typeof d.annotations === 'object') out.annotations = d.annotations;
  else if (m.json?.annotations && typeof m.json.annotations === 'object') out.annotations = m.json.annotations;
  return out;
}

/** PUT by `ref` (digest or cosign tag); true when the mirror answered `OCI-Subject` (it indexes referrers itself). */
async function putReferrerManifest(deps: CopyDeps, dst: Repo, ref: string, m: FetchedManifest, signal: AbortSignal): Promise<boolean> {
  // Two copies of referrers sharing a blob (the empty config) race on its link file as image copies do.
  const res = await retryLinkReadRace(() => deps.transport.request({
    host: dst.host,
    repository: dst.repository,
    method: 'PUT',
    path: manifestPath(dst, ref),
    headers: { 'Content-Type': m.mediaType },
    body: m.bytes,
    scopes: [pushScope(dst.repository)],
    what: 'manifest',
    retry: true,
    signal,
    op: `PUT referrer manifest ${ref}`,
  }), signal);
  res.dispose();
  return !!res.headers.get('oci-subject');
}

/** Whether the mirror needs fallback indexes: learnt from PUT answers, else one referrers API probe. */
class MirrorState {
  private known: boolean | undefined;
  private probe: Promise<boolean> | undefined;
  constructor(
    private readonly deps: CopyDeps,
    private readonly dst: Repo,
  ) {}

  sawPut(subjectHeader: boolean): void {
    if (subjectHeader) this.known = false;
    else if (this.known === undefined) this.known = true;
  }

  async needsFallback(subject: string, signal: AbortSignal): Promise<boolean> {
    if (this.known !== undefined) return this.known;
    this.probe ??= referrersApi(this.deps, this.dst, subject, undefined, signal).then((r) => r === undefined);
    return this.probe;
  }
}
