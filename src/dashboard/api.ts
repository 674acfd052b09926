import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Queue } from 'bullmq';
import type { RoleContext } from '../runtime/index.js';
import { FerryError, describeError, isFerryError } from '../errors.js';
import type { PodRun } from '../in-use/index.js';
import { blockRuleFor } from '../policy/index.js';
import {
  blockPatch,
  recordMirrorRef,
  retryRefusal,
  unblockPatch,
  unblockRefusal,
  type CopyJobData,
  type ImageRecord,
  type ImageState,
  type RetryRefusal,
  type UnblockRefusal,
} from '../queue/index.js';
import { fromMirrorReference, isMirrorReference, normalizeReference } from '../reference/index.js';
import { acceptJsonBodies, mutationGuard, routeTakes } from '../access/index.js';
import { DASHBOARD_ERROR_CODES as C, badRequest, notFound, refNotEncoded, unavailable } from './errors.js';
import { API_META, DEFAULT_LIMIT, MAX_LIMIT, cursorParam, intParam, one, orderParam, sortParam, statesParam } from './list-params.js';
import { encodeCursor, type ListPage, type ListQuery } from './image-index.js';
import type { Live } from './live.js';
import { readGcAnswer } from './gc-report.js';
import { deleteFromMirror } from './mirror-delete.js';
import type { RecordWithUsage, Usage } from './usage.js';

const REASON_MAX = 500;
/** `GET /api/images/:ref/pods?limit=`: the whole answer stays a bounded JSON array however many replicas run an image. */
const PODS_DEFAULT_LIMIT = 1000;
const PODS_MAX_LIMIT = 10_000;
const GENERIC_HINT = 'see the JSON API: GET /api/images, GET /api/images/:ref (URL-encoded), POST /api/images {"ref": "nginx:1.27"}';

export interface ApiDeps {
  ctx: RoleContext;
  live: Live;
  /** Records joined with the in-use index (`usedBy`), and the pods of an image. */
  usage: Usage;
  queue: Queue<CopyJobData>;
  stats(): Promise<Stats>;
}

export interface Stats {
  counts: Record<ImageState, number>;
  total: number;
  queue: { waiting: number; active: number; delayed: number; failed: number; prioritized: number; completed: number } | null;
  queueError?: string;
  throughput: ReturnType<Live['throughput']['snapshot']>;
  sseClients: number;
  time: string;
}

/**
 * The default view (newest first, no filter, by offset) read straight from
 * Redis's updatedAt index while the record feed is still loading: at
 * 100,000 records that load takes seconds (bench/records), and the
 * dashboard's first page should not wait for it, nor answer 503. Same order
 * as the index (ImageStore.newestPage), same cursor; undefined for any other
 * query, or when Redis does not answer (the caller then waits for the feed).
 */
async function pageFromRedis(ctx: RoleContext, q: ListQuery): Promise<ListPage | undefined> {
  if (q.sort !== 'updatedAt' || q.order !== 'desc' || q.cursor || q.q || q.states?.length || ctx.connection.status !== 'ready') return undefined;
  try {
    const { total, records: items } = await ctx.store.newestPage(q.offset, q.limit);
    const end = q.offset + items.length;
    const last = items.at(-1);
    return { items, total, offset: q.offset, limit: q.limit, nextOffset: end < total ? end : null, nextCursor: end < total && last ? encodeCursor([last.updatedAt, last.ref]) : null };
  } catch {
    return undefined;
  }
}

/** A refused retry, in the API's words. */
function retryRefused(ref: string, refusal: RetryRefusal): FerryError {
  if (refusal.why === 'blocked') {
    return new FerryError(C.BLOCKED, `${ref} is blocked (${refusal.blockedReason ?? 'no reason given'}); it cannot be retried`, {
      status: 409,
      hint: `unblock it: POST /api/images/${encodeURIComponent(ref)}/unblock`,
    });
  }
  return new FerryError(C.BUSY, `${ref} is being copied right now`, { status: 409, hint: 'wait for this attempt to finish, then retry if it fails' });
}

