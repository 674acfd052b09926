/**
 * The event recorder (src/kube/events.ts) against the stand-in Kubernetes API through the real
 * client-node, and what the real kubectl then shows. Broken API servers (never answering, refusing)
 * are real sockets too.
 */
import t from 'tap';
import { createEventRecorder, EventRecorder, kubeEventSink, type EventSink, type RecordedEvent } from '../../src/kube/index.js';
import { eventsDropped, eventsWritten } from '../../src/kube/metrics.js';
import { captureLogger, clientFor, coreEvents, refusingServer, stallingServer, standIn } from './support/events.js';

const counter = async (c: typeof eventsDropped | typeof eventsWritten, labels: Record<string, string>): Promise<number> =>
  (await c.get()).values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k as never] === x))?.value ?? 0;

const denied = (over: Partial<RecordedEvent> = {}): RecordedEvent => ({
  namespace: 'shop',
  involvedObject: { kind: 'Pod', name: 'web', uid: 'uid-web', apiVersion: 'v1' },
  type: 'Warning',
  reason: 'FerryDenied',
  message: 'ferry denied this pod: image evil.io/x:1 is blocked: malware',
  ...over,
});

/** A recorder whose clock the test moves (the token bucket reads it). */
function clocked(sink: EventSink, opts: Partial<ConstructorParameters<typeof EventRecorder>[0]> = {}) {
  let now = Date.parse('2025-01-01T10:00:00Z');
  const { logger, lines } = captureLogger();
  const recorder = new EventRecorder({ sink, logger, flushIntervalMs: 60_000, now: () => now, instance: 'ferry-0', ...opts });
  t.teardown(() => recorder.close(100));
  return { recorder, lines, advance: (ms: number) => (now += ms), at: () => now };
}

t.test('identical occurrences are one Event: created with its count, later bumped by one merge patch per flush', async (t) => {
  const { api, client } = await standIn(t);
  const { recorder, advance, at } = clocked(kubeEventSink(client, { timeoutMs: 5000 }));
  const before = await counter(eventsWritten, { reason: 'FerryDenied', type: 'Warning' });
  const first = at();
  for (let i = 0; i < 20; i++) recorder.record(denied());
  t.equal(coreEvents(api).length, 0, 'record() writes nothing by itself');
  t.equal(recorder.backlog, 20);
  advance(1500);
  recorder.record(denied());
  await recorder.flush();
  const [ev, ...more] = coreEvents(api, 'shop');
  t.same(more, [], 'one Event');
  t.match(ev, {
    metadata: { namespace: 'shop', name: /^web\.[0-9a-f]+$/ },
    involvedObject: { kind: 'Pod', name: 'web', namespace: 'shop', uid: 'uid-web', apiVersion: 'v1' },
    type: 'Warning',
    reason: 'FerryDenied',
    message: 'ferry denied this pod: image evil.io/x:1 is blocked: malware',
    count: 21,
    source: { component: 'ferry' },
    reportingComponent: 'ferry',
    reportingInstance: 'ferry-0',
  });
  t.equal(Date.parse(ev!.firstTimestamp), first, 'firstTimestamp: the first occurrence');
  t.equal(Date.parse(ev!.lastTimestamp), first + 1500, 'lastTimestamp: the latest');
  t.equal(api.requests.filter((r) => r.method === 'POST').length, 1, 'one create for 21 occurrences');
  t.equal(recorder.backlog, 0);

  advance(3000);
  for (let i = 0; i < 4; i++) recorder.record(denied());
  await recorder.flush();
  const patches = api.requests.filter((r) => r.method === 'PATCH');
  t.equal(patches.length, 1, 'one PATCH for 4 more');
  t.match(patches[0], { path: `/api/v1/namespaces/shop/events/${ev!.metadata!.name}`, contentType: /merge-patch\+json/ });
  const bumped = api.get('Event', 'shop', ev!.metadata!.name!, 'v1') as Record<string, any>;
  t.equal(bumped.count, 25);
  t.equal(Date.parse(bumped.lastTimestamp), first + 4500);
  t.equal(bumped.firstTimestamp, ev!.firstTimestamp, 'firstTimestamp kept');
  await recorder.flush();
  t.equal(api.requests.filter((r) => r.method !== 'GET').length, 2, 'nothing new: no write');
  t.equal((await counter(eventsWritten, { reason: 'FerryDenied', type: 'Warning' })) - before, 25, 'ferry_events_total counts occurrences written');

  recorder.record(denied({ message: 'ferry denied this pod: something else' }));
  recorder.record(denied({ involvedObject: { kind: 'Pod', name: 'api', uid: 'uid-api' } }));
  await recorder.flush();
  t.equal(coreEvents(api, 'shop').length, 3, 'another message or another object: another Event');
});

