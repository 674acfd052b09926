/**
 * Executes a plan against the mirror, one mirror repository at a time
 * (go-containerregistry's order): blobs already there are skipped without
 * reading them (HEAD, plus the diffID cache for docker-archive layers), the
 * rest are streamed from the archive (pass 2) through RegistryEngine.pushBlob
 * -- the same upload code as the copy workers -- then index children by
 * digest, then each tag.
 */
import { Readable, pipeline } from 'node:stream';
import { createGzip } from 'node:zlib';
import { createHash } from 'node:crypto';
import { pool } from '../async/index.js';
import { importError, MT_DOCKER_LAYER_GZIP, MT_DOCKER_LAYER_TAR, type Archive, type ImageName, type BlobSpec, type ManifestSpec, type Plan, type PlannedImage, type PushedBlob } from '../archive/index.js';

/** The part of RegistryEngine the importer uses. */
export interface MirrorClient {
  pushBlob(
    repository: string,
    body: AsyncIterable<Uint8Array> | NodeJS.ReadableStream,
    expect?: { digest?: string; size?: number },
    signal?: AbortSignal,
  ): Promise<{ digest: string; size: number; skipped: boolean }>;
  blobExists(repository: string, digest: string, signal?: AbortSignal): Promise<boolean>;
  putManifest(ref: string, bytes: Buffer, mediaType: string, signal?: AbortSignal): Promise<{ digest: string }>;
}

/** diffID -> compressed blob, so a layer already in the mirror is not compressed again. */
export interface LayerCache {
  get(diffId: string): Promise<{ digest: string; size: number } | undefined>;
  set(diffId: string, blob: { digest: string; size: number }): Promise<void>;
}

export interface PushTarget {
  name: ImageName;
  /** Full mirror reference (`127.0.0.1:5000/docker.io/demo/app:v1`). */
  mirrorRef: string;
  /** Mirror repository, `host/path`. */
  repository: string;
  /** Tag, or digest for a by-digest name. */
  tag?: string;
  digest?: string;
}

export interface BlobEvent {
  repository: string;
  digest: string;
  size: number;
  skipped: boolean;
}

export interface PushOptions {
  mirror: MirrorClient;
  /** Blobs streamed at once (plain tars only; gzip'd archives stream in order). */
  concurrency: number;
  layerCompression: 'gzip' | 'none';
  gzipLevel: number;
  layerCache?: LayerCache | undefined;
  signal?: AbortSignal | undefined;
  onBlob?: ((e: BlobEvent) => void) | undefined;
  /** Archive bytes streamed so far (for progress). */
  onBytes?: ((n: number) => void) | undefined;
  /**
   * Asked once an image's manifest digest is known, before anything is
   * tagged: a block reason keeps that target out of the mirror. (A
   * docker-archive's digest exists only once its layers are pushed; layers
   * without a manifest are unreachable and left to the registry's GC.)
   */
  blockedBy?: ((target: PushTarget, digest: string) => string | undefined) | undefined;
}

export interface PushedImage {
  target: PushTarget;
  digest: string;
  mediaType: string;
  /** Sum of the image's blob sizes in the mirror. */
  bytes: number;
}

export interface BlockedImage {
  target: PushTarget;
  digest: string;
  reason: string;
}

export interface PushStats {
  images: PushedImage[];
  /** Targets refused by `blockedBy`: nothing tagged for them. */
  blocked: BlockedImage[];
  blobsPushed: number;
  blobsSkipped: number;
  bytesPushed: number;
}

const GZIP_MAGIC = [0x1f, 0x8b];
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];

function hasMagic(b: Buffer | undefined, m: number[]): boolean {
  return !!b && b.length >= m.length && m.every((x, i) => b[i] === x);
}

/** First chunk of a body, and the whole body again as an iterable. */
async function peek(body: AsyncIterable<Buffer>): Promise<{ first: Buffer | undefined; all: AsyncIterable<Buffer> }> {
  const it = body[Symbol.asyncIterator]();
  const r = await it.next();
  const first = r.done ? undefined : r.value;
  let done = !!r.done;
  const all = (async function* () {
    try {
      if (first) yield first;
      while (!done) {
        const x = await it.next();
        if (x.done) done = true;
        else yield x.value;
      }
    } finally {
      if (!done) await it.return?.();
    }
  })();
  return { first, all };
}

