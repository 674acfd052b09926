import { readFileSync } from 'node:fs';
import type { Test } from 'tap';
import fastJsonPatch from 'fast-json-patch';
import { resolveConfig } from '../../../src/config/index.js';
import { createContext } from '../../../src/runtime/index.js';
import { createLogger } from '../../../src/observability/index.js';
import { startWebhook } from '../../../src/webhook/index.js';
import { postJson } from '../../support/https.js';

export const fixture = JSON.parse(readFileSync(new URL('../../fixtures/admission-review.json', import.meta.url), 'utf8'));
/** The mirror: nothing listens there, and the tests run no workers. */
export const M = '127.0.0.1:5999';

/** A real webhook role (HTTPS, producer, state view) on a free port against `redisUrl`. */
export async function bootWebhook(t: Test, redisUrl: string, raw: object = {}) {
  const loaded = resolveConfig({
    mirror: { registry: M },
    queue: { redisUrl, prefix: `wh${Math.random().toString(36).slice(2, 8)}` },
    webhook: { port: 0, host: '127.0.0.1', bodyLimit: 256 * 1024 },
    ...raw,
  });
  const ctx = createContext(loaded, createLogger('silent'), {});
  const role = await startWebhook(ctx);
  const view = await ctx.stateView();
  t.teardown(async () => {
    await role.close();
    await ctx.close();
  });
  const ca = readFileSync(role.caFile!);
  return {
    ctx,
    role,
    view,
    send: (body: unknown) => postJson(`${role.url}/mutate`, body, ca),
    validate: (body: unknown) => postJson(`${role.url}/validate`, body, ca),
  };
}

/** A copy of the fixture review, changed by `mutate`. */
export function withPod(mutate: (review: any) => void) {
  const r = structuredClone(fixture);
  mutate(r);
  return r;
}

/** The JSONPatch ops of an admission response (none when unpatched). */
export function opsOf(response: any): any[] {
  return response.patch ? JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8')) : [];
}

/** The review's pod with the response's patch applied, as the API server would store it. */
export function patched(review: any, response: any): any {
  return fastJsonPatch.applyPatch(structuredClone(review.request.object), opsOf(response), true, false).newDocument;
}