t.test('an Event that expired on the server is created again (a PATCH answered 404)', async (t) => {
  const { api, client } = await standIn(t);
  const { recorder } = clocked(kubeEventSink(client, { timeoutMs: 5000 }));
  recorder.record(denied());
  await recorder.flush();
  const name = coreEvents(api)[0]!.metadata!.name!;
  api.remove('Event', 'shop', name, 'v1');
  recorder.record(denied());
  recorder.record(denied());
  await recorder.flush();
  const [again, ...more] = coreEvents(api);
  t.same(more, []);
  t.equal(again?.metadata?.name, name, 'same name');
  t.equal(again?.count, 3, 'the count carries on');
  t.ok(api.requests.some((r) => r.method === 'PATCH' && r.status === 404), 'the patch met a 404 first');
});

t.test('kubectl describe pod and kubectl get events show what was recorded', async (t) => {
  const { api, client, kubectl } = await standIn(t, [
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'shop' }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] } },
  ]);
  const uid = api.get('Pod', 'shop', 'web').metadata!.uid!;
  const { logger } = captureLogger();
  const recorder = createEventRecorder(client, logger, { flushIntervalMs: 60_000 });
  t.teardown(() => recorder.close(100));
  for (let i = 0; i < 3; i++) recorder.record(denied({ involvedObject: { kind: 'Pod', name: 'web', uid, apiVersion: 'v1' } }));
  recorder.record(denied({ involvedObject: { kind: 'Pod', name: 'web', uid: 'another-pod-of-that-name' }, message: 'not this one' }));
  await recorder.flush();
  const described = await kubectl('describe', 'pod', 'web', '-n', 'shop');
  t.match(described, /Events:\n\s+Type\s+Reason\s+Age\s+From\s+Message\n/);
  t.match(described, /Warning\s+FerryDenied\s+\S+ \(x3 over \S+\)\s+ferry\s+ferry denied this pod: image evil\.io\/x:1 is blocked: malware/);
  t.notMatch(described, /not this one/, 'kubectl matches on the uid');
  // The stand-in serves no Table output: the columns are kubectl's own.
  const columns = 'TYPE:.type,REASON:.reason,KIND:.involvedObject.kind,OBJECT:.involvedObject.name,COUNT:.count,FROM:.source.component,MESSAGE:.message';
  const listed = await kubectl('get', 'events', '-n', 'shop', '--field-selector', `involvedObject.uid=${uid}`, '-o', `custom-columns=${columns}`);
  t.match(listed, /^TYPE\s+REASON\s+KIND\s+OBJECT\s+COUNT\s+FROM\s+MESSAGE\nWarning\s+FerryDenied\s+Pod\s+web\s+3\s+ferry\s+ferry denied this pod: image evil\.io\/x:1 is blocked: malware\n$/);
});

t.test('bounds: distinct events beyond maxKeys are dropped, writes wait for tokens, messages stop at 1 KiB', async (t) => {
  const { api, client } = await standIn(t);
  const { recorder, advance } = clocked(kubeEventSink(client, { timeoutMs: 5000 }), { maxKeys: 4, burst: 2, writesPerSecond: 1 });
  const overflow = await counter(eventsDropped, { cause: 'overflow' });
  for (let i = 0; i < 6; i++) recorder.record(denied({ involvedObject: { kind: 'Pod', name: `p${i}` } }));
  recorder.record(denied({ involvedObject: { kind: 'Pod', name: 'p5' } }));
  t.equal((await counter(eventsDropped, { cause: 'overflow' })) - overflow, 2, 'the two least recent were pushed out');
  t.equal(recorder.backlog, 5);
  await recorder.flush();
  t.same(coreEvents(api).map((e) => e.involvedObject.name).sort(), ['p2', 'p3'], 'burst 2: two writes, least recently recorded first');
  advance(1000);
  await recorder.flush();
  t.equal(coreEvents(api).length, 3, 'one token a second');
  advance(10_000);
  await recorder.flush();
  t.same(coreEvents(api).map((e) => [e.involvedObject.name, e.count]).sort(), [['p2', 1], ['p3', 1], ['p4', 1], ['p5', 2]]);

  const long = 'é'.repeat(3000);
  recorder.record(denied({ message: long }));
  advance(10_000);
  await recorder.flush();
  const message = coreEvents(api).find((e) => e.involvedObject.name === 'web')!.message as string;
  t.ok(Buffer.byteLength(message) <= 1024, `${Buffer.byteLength(message)} bytes`);
  t.ok(message.endsWith('é...'), 'cut between characters, marked');
});

