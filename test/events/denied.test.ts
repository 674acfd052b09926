/**
 * FerryDenied through the real webhook role: HTTPS AdmissionReviews in, core/v1 Events out to the
 * stand-in Kubernetes API (real client-node), checked with the real kubectl. The admission answer
 * never waits on that API: a stalling or absent API server changes nothing about it.
 */
import t, { type Test } from 'tap';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolveConfig } from '../../src/config/index.js';
import { createContext } from '../../src/runtime/index.js';
import { startWebhook } from '../../src/webhook/index.js';
import { postJson } from '../support/https.js';
import { startRedis } from '../support/redis.js';
import type { ResourceType } from '../support/kube-api.js';
import { captureLogger, clientFor, coreEvents, stallingServer, standIn } from './support/events.js';

const redis = await startRedis();
t.teardown(() => redis.stop());

const fixture = JSON.parse(readFileSync(new URL('../fixtures/admission-review.json', import.meta.url), 'utf8'));
const BLOCK = [{ pattern: 'docker.io/library/busybox:*', reason: 'CVE-2026-0001: use distroless' }];
const REPLICASETS: ResourceType = { group: 'apps', version: 'v1', resource: 'replicasets', kind: 'ReplicaSet', namespaced: true, shortNames: ['rs'] };

/** The fixture's review (a ReplicaSet's pod: generateName + controller ownerReference) under a new uid, changed by `change`. */
function review(change: (r: any) => void = () => {}): any {
  const r = structuredClone(fixture);
  r.request.uid = randomUUID();
  change(r);
  return r;
}

/** A webhook role whose kubeconfig is `kubeconfig` (the KUBECONFIG of its process). */
async function boot(t: Test, kubeconfig: string, raw: object = {}) {
  const loaded = resolveConfig({
    mirror: { registry: '127.0.0.1:5999' },
    queue: { redisUrl: redis.url, prefix: `ev${Math.random().toString(36).slice(2, 8)}` },
    webhook: { port: 0, host: '127.0.0.1' },
    block: BLOCK,
    kubernetes: { namespaceInformer: 'off' },
    ...raw,
  });
  const { logger, lines } = captureLogger();
  const ctx = createContext(loaded, logger, { KUBECONFIG: kubeconfig });
  const role = await startWebhook(ctx);
  t.teardown(async () => {
    await role.close();
    await ctx.close();
  });
  const ca = readFileSync(role.caFile!);
  return {
    role,
    lines,
    mutate: (body: unknown) => postJson(`${role.url}/mutate`, body, ca),
    validate: (body: unknown) => postJson(`${role.url}/validate`, body, ca),
  };
}

t.test("a ReplicaSet's pods denied 20 times: one Event on the ReplicaSet, x20, shown by kubectl describe", async (t) => {
  const { api, kubeconfig, kubectl } = await standIn(t);
  api.store.register(REPLICASETS);
  const rs = api.apply({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'checkout-7d9f8b6c5', namespace: 'shop', labels: { app: 'checkout' } },
    spec: { replicas: 1, selector: { matchLabels: { app: 'checkout' } }, template: { metadata: { labels: { app: 'checkout' } }, spec: fixture.request.object.spec } },
  });
  const { role, mutate, validate } = await boot(t, kubeconfig);
  t.ok(role.events, 'a cluster and kubernetes.events: the role records');
  const owned = (r: any) => (r.request.object.metadata.ownerReferences[0].uid = rs.metadata!.uid);
  for (let i = 0; i < 20; i++) {
    const res = await mutate(review(owned));
    t.equal(res.body.response.allowed, false, `denial ${i + 1}`);
  }
  t.equal(coreEvents(api).length, 0, 'nothing written on the admission path');
  await role.events!.flush();
  const [ev, ...more] = coreEvents(api, 'shop');
  t.same(more, [], 'one Event');
  t.match(ev, {
    type: 'Warning',
    reason: 'FerryDenied',
    count: 20,
    involvedObject: { kind: 'ReplicaSet', name: 'checkout-7d9f8b6c5', namespace: 'shop', uid: rs.metadata!.uid, apiVersion: 'apps/v1' },
    message: /^ferry denied a pod of this ReplicaSet: .*busybox:1\.36.*CVE-2026-0001: use distroless/,
    source: { component: 'ferry' },
  });

  // The same review at both webhooks (the API server would stop at the first; a retry re-sends the uid): counted once.
  const same = review(owned);
  t.equal((await mutate(same)).body.response.allowed, false);
  t.equal((await validate(same)).body.response.allowed, false);
  await role.events!.flush();
  t.equal(coreEvents(api, 'shop')[0]?.count, 21, 'one more, not two');

  const described = await kubectl('describe', 'replicaset', 'checkout-7d9f8b6c5', '-n', 'shop');
  t.match(described, /Warning\s+FerryDenied\s+\S+ \(x21 over \S+\)\s+ferry\s+ferry denied a pod of this ReplicaSet: /);
});

