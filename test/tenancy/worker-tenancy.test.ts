/**
 * The worker's tenancy rules (src/worker/tenancy.ts) one by one, on a real Redis store, with the
 * upstream answers scripted: which credentials a copy uses and when it falls back, what a copy teaches
 * the record, how the anonymous probe reads each answer, and when a waiting namespace is granted.
 * (test/tenancy/isolation.test.ts runs the same against real registries and a Kubernetes API.)
 */
import t, { type Test } from 'tap';
import { pino } from 'pino';
import { resolveConfig } from '../../src/config/index.js';
import type { PullSecretLookup } from '../../src/kube/index.js';
import { connectRedis, ImageStore, type Requester } from '../../src/queue/index.js';
import { registryError } from '../../src/registry/index.js';
import type { CredentialEngines } from '../../src/worker/credential-engines.js';
import type { CopyResult } from '../../src/worker/index.js';
import { createProcessor } from '../../src/worker/processor.js';
import { WorkerTenancy } from '../../src/worker/tenancy.js';
import { startRedis } from '../support/redis.js';

const redis = await startRedis();
t.teardown(() => redis.stop());

const H = 'ghcr.io';
const REF = `${H}/acme/app:1`;
const DIGEST = 'sha256:' + 'd'.repeat(64);
const A: Requester = { namespace: 'team-a', pullSecrets: ['regcred'] };
const result = { digest: DIGEST, sourceDigest: DIGEST, upToDate: false, bytesTotal: 1, bytesCopied: 1, blobsCopied: 1, blobsSkipped: 0, blobsMounted: 0 } as CopyResult;

/** What the upstream answers, per credentials ('anon' or the username): a digest, 404 (undefined) or an error. */
type Answer = string | undefined | Error;

function setup(t: Test, raw: object, answers: Record<string, Answer>, secrets: Record<string, { username: string; password: string }> = {}) {
  const conn = connectRedis(redis.url);
  t.teardown(() => conn.disconnect());
  const store = new ImageStore(conn, `wt${Math.random().toString(36).slice(2, 8)}`);
  const config = resolveConfig({ mirror: { registry: '127.0.0.1:5999' }, ...raw }).config;
  const calls: string[] = [];
  const answer = (who: string): Promise<Answer> => {
    calls.push(who);
    const a = answers[who];
    return a instanceof Error ? Promise.reject(a) : Promise.resolve(a);
  };
  const engines = {
    use: async (_host: string, creds: { username: string } | undefined, fn: (e: unknown) => Promise<unknown>) =>
      fn({
        resolveDigest: async () => {
          const a = await answer(creds?.username ?? 'anon');
          return a === undefined ? undefined : { digest: a, mediaType: 'x', size: 1 };
        },
        copy: async () => (await answer(`copy:${creds?.username ?? 'anon'}`), result),
      }),
  } as unknown as CredentialEngines;
  const reads: string[] = [];
  const pullSecrets = {
    lookup: async (namespace: string, names: readonly string[]): Promise<PullSecretLookup> => {
      reads.push(`${namespace}/${names.join(',')}`);
      const creds = secrets[namespace];
      return creds ? { credentials: { ...creds, source: `${namespace}/${names[0]}` }, problems: [] } : { problems: [`${namespace}: no entry`] };
    },
  };
  const tenancy = new WorkerTenancy({ store, config: () => config, engines, pullSecrets, logger: pino({ level: 'silent' }) });
  const shared = { copy: async () => (calls.push('copy:ferry'), result) };
  return { store, tenancy, calls, reads, shared, config };
}

const FROM_PODS = { registries: { [H]: { credentialsFromPods: true } } };
const refused = () => registryError('UNAUTHORIZED', 'HTTP 401', { host: H });