/** A refused unblock, in the API's words. */
function unblockRefused(ref: string, refusal: UnblockRefusal): FerryError {
  return new FerryError(C.NOT_BLOCKED, `${ref} is not blocked (state ${refusal.state})`, {
    status: 409,
    hint: `only a blocked image can be unblocked; to copy it again: POST /api/images/${encodeURIComponent(ref)}/retry`,
  });
}

export function registerApi(app: FastifyInstance, d: ApiDeps): void {
  const { ctx, live, usage } = d;
  // Redis away: ioredis would queue the command until it is back, so answer now instead of hanging.
  const redisUp = async (_req: FastifyRequest, reply: FastifyReply) => {
    if (ctx.connection.status !== 'ready') return reply.code(503).send(unavailable('cannot change images').toJSON());
  };
  /** Mutations: the shared guard (token, else loopback + Host/Origin), then Redis must be up. `takes` feeds the error hints. */
  const mutating = (takes: string) => ({ onRequest: mutationGuard(() => ctx.config()), preHandler: redisUp, config: { takes } });

  acceptJsonBodies(app, {
    invalid: (req, reason) => badRequest(`the body is not valid JSON: ${reason}`, routeTakes(req) ?? GENERIC_HINT),
  });

  app.setErrorHandler((err: unknown, req, reply) => {
    if (isFerryError(err)) {
      if (err.status >= 500) req.log.error({ err: describeError(err), code: err.code }, 'dashboard API error');
      return reply.code(err.status).send(err.toJSON());
    }
    const e = err as { statusCode?: number; validation?: unknown; message?: string; code?: string };
    if (e.validation || (e.statusCode && e.statusCode >= 400 && e.statusCode < 500)) {
      return reply.code(e.statusCode ?? 400).send({
        code: C.BAD_REQUEST,
        message: e.message ?? 'bad request',
        // What THIS route takes (each route says so in config.takes), not one example for all.
        hint: routeTakes(req) ?? GENERIC_HINT,
      });
    }
    req.log.error({ err: describeError(err) }, 'dashboard API error');
    return reply.code(500).send({ code: C.INTERNAL, message: describeError(err) });
  });

  /** A ref from the URL (already percent-decoded by the router) or a body: as stored, else normalized. */
  const refFrom = (raw: string): string => {
    if (live.index.get(raw)) return raw;
    if (!raw.trim()) throw badRequest('empty image reference', 'put the URL-encoded reference in the path, e.g. /api/images/docker.io%2Flibrary%2Fnginx%3A1.27');
    return normalizeReference(raw.trim());
  };

  const mirrorOpts = () => ({ registry: ctx.config().mirror.registry, prefix: ctx.config().mirror.prefix });

  const configBlock = (ref: string, digest: string | null, sourceDigest?: string | null) => blockRuleFor(ctx.config(), ref, digest, sourceDigest);

  const current = async (ref: string): Promise<ImageRecord> => {
    const r = await ctx.store.get(ref);
    if (!r) throw notFound(ref);
    return r;
  };
  /** A record as every route answers it: with `usedBy`. */
  const answer = (r: ImageRecord): Promise<RecordWithUsage> => usage.one(r);

  // ---- reads ----------------------------------------------------------------

  app.get('/api/images', async (req) => {
    const q = req.query as Record<string, unknown>;
    const sort = sortParam(q.sort);
    const order = orderParam(q.order, sort);
    const cursor = cursorParam(q.cursor);
    const query = {
      states: statesParam(q.state),
      q: one(q.q),
      sort,
      order,
      limit: intParam(q.limit, 'limit', DEFAULT_LIMIT, 1, MAX_LIMIT),
      offset: intParam(q.offset, 'offset', 0, 0, Number.MAX_SAFE_INTEGER),
      cursor,
    };
    const page = (!live.index.loaded && (await pageFromRedis(ctx, query))) || ((await live.whenLoaded()) ? live.index.list(query) : undefined);
    if (!page) throw unavailable('the image list is not loaded yet');
    // Only this page's refs are looked up: one Redis round trip, whatever the total.
    const { items, cluster } = await usage.join(page.items);
    return { ...page, items, sort, order, cluster };
  });

  app.get('/api/images/:ref', async (req) => {
    const ref = refFrom((req.params as { ref: string }).ref);
    if (ctx.connection.status !== 'ready') {
      // Redis away: the in-memory copy (kept from the events) is the best answer there is.
      const r = live.index.get(ref);
      if (!r) throw live.index.loaded ? notFound(ref) : unavailable(`cannot read ${ref}`);
      return answer(r);
    }
    return answer(await current(ref));
  });

  app.get('/api/images/:ref/pods', { config: { takes: `?limit=1..${PODS_MAX_LIMIT} (default ${PODS_DEFAULT_LIMIT})` } }, async (req, reply) => {
    const ref = refFrom((req.params as { ref: string }).ref);
    const limit = intParam((req.query as Record<string, unknown>).limit, 'limit', PODS_DEFAULT_LIMIT, 1, PODS_MAX_LIMIT);
    // The in-use index is in Redis only: there is no copy in memory to fall back on.
    if (ctx.connection.status !== 'ready') throw unavailable(`cannot read the pods running ${ref}`);
    let pods: PodRun[];
    try {
      pods = await usage.podsOf(ref);
    } catch (e) {
      throw unavailable(`cannot read the pods running ${ref} (${describeError(e)})`);
    }
    // Pods may run an image ferry keeps no record of (started before ferry, or removed since): that is still an answer.
    if (pods.length === 0 && !live.index.get(ref) && !(await ctx.store.get(ref))) throw notFound(ref);
    return reply.header('x-total-count', String(pods.length)).send(pods.slice(0, limit));
  });

  app.get('/api/gc', async () => {
    if (ctx.connection.status !== 'ready') throw unavailable('cannot read the last GC report');
    try {
      return await readGcAnswer(ctx.connection, ctx.config());
    } catch (e) {
      throw isFerryError(e) ? e : unavailable(`cannot read the last GC report (${describeError(e)})`);
    }
  });

  app.get('/api/meta', async () => API_META);

  app.get('/api/stats', async () => d.stats());

  app.get('/api/events', async (req, reply) => {
    await live.whenLoaded();
    const stats = await d.stats().catch(() => undefined);
    reply.hijack();
    live.attach(reply.raw, { stats, lastEventId: req.headers['last-event-id'] ?? null });
  });

  // ---- mutations ------------------------------------------------------------

  app.post('/api/images', mutating('JSON {"ref": "<image reference>"}, e.g. {"ref": "nginx:1.27"}'), async (req, reply) => {
    const body = req.body as { ref?: unknown } | undefined;
    if (!body || typeof body !== 'object' || typeof body.ref !== 'string') {
      throw badRequest('the body must be JSON {"ref": "<image reference>"}', 'e.g. curl -X POST -H "content-type: application/json" -d \'{"ref":"nginx:1.27"}\' .../api/images');
    }
    const ref = normalizeReference(body.ref.trim());
    if (isMirrorReference(ref, mirrorOpts())) {
      const up = fromMirrorReference(ref, mirrorOpts());
      throw new FerryError(C.IN_MIRROR, `${ref} is already in the mirror registry ${ctx.config().mirror.registry}; mirror references are left alone`, {
        status: 400,
        hint: up ? `add the upstream reference instead: ${up}` : 'add the upstream reference the image came from',
      });
    }
    const rule = configBlock(ref, null);
    if (rule) {
      throw new FerryError(C.BLOCKED_BY_CONFIG, `${ref} is blocked by config: ${rule.reason}`, {
        status: 409,
        hint: 'remove or narrow the matching `block:` rule in the config file to mirror it',
        details: { rule },
      });
    }
    const res = await ctx.producer.enqueueNow({ ref, mirrorRef: ctx.mirrorRefOf(ref), source: 'api', force: false });
    const record = await current(ref);
    if (res.state === 'blocked') {
      throw new FerryError(C.BLOCKED, `${ref} is blocked: ${record.blockedReason ?? 'no reason given'}`, {
        status: 409,
        hint: `unblock it first: POST /api/images/${encodeURIComponent(ref)}/unblock`,
        details: { record },
      });
    }
    // 202: a copy job was queued now; 200: the record already existed and was left as it is.
    return reply.code(res.created ? 202 : 200).send(await answer(record));
  });

  app.post('/api/images/:ref/retry', mutating('no body (or an empty JSON body, or {})'), async (req, reply) => {
    const ref = refFrom((req.params as { ref: string }).ref);
    const before = await current(ref);
    const refusal = retryRefusal(before);
    if (refusal) throw retryRefused(ref, refusal);
    await ctx.producer.enqueueNow({ ref, mirrorRef: recordMirrorRef(before, () => ctx.mirrorRefOf(ref)), source: 'api', force: true });
    return reply.code(202).send(await answer(await current(ref)));
  });

  app.delete('/api/images/:ref', mutating('no body; add ?fromMirror=true to delete the manifest from the mirror too'), async (req) => {
    const ref = refFrom((req.params as { ref: string }).ref);
    const fromMirror = ['true', '1', 'yes'].includes((one((req.query as Record<string, unknown>).fromMirror) ?? '').toLowerCase());
    const record = await ctx.store.get(ref);
    if (!record && !fromMirror) throw notFound(ref);
    let mirror: Awaited<ReturnType<typeof deleteFromMirror>> | undefined;
    if (fromMirror) {
      // Mirror first: when the registry refuses, the record stays and the caller sees why.
      mirror = await deleteFromMirror(ctx.registry(), recordMirrorRef(record, () => ctx.mirrorRefOf(ref)), record?.digest ?? null);
    }
    await ctx.producer.removePendingJob(ref);
    const removed = await ctx.store.remove(ref);
    return { ref, removed, ...(mirror ? { mirror } : {}) };
  });

  app.post('/api/images/:ref/block', mutating(`JSON {"reason": "<why, up to ${REASON_MAX} characters>"}`), async (req) => {
    const ref = refFrom((req.params as { ref: string }).ref);
    const body = (req.body ?? {}) as { reason?: unknown };
    const reason = typeof body.reason === 'string' ? body.reason.trim() : '';
    if (!reason) throw badRequest('blocking needs a reason', 'send JSON {"reason": "CVE-2024-1234 in libfoo"} with content-type: application/json');
    if (reason.length > REASON_MAX) throw badRequest(`the reason is longer than ${REASON_MAX} characters`, 'shorten it; link to the advisory instead of quoting it');
    const before = await ctx.store.get(ref);
    await ctx.producer.removePendingJob(ref);
    const patch = blockPatch(before, reason, new Date().toISOString(), () => ({
      mirrorRef: ctx.mirrorRefOf(ref),
      maxAttempts: ctx.config().queue.maxAttempts,
      source: 'api',
    }));
    const record = await ctx.store.update(ref, patch, { upsert: true });
    return answer(record ?? (await current(ref)));
  });

  app.post('/api/images/:ref/unblock', mutating('no body (copies it again), or JSON {"requeue": false} to forget the record instead'), async (req, reply) => {
    const ref = refFrom((req.params as { ref: string }).ref);
    const body = (req.body ?? {}) as { requeue?: unknown };
    const requeue = body.requeue !== false;
    const before = await current(ref);
    const refusal = unblockRefusal(before);
    if (refusal) throw unblockRefused(ref, refusal);
    // a filtered index: a rule naming the upstream digest keeps it blocked as well as one naming the mirror's
    const rule = configBlock(ref, before.digest, before.sourceDigest);
    if (rule) {
      throw new FerryError(C.BLOCKED_BY_CONFIG, `${ref} stays blocked by config: ${rule.reason}`, {
        status: 409,
        hint: 'remove or narrow the matching `block:` rule in the config file',
        details: { rule },
      });
    }
    if (!requeue) {
      await ctx.store.remove(ref);
      return reply.code(200).send({ ref, removed: true });
    }
    // The enqueue script never lifts a block by itself: clear it, then force a fresh copy.
    await ctx.store.update(ref, unblockPatch());
    await ctx.producer.enqueueNow({ ref, mirrorRef: recordMirrorRef(before, () => ctx.mirrorRefOf(ref)), source: 'api', force: true });
    return reply.code(202).send(await answer(await current(ref)));
  });

  // A ref whose slashes were not encoded lands here instead of in a 404 nobody understands.
  app.all('/api/images/*', async (req) => {
    throw refNotEncoded(req.url.split('?')[0] ?? req.url);
  });
}