t.test('an API that never answers: flush and close give up at their deadlines, sockets are closed, nothing throws', async (t) => {
  const stall = await stallingServer(t);
  const { client } = await clientFor(t, stall.url);
  const { recorder, lines } = clocked(kubeEventSink(client, { timeoutMs: 300 }), { concurrency: 2 });
  for (let i = 0; i < 5; i++) recorder.record(denied({ involvedObject: { kind: 'Pod', name: `p${i}` } }));
  const started = Date.now();
  await recorder.flush();
  const took = Date.now() - started;
  t.ok(took >= 250 && took < 1500, `flush ended at the request deadline (${took} ms)`);
  t.equal(stall.accepted(), 2, 'two requests at a time, and no more once they timed out');
  await new Promise((r) => setTimeout(r, 50));
  t.equal(stall.open(), 0, 'timed-out requests closed their sockets');
  t.equal(recorder.backlog, 5, 'kept for the next flush');
  const warned = lines().filter((l) => l.msg?.toString().startsWith('cannot write Kubernetes Events'));
  t.equal(warned.length, 1, 'logged once for the whole interval');
  t.match(warned[0], { err: /did not answer within 300 ms/ });

  recorder.record(denied());
  const closing = Date.now();
  await recorder.close(400);
  t.ok(Date.now() - closing < 2000, 'close is bounded');
  recorder.record(denied());
  t.pass('record after close is a no-op');
});

t.test('an API that refuses (403 without RBAC): dropped, counted, logged with a hint, not retried', async (t) => {
  const refuse = await refusingServer(t, 403, 'events is forbidden: User "system:serviceaccount:ferry:ferry" cannot create resource "events"');
  const { client } = await clientFor(t, refuse.url);
  const { recorder, lines, advance } = clocked(kubeEventSink(client, { timeoutMs: 2000 }));
  const rejected = await counter(eventsDropped, { cause: 'rejected' });
  recorder.record(denied());
  recorder.record(denied());
  await recorder.flush();
  t.equal((await counter(eventsDropped, { cause: 'rejected' })) - rejected, 2);
  t.equal(recorder.backlog, 0);
  advance(60_000);
  await recorder.flush();
  t.equal(refuse.requests(), 1, 'not retried');
  const [warn] = lines().filter((l) => l.level === 40);
  t.match(warn, { status: 403, err: /^HTTP 403: events is forbidden/, hint: /create.*patch.*events/ });
  t.notMatch(JSON.stringify(lines()), /not-a-real-token/, 'the token never reaches the log');
});

t.test('an API that is down (connection refused) and 503: retried at the next flush', async (t) => {
  const unavailable = await refusingServer(t, 503, 'etcd is away');
  const { client } = await clientFor(t, unavailable.url);
  const { recorder, advance } = clocked(kubeEventSink(client, { timeoutMs: 2000 }));
  recorder.record(denied());
  await recorder.flush();
  t.equal(recorder.backlog, 1, 'still pending');
  advance(1000);
  await recorder.flush();
  t.equal(unavailable.requests(), 2, 'tried again');

  const { client: nowhere } = await clientFor(t, 'http://127.0.0.1:1');
  const down = clocked(kubeEventSink(nowhere, { timeoutMs: 2000 }));
  down.recorder.record(denied());
  await down.recorder.flush();
  t.equal(down.recorder.backlog, 1);
});