t.test("a copy uses the requester's pull secret, falls back when it is refused, and remembers whose it was", async (t) => {
  const { tenancy, calls, store, shared } = setup(t, FROM_PODS, { 'copy:alice': undefined, anon: new Error('unused') }, { 'team-a': { username: 'alice', password: 'pw' } });
  const plan = await tenancy.copyPlan(REF, A);
  t.match(plan, { host: H, pod: { requester: A, credentials: { username: 'alice', source: 'team-a/regcred' } } });
  t.same((await tenancy.copy(plan, { src: REF, dst: 'm/x' }, shared)).used, 'pod');
  t.same(calls, ['copy:alice']);
  await store.update(REF, { state: 'copying' }, { upsert: true });
  t.equal(await tenancy.afterCopy(REF, plan, 'pod', { upToDate: true, known: 'private' }), 'private', 'an up-to-date re-check keeps the known access: no probe');
  t.equal((await store.get(REF))?.grantedNamespaces, 'team-a', 'granted');
  t.match(await tenancy.copyPlan(REF, undefined), { pod: { requester: A } }, 'a later copy without a requester (a watch, a refresh) uses the remembered one');

  const refusing = setup(t, FROM_PODS, { 'copy:alice': refused() }, { 'team-a': { username: 'alice', password: 'pw' } });
  const p2 = await refusing.tenancy.copyPlan(REF, A);
  t.same((await refusing.tenancy.copy(p2, { src: REF, dst: 'm/x' }, refusing.shared)).used, 'none', 'refused: copied again without the pod secret');
  t.same(refusing.calls, ['copy:alice', 'copy:ferry']);
  const both = setup(t, FROM_PODS, { 'copy:alice': refused() }, { 'team-a': { username: 'alice', password: 'pw' } });
  const failing = { copy: async () => Promise.reject(refused()) };
  const err = await both.tenancy.copy(await both.tenancy.copyPlan(REF, A), { src: REF, dst: 'm/x' }, failing).catch((e: unknown) => e);
  t.match(err, { code: 'FERRY_ERR_WORKER_PULL_SECRET_REFUSED', transient: false, message: /refused the pull secret team-a\/regcred of the pod that asked, and then anonymous access/ }, 'refused both ways: says whose secret');
  t.notOk(String((err as Error).message).includes('pw'), 'never the password');
  const down = setup(t, FROM_PODS, { 'copy:alice': registryError('UNREACHABLE', 'down', { host: H }) }, { 'team-a': { username: 'alice', password: 'pw' } });
  await t.rejects(down.tenancy.copy(await down.tenancy.copyPlan(REF, A), { src: REF, dst: 'm/x' }, down.shared), { code: 'FERRY_ERR_REGISTRY_UNREACHABLE' }, 'the upstream being down is not a refusal');
});

t.test('a digest the mirror already held proves no secret: the requester is checked against the upstream, not granted', async (t) => {
  const BY_DIGEST = `${H}/acme/app@${DIGEST}`;
  const secrets = { 'team-a': { username: 'alice', password: 'pw' }, 'team-b': { username: 'bob', password: 'wrong' } };
  const { tenancy, store, calls } = setup(t, FROM_PODS, { anon: refused(), alice: DIGEST, bob: refused() }, secrets);
  const B: Requester = { namespace: 'team-b', pullSecrets: ['regcred'] };
  for (const r of [B, A]) {
    const plan = await tenancy.copyPlan(BY_DIGEST, r);
    await store.update(BY_DIGEST, { state: 'copying' }, { upsert: true });
    // the engine answers an up-to-date digest without a request upstream
    t.equal(await tenancy.afterCopy(BY_DIGEST, plan, 'pod', { upToDate: true }), 'private');
    t.equal((await store.get(BY_DIGEST))?.grantedNamespaces, null, `${r.namespace} is not granted by the copy`);
    t.ok(await tenancy.verifications.hasPending(BY_DIGEST), 'but waits for its check');
    await store.update(BY_DIGEST, { state: 'mirrored', digest: DIGEST, sourceDigest: DIGEST, mirroredAt: new Date().toISOString(), access: 'private' });
    await tenancy.verifyPending(BY_DIGEST);
  }
  t.equal((await store.get(BY_DIGEST))?.grantedNamespaces, 'team-a', 'the secret the upstream accepts is granted, the wrong one is not');
  t.same(calls, ['anon', 'bob', 'anon', 'alice'], 'each secret was sent upstream once');
  t.same(await tenancy.copyPlan(BY_DIGEST, undefined), { host: H }, 'and no unproven secret is remembered for later copies');
});

t.test("ferry's own credentials when the pod has none for the host, or the host does not read pull secrets", async (t) => {
  const noEntry = setup(t, FROM_PODS, {});
  t.same(await noEntry.tenancy.copyPlan(REF, A), { host: H });
  t.same(noEntry.reads, ['team-a/regcred']);
  const waiting = setup(t, FROM_PODS, {}, { 'team-c': { username: 'carol', password: 'c' } });
  await waiting.tenancy.verifications.add(REF, { namespace: 'team-c', pullSecrets: ['legacy'] });
  t.match(await waiting.tenancy.copyPlan(REF, undefined), { pod: { requester: { namespace: 'team-c' } } }, 'no requester of its own: a namespace waiting for the image lends its secret');
  t.ok(await waiting.tenancy.verifications.hasPending(REF), 'and still waits (the copy grants it)');
  const off = setup(t, {}, {});
  t.same(await off.tenancy.copyPlan(REF, A), { host: H });
  t.same(off.reads, [], 'credentialsFromPods off: no Secret is read');
  t.equal((await off.tenancy.copy({ host: H }, { src: REF, dst: 'm/x' }, off.shared)).used, 'none', 'no credentials anywhere');
  const own = setup(t, { registries: { [H]: { username: 'ferry', password: 'x' } } }, {});
  t.equal((await own.tenancy.copy({ host: H }, { src: REF, dst: 'm/x' }, own.shared)).used, 'ferry');
});