async function* tap(body: AsyncIterable<Buffer>, fn: (c: Buffer) => void): AsyncGenerator<Buffer> {
  for await (const c of body) {
    fn(c);
    yield c;
  }
}

export async function pushPlan(archive: Archive, plan: Plan, targets: Map<PlannedImage, PushTarget[]>, o: PushOptions): Promise<PushStats> {
  const stats: PushStats = { images: [], blocked: [], blobsPushed: 0, blobsSkipped: 0, bytesPushed: 0 };
  const repos = new Map<string, PlannedImage[]>();
  for (const img of plan.images) {
    for (const t of targets.get(img) ?? []) {
      const list = repos.get(t.repository) ?? [];
      if (!list.includes(img)) list.push(img);
      repos.set(t.repository, list);
    }
  }
  for (const [repository, images] of repos) {
    o.signal?.throwIfAborted();
    const pushed = await pushBlobs(archive, repository, images, o, stats);
    const childrenDone = new Set<string>();
    for (const img of images) {
      const top = img.top(pushed);
      const bytes = img.blobs.reduce((n, b) => n + (pushed.get(b.key)?.size ?? 0), 0);
      const admitted = (targets.get(img) ?? []).filter((t) => {
        if (t.repository !== repository) return false;
        const reason = o.blockedBy?.(t, top.digest);
        if (reason !== undefined) stats.blocked.push({ target: t, digest: top.digest, reason });
        return reason === undefined;
      });
      if (admitted.length === 0) continue;
      for (const c of img.children) {
        if (childrenDone.has(c.digest)) continue;
        await putManifest(o, `${repository}@${c.digest}`, c);
        childrenDone.add(c.digest);
      }
      for (const t of admitted) {
        await putManifest(o, t.tag ? `${repository}:${t.tag}` : `${repository}@${top.digest}`, top);
        stats.images.push({ target: t, digest: top.digest, mediaType: top.mediaType, bytes });
      }
    }
  }
  return stats;
}

async function putManifest(o: PushOptions, ref: string, m: ManifestSpec): Promise<void> {
  const { digest } = await o.mirror.putManifest(ref, m.bytes, m.mediaType, o.signal);
  if (digest !== m.digest) throw importError('PUSH', `mirror stored ${ref} as ${digest}, expected ${m.digest}`, { transient: false });
}