t.test('a named pod: the Event is about the pod; an UPDATE of a running pod shows in kubectl describe pod', async (t) => {
  const { api, kubeconfig, kubectl } = await standIn(t, [
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'checkout', namespace: 'shop' }, spec: { containers: [{ name: 'proxy', image: 'nginx:1.27' }] } },
  ]);
  const uid = api.get('Pod', 'shop', 'checkout').metadata!.uid!;
  const { role, mutate } = await boot(t, kubeconfig);

  const bare = review((r) => {
    r.request.object.metadata = { name: 'debug', namespace: 'shop' };
  });
  t.equal((await mutate(bare)).body.response.allowed, false);

  // kubectl set image pod/checkout proxy=busybox:1.36
  const update = review((r) => {
    r.request.operation = 'UPDATE';
    r.request.name = 'checkout';
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'checkout', namespace: 'shop', uid }, spec: { containers: [{ name: 'proxy', image: 'nginx:1.27' }] } };
    r.request.oldObject = pod;
    r.request.object = structuredClone(pod);
    r.request.object.spec.containers[0].image = 'busybox:1.36';
  });
  t.equal((await mutate(update)).body.response.allowed, false);

  const noOwner = review((r) => delete r.request.object.metadata.ownerReferences);
  t.equal((await mutate(noOwner)).body.response.allowed, false);
  const dry = review((r) => (r.request.dryRun = true));
  t.equal((await mutate(dry)).body.response.allowed, false);

  await role.events!.flush();
  const about = coreEvents(api, 'shop')
    .map((e) => `${e.involvedObject.kind}/${e.involvedObject.name}/${e.involvedObject.uid ?? ''}`)
    .sort();
  t.same(about, ['Pod/checkout-7d9f8b6c5-/', 'Pod/checkout/' + uid, 'Pod/debug/'], 'the named pods, else the generateName; a dry run records nothing');
  const described = await kubectl('describe', 'pod', 'checkout', '-n', 'shop');
  t.match(described, /Warning\s+FerryDenied\s+\S+\s+ferry\s+ferry denied this pod: .*busybox:1\.36.*CVE-2026-0001/);
});

t.test('the admission answer never waits for the Kubernetes API: stalled or down', async (t) => {
  const stall = await stallingServer(t);
  const stalled = await clientFor(t, stall.url);
  const { role, mutate, lines } = await boot(t, stalled.kubeconfig);
  for (let i = 0; i < 3; i++) await mutate(review());
  const flushing = role.events!.flush(); // its requests hang until their deadline (10 s)
  await new Promise((r) => setTimeout(r, 100));
  t.ok(stall.accepted() >= 1, 'a write is in flight, unanswered');
  for (let i = 0; i < 10; i++) {
    const started = Date.now();
    const res = await mutate(review());
    const took = Date.now() - started;
    t.equal(res.body.response.allowed, false);
    t.ok(took < 500, `answered in ${took} ms while the API stalls`);
  }
  t.equal(role.events!.backlog, 13, 'kept in memory, aggregated');
  void flushing;
  t.notOk(lines().some((l) => l.level === 50), 'no errors logged on the admission path');

  const down = await clientFor(t, 'http://127.0.0.1:1');
  const second = await boot(t, down.kubeconfig);
  const started = Date.now();
  t.equal((await second.mutate(review())).body.response.allowed, false);
  t.ok(Date.now() - started < 500, 'answered at once with the API down');
  await second.role.events!.flush();
  t.equal(second.role.events!.backlog, 1, 'the write failed and waits for the next flush');
});

t.test('kubernetes.events: false: no recorder, denials as before', async (t) => {
  const { api, kubeconfig } = await standIn(t);
  const off = await boot(t, kubeconfig, { kubernetes: { namespaceInformer: 'off', events: false } });
  t.equal(off.role.events, undefined);
  t.equal((await off.mutate(review())).body.response.allowed, false);
  t.equal(api.requests.length, 0, 'the API was never called');
});