t.test('the anonymous probe: 2xx public, 401/403/404 private, anything else unknown', async (t) => {
  const rows: [Answer, string | undefined][] = [
    [DIGEST, 'public'],
    [undefined, 'private'],
    [refused(), 'private'],
    [registryError('DENIED', 'HTTP 403', { host: H }), 'private'],
    [registryError('SERVER', 'HTTP 503', { host: H }), undefined],
  ];
  for (const [a, want] of rows) {
    const { tenancy, calls } = setup(t, {}, { anon: a });
    t.equal(await tenancy.probe(REF, H), want, `${a instanceof Error ? (a as Error & { code: string }).code : (a ?? '404')} -> ${want ?? 'unknown'}`);
    t.same(calls, ['anon']);
  }
  const { tenancy, calls } = setup(t, {}, {});
  t.equal(await tenancy.afterCopy(REF, { host: H }, 'none', { upToDate: false }), 'public', 'no credentials used: public without asking');
  t.same(calls, []);
});

t.test('waiting namespaces: granted on the same digest, refused (and left alone a while) otherwise', async (t) => {
  const secrets = { 'team-c': { username: 'carol', password: 'c' }, 'team-b': { username: 'bob', password: 'b' }, 'team-e': { username: 'eve', password: 'e' } };
  const { tenancy, store, calls, reads } = setup(t, FROM_PODS, { carol: DIGEST, bob: refused(), eve: 'sha256:' + 'e'.repeat(64) }, secrets);
  const C: Requester = { namespace: 'team-c', pullSecrets: ['legacy'] };
  const B: Requester = { namespace: 'team-b', pullSecrets: ['regcred'] };
  const E: Requester = { namespace: 'team-e', pullSecrets: ['other'] };
  await store.update(REF, { state: 'copying', mirroredAt: null }, { upsert: true });
  await tenancy.verifications.add(REF, C);
  t.same(await tenancy.verifyPending(REF), { granted: [], notGranted: [] }, 'not copied yet: nothing checked');
  t.ok(await tenancy.verifications.hasPending(REF), 'team-c still waits');

  await store.update(REF, { state: 'mirrored', digest: DIGEST, sourceDigest: DIGEST, mirroredAt: new Date().toISOString(), access: 'private', grantedNamespaces: 'team-a' });
  for (const r of [B, E, A]) await tenancy.verifications.add(REF, r);
  const out = await tenancy.verifyPending(REF);
  t.same(out.granted, ['team-c']);
  t.same(out.notGranted.sort(), ['team-b', 'team-e'], 'a refused secret and another digest');
  t.equal((await store.get(REF))?.grantedNamespaces, 'team-a,team-c');
  t.notOk(reads.some((r) => r.startsWith('team-a/')), 'an already granted namespace is not checked again');
  t.ok(await tenancy.verifications.recentlyFailed(REF, B));
  calls.length = 0;
  await tenancy.verifications.add(REF, B);
  t.same(await tenancy.verifyPending(REF), { granted: [], notGranted: ['team-b'] });
  t.same(calls, [], 'a namespace that just failed is not sent upstream again');
  await tenancy.verifications.add(REF, { namespace: 'team-b', pullSecrets: ['fixed'] });
  await tenancy.verifyPending(REF);
  t.same(calls, ['bob'], 'other secret names: checked at once');
});

t.test('access found out on a verification, and public images need no namespace check', async (t) => {
  const { tenancy, store, reads } = setup(t, { registries: { [H]: { username: 'ferry', password: 'x', credentialsFromPods: true } } }, { anon: DIGEST });
  await store.update(REF, { state: 'mirrored', digest: DIGEST, mirroredAt: new Date().toISOString() }, { upsert: true });
  await tenancy.verifications.add(REF, A);
  await tenancy.verifyPending(REF);
  t.equal((await store.get(REF))?.access, 'public', 'probed');
  t.same(reads, [], 'public: no pull secret read');
  t.notOk(await tenancy.verifications.hasPending(REF), 'and nobody left waiting');
  const imported = setup(t, { registries: { [H]: { username: 'ferry', password: 'x' } } }, {});
  await imported.store.update(REF, { state: 'mirrored', digest: DIGEST, mirroredAt: new Date().toISOString(), source: 'import' }, { upsert: true });
  await imported.tenancy.verifyPending(REF);
  t.equal((await imported.store.get(REF))?.access, 'public', 'an imported image is the operator\'s: public');
  t.same(imported.calls, [], 'without asking upstream');
});

t.test('new content whose probe says nothing: access unknown again, not what the old content had', async (t) => {
  const { tenancy, store, shared, config } = setup(t, { registries: { [H]: { username: 'ferry', password: 'x' } } }, { anon: registryError('SERVER', 'HTTP 503', { host: H }) });
  const processor = createProcessor({ store, engine: shared as never, config: () => config, logger: pino({ level: 'silent' }), handingBack: () => false, tenancy });
  const old = 'sha256:' + '0'.repeat(64);
  await store.update(REF, { state: 'queued', digest: old, sourceDigest: old, mirroredAt: new Date().toISOString(), access: 'public' }, { upsert: true });
  const job = { id: '1', name: 'copy', data: { ref: REF, mirrorRef: 'm/x' }, attemptsMade: 0, opts: { attempts: 3 } };
  await processor(job as never, undefined, undefined);
  const rec = await store.get(REF);
  t.equal(rec?.digest, DIGEST, 'the tag moved and was copied, with credentials');
  t.equal(rec?.access, null, "a public record from the old content is not the new content's answer");
});
