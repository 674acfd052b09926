/**
 * The producer's side of tenant isolation, on a real redis-server: a copy request carries its pod's
 * requester into the job; a second namespace asking for the same image waits to be verified; a
 * verification request is one job per image and namespace, however many pods ask.
 */
import t from 'tap';
import { connectRedis, createQueue, ImageStore, Producer, Verifications, COPY_JOB, VERIFY_JOB } from '../../src/queue/index.js';
import { startRedis } from '../support/redis.js';

const redis = await startRedis();
t.teardown(() => redis.stop());

async function setup(prefix: string) {
  const conn = connectRedis(redis.url);
  const store = new ImageStore(conn, prefix);
  const queue = createQueue(conn, prefix);
  const producer = new Producer({ store, queue, maxAttempts: () => 5, bufferLimit: 10_000 });
  return {
    store,
    queue,
    producer,
    verifications: new Verifications(store),
    async close() {
      await producer.close();
      await queue.close();
      conn.disconnect();
    },
  };
}

const REF = 'ghcr.io/acme/app:1';
const A = { namespace: 'team-a', pullSecrets: ['regcred'] };
const C = { namespace: 'team-c', pullSecrets: ['legacy'] };

t.test('two namespaces ask for one new image: one copy with the first requester, the second waits to be verified', async (t) => {
  const s = await setup('pv1');
  t.teardown(() => s.close());
  s.producer.enqueue({ ref: REF, mirrorRef: `m/${REF}`, source: 'admission', requester: A });
  s.producer.enqueue({ ref: REF, mirrorRef: `m/${REF}`, source: 'admission', requester: C });
  await s.producer.flush();
  // a third asks once the record exists (another webhook replica, or a later flush)
  s.producer.enqueue({ ref: REF, mirrorRef: `m/${REF}`, source: 'admission', requester: { namespace: 'team-d', pullSecrets: ['d'] } });
  await s.producer.flush();
  const jobs = await s.queue.getJobs(['waiting']);
  const copies = jobs.filter((j) => j.name === COPY_JOB);
  t.equal(copies.length, 1, 'one copy');
  t.same(copies[0]!.data.requester, A, "with the first namespace's secret names");
  t.same((await s.verifications.peek(REF)).map((r) => r.namespace).sort(), ['team-c', 'team-d'], 'the others wait');
  t.ok(jobs.some((j) => j.name === VERIFY_JOB), 'and a verification is on its way');
});

t.test('verification requests: one job per image and namespace, the secret names kept', async (t) => {
  const s = await setup('pv2');
  t.teardown(() => s.close());
  for (let i = 0; i < 50; i++) {
    s.producer.enqueue({ ref: REF, mirrorRef: `m/${REF}`, source: 'admission', verify: true, requester: i % 2 ? A : C });
    s.producer.enqueue({ ref: REF, mirrorRef: `m/${REF}`, source: 'admission', verify: true });
  }
  await s.producer.flush();
  const verify = (await s.queue.getJobs(['waiting'])).filter((j) => j.name === VERIFY_JOB);
  t.equal(verify.length, 3, 'team-a, team-c and the access probe');
  t.same(verify[0]!.data, { ref: REF, mirrorRef: `m/${REF}` }, 'a job carries the image only');
  t.same((await s.verifications.take(REF)).sort((x, y) => x.namespace.localeCompare(y.namespace)), [A, C]);
  t.same(await s.verifications.take(REF), [], 'taken once');
  t.equal(await s.store.get(REF), undefined, 'a verification never creates a record');
});

t.test('whose pull secret copied an image is forgotten with its record', async (t) => {
  const s = await setup(`prm${Math.random().toString(36).slice(2, 8)}`);
  t.teardown(() => s.close());
  const ref = 'ghcr.io/acme/app:1';
  await s.store.update(ref, { state: 'mirrored' }, { upsert: true });
  await s.verifications.rememberRequester(ref, { namespace: 'team-a', pullSecrets: ['regcred'] });
  t.ok(await s.verifications.requesterOf(ref));
  t.equal(await s.store.remove(ref), true);
  t.equal(await s.verifications.requesterOf(ref), undefined);
  t.equal(await s.store.redis.hlen(s.store.k.requesters), 0, 'no field left behind');
});