async function pushBlobs(archive: Archive, repository: string, images: PlannedImage[], o: PushOptions, stats: PushStats): Promise<Map<string, PushedBlob>> {
  const pushed = new Map<string, PushedBlob>();
  const specs = new Map<string, BlobSpec>();
  for (const img of images) for (const b of img.blobs) if (!specs.has(b.key)) specs.set(b.key, b);
  const done = (b: BlobSpec, p: PushedBlob, skipped: boolean) => {
    pushed.set(b.key, p);
    if (skipped) stats.blobsSkipped++;
    else {
      stats.blobsPushed++;
      stats.bytesPushed += p.size;
    }
    o.onBlob?.({ repository, digest: p.digest, size: p.size, skipped });
  };

  // 1. what the mirror already has: HEAD by known digest (or by the digest the diffID cache remembers)
  await pool([...specs.values()], 8, undefined, async (b) => {
    let known: PushedBlob | undefined;
    if (b.digest) known = { digest: b.digest, size: b.size ?? 0 };
    else if (b.layer?.diffId && o.layerCompression === 'none') known = { digest: b.layer.diffId, size: b.size ?? 0, mediaType: MT_DOCKER_LAYER_TAR };
    else if (b.layer?.diffId && o.layerCache) {
      const c = await o.layerCache.get(b.layer.diffId);
      if (c) known = { ...c, mediaType: MT_DOCKER_LAYER_GZIP };
    }
    if (known && (await o.mirror.blobExists(repository, known.digest, o.signal))) {
      done(b, known, true);
      o.onBytes?.(b.size ?? 0);
    }
  });

  // 2. in-memory blobs (configs)
  for (const b of specs.values()) {
    if (pushed.has(b.key) || !b.bytes) continue;
    const bytes = b.bytes;
    const r = await o.mirror.pushBlob(repository, (async function* () { yield bytes; })(), { ...(b.digest ? { digest: b.digest } : {}), size: bytes.length }, o.signal);
    done(b, { digest: r.digest, size: bytes.length }, r.skipped);
  }

  // 3. bodies from the archive (pass 2)
  const byOrdinal = new Map<number, BlobSpec>();
  for (const b of specs.values()) if (!pushed.has(b.key) && b.entry) byOrdinal.set(b.entry.ordinal, b);
  await archive.forEach(
    [...byOrdinal.values()].map((b) => b.entry!),
    async (entry, body) => {
      const b = byOrdinal.get(entry.ordinal)!;
      const counted = tap(body, (c) => o.onBytes?.(c.length));
      if (b.layer) {
        const p = await pushLayer(repository, b, counted, o);
        done(b, p, false);
      } else {
        const r = await o.mirror.pushBlob(repository, counted, { digest: b.digest!, size: b.size! }, o.signal);
        done(b, { digest: r.digest, size: b.size! }, r.skipped);
      }
    },
    { concurrency: o.concurrency, ...(o.signal ? { signal: o.signal } : {}) },
  );
  return pushed;
}

/** One docker-archive layer: gzip on the fly (digest known at the end), or as-is. */
async function pushLayer(repository: string, b: BlobSpec, body: AsyncIterable<Buffer>, o: PushOptions): Promise<PushedBlob> {
  const name = b.entry!.name;
  const { first, all } = await peek(body);
  if (hasMagic(first, GZIP_MAGIC)) {
    // already compressed in the archive: pushed as it is (its diffID cannot be checked without decompressing)
    const r = await o.mirror.pushBlob(repository, all, { size: b.size! }, o.signal);
    return { digest: r.digest, size: r.size, mediaType: MT_DOCKER_LAYER_GZIP };
  }
  if (hasMagic(first, ZSTD_MAGIC)) throw importError('UNSUPPORTED', `layer ${name} is zstd-compressed (not expressible in a Docker schema2 manifest)`);
  const hash = createHash('sha256');
  let n = 0;
  const hashed = tap(all, (c) => {
    hash.update(c);
    n += c.length;
  });
  const diffId = b.layer!.diffId;
  const verify = () => {
    const got = `sha256:${hash.digest('hex')}`;
    if (n !== b.size) throw importError('CHANGED', `layer ${name}: read ${n} of ${b.size} bytes`);
    if (diffId && got !== diffId) throw importError('CORRUPT', `layer ${name} hashes to ${got}, the config's diff_id is ${diffId}`);
    return got;
  };
  if (o.layerCompression === 'none') {
    const r = await o.mirror.pushBlob(repository, hashed, { ...(diffId ? { digest: diffId } : {}), size: b.size! }, o.signal);
    verify();
    return { digest: r.digest, size: r.size, mediaType: MT_DOCKER_LAYER_TAR };
  }
  let pipeErr: Error | undefined;
  const gz = pipeline(
    Readable.from(hashed, { objectMode: false, highWaterMark: 256 * 1024 }),
    createGzip({ level: o.gzipLevel }),
    (err) => {
      if (err) pipeErr = err;
    },
  );
  let r: { digest: string; size: number };
  try {
    r = await o.mirror.pushBlob(repository, gz, {}, o.signal);
  } catch (e) {
    gz.destroy();
    throw pipeErr ?? e;
  }
  if (pipeErr) throw pipeErr;
  const got = verify();
  await o.layerCache?.set(diffId ?? got, { digest: r.digest, size: r.size });
  return { digest: r.digest, size: r.size, mediaType: MT_DOCKER_LAYER_GZIP };
}
