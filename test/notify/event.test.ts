/** The pure parts of notifications: CloudEvent shape and ids, the config diff, the signature, the status verdicts, the retry budget. */
import { createHmac } from 'node:crypto';
import t from 'tap';
import {
  buildCloudEvent,
  classifyStatus,
  diffImageConfigs,
  eventId,
  notifyAttempts,
  notifyDelay,
  representativeChild,
  signBody,
  verifySignature,
  NOTIFY_ERROR_CODES,
} from '../../src/notify/index.js';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;

t.test('a tagMoved CloudEvent is CloudEvents 1.0 structured JSON', async (t) => {
  const input = { event: 'tagMoved' as const, ref: 'up.example:5000/demo/app:stable', mirrorRef: 'mirror.local:5000/up.example_5000/demo/app:stable', oldDigest: A, newDigest: B, watchId: 'app', kind: 'moved', tag: 'stable' };
  const ev = buildCloudEvent(input, 'mirror.local:5000', () => Date.parse('2026-01-02T03:04:05Z'));
  t.same(ev, {
    specversion: '1.0',
    id: eventId(input),
    source: 'ferry://mirror.local:5000/watch/app',
    type: 'io.ferry.tagMoved',
    time: '2026-01-02T03:04:05.000Z',
    subject: input.ref,
    datacontenttype: 'application/json',
    data: { ref: input.ref, mirrorRef: input.mirrorRef, oldDigest: A, newDigest: B, watchId: 'app', kind: 'moved', tag: 'stable', configDiff: null },
  });
  t.match(ev.id, /^[0-9a-f]{32}$/, 'no ":" (a BullMQ job id is built from it)');
  t.equal(buildCloudEvent(input, 'elsewhere', () => 0).id, ev.id, 'the same event seen elsewhere, later, has the same id');
  t.not(eventId({ ...input, newDigest: A, oldDigest: B }), ev.id, 'the move back is another event');
  t.not(eventId({ ...input, watchId: 'other' }), ev.id);
});

t.test('source and type per event; an error carries its code and no diff', async (t) => {
  const base = { ref: 'r.example/x:1', mirrorRef: 'm.example/r.example/x:1' };
  t.match(buildCloudEvent({ ...base, event: 'drifted', oldDigest: A, newDigest: B }, 'm.example'), { type: 'io.ferry.drifted', source: 'ferry://m.example/refresh' });
  t.match(buildCloudEvent({ ...base, event: 'mirrored', oldDigest: null, newDigest: B }, 'm.example'), {
    type: 'io.ferry.mirrored',
    source: 'ferry://m.example/worker',
    data: { oldDigest: null, newDigest: B, configDiff: null, configDiffReason: 'no previous digest to compare with' },
  });
  const err = buildCloudEvent({ ...base, event: 'error', error: { code: 'FERRY_ERR_REGISTRY_NOT_FOUND', message: 'gone' }, occurrence: 'job 7' }, 'm.example');
  t.match(err, { type: 'io.ferry.error', data: { error: { code: 'FERRY_ERR_REGISTRY_NOT_FOUND', message: 'gone' }, configDiff: null, configDiffReason: /no new image/ } });
  t.not(err.id, buildCloudEvent({ ...base, event: 'error', error: { code: null, message: 'gone' }, occurrence: 'job 8' }, 'm.example').id, 'two failed copies are two events');
});

const cfg = (c: Record<string, unknown>) => ({ architecture: 'amd64', os: 'linux', config: c });

t.test('config diff: the deployment contract fields', async (t) => {
  const cases: { name: string; a: unknown; b: unknown; want: Record<string, unknown>; changed: boolean }[] = [
    { name: 'identical', a: cfg({ Env: ['A=1'], ExposedPorts: { '80/tcp': {} } }), b: cfg({ Env: ['A=1'], ExposedPorts: { '80/tcp': {} } }), want: { exposedPorts: { added: [], removed: [] } }, changed: false },
    { name: 'env value change is not reported (names only)', a: cfg({ Env: ['TOKEN=old'] }), b: cfg({ Env: ['TOKEN=new'] }), want: { envNames: { added: [], removed: [] } }, changed: false },
    { name: 'env names added and removed', a: cfg({ Env: ['PATH=/bin', 'OLD=1'] }), b: cfg({ Env: ['PATH=/usr/bin', 'NEW=secret'] }), want: { envNames: { added: ['NEW'], removed: ['OLD'] } }, changed: true },
    { name: 'ports', a: cfg({ ExposedPorts: { '80/tcp': {} } }), b: cfg({ ExposedPorts: { '8080/tcp': {}, '9090/udp': {} } }), want: { exposedPorts: { added: ['8080/tcp', '9090/udp'], removed: ['80/tcp'] } }, changed: true },
    { name: 'entrypoint and cmd', a: cfg({ Entrypoint: ['/app'], Cmd: ['serve'] }), b: cfg({ Entrypoint: ['/app'], Cmd: ['serve', '--v2'] }), want: { cmd: { old: ['serve'], new: ['serve', '--v2'] } }, changed: true },
    { name: 'entrypoint removed', a: cfg({ Entrypoint: ['/init'] }), b: cfg({}), want: { entrypoint: { old: ['/init'], new: null } }, changed: true },
    { name: 'user', a: cfg({ User: '' }), b: cfg({ User: '1000:1000' }), want: { user: { old: null, new: '1000:1000' } }, changed: true },
    {
      name: 'labels added, removed, changed',
      a: cfg({ Labels: { keep: '1', gone: 'x', ver: '1.0' } }),
      b: cfg({ Labels: { keep: '1', ver: '2.0', fresh: 'y' } }),
      want: { labels: { added: { fresh: 'y' }, removed: { gone: 'x' }, changed: { ver: { old: '1.0', new: '2.0' } } } },
      changed: true,
    },
    { name: 'malformed config reads as empty', a: 'not json object', b: cfg({ ExposedPorts: { '80/tcp': {} } }), want: { exposedPorts: { added: ['80/tcp'], removed: [] } }, changed: true },
  ];
  for (const c of cases) {
    const d = diffImageConfigs(c.a, c.b);
    t.match(d, c.want, c.name);
    t.equal(d.changed, c.changed, `${c.name}: changed`);
  }
  const same = diffImageConfigs(cfg({ Cmd: ['x'] }), cfg({ Cmd: ['x'] }));
  t.notOk('cmd' in same || 'entrypoint' in same || 'user' in same, 'unchanged scalars are left out');
  t.notMatch(JSON.stringify(diffImageConfigs(cfg({ Env: ['S=hunter2'] }), cfg({ Env: ['T=hunter3'] }))), /hunter/, 'no env value ever appears');
});

t.test('an index is compared on linux/amd64, else the first real platform', async (t) => {
  t.same(representativeChild([{ digest: 'a', platform: { os: 'linux', architecture: 'arm64' } }, { digest: 'b', platform: { os: 'linux', architecture: 'amd64' } }]), { digest: 'b', platform: { os: 'linux', architecture: 'amd64' } });
  t.match(representativeChild([{ digest: 'att', platform: { os: 'unknown', architecture: 'unknown' } }, { digest: 'c', platform: { os: 'linux', architecture: 's390x' } }]), { digest: 'c' });
  t.equal(representativeChild('nope'), undefined);
});

t.test('the signature is GitHub-style HMAC-SHA256 of the exact body', async (t) => {
  const body = '{"specversion":"1.0"}';
  const header = signBody(body, 's3cret');
  t.equal(header, `sha256=${createHmac('sha256', 's3cret').update(body).digest('hex')}`);
  t.ok(verifySignature(body, 's3cret', header));
  t.notOk(verifySignature(`${body} `, 's3cret', header), 'one byte more: no match');
  t.notOk(verifySignature(body, 'other', header));
  t.notOk(verifySignature(body, 's3cret', undefined));
});

t.test('status verdicts: 2xx delivered, 408/429/5xx retried, other 4xx permanent', async (t) => {
  for (const s of [200, 202, 204]) t.equal(classifyStatus(s, 'u').outcome, 'delivered', String(s));
  for (const s of [408, 429, 500, 502, 503]) t.match(classifyStatus(s, 'u'), { outcome: 'retry', error: { code: NOTIFY_ERROR_CODES.UNAVAILABLE } }, String(s));
  for (const s of [301, 400, 401, 403, 404, 410, 422]) t.match(classifyStatus(s, 'u'), { outcome: 'permanent', error: { code: NOTIFY_ERROR_CODES.REJECTED, hint: /CloudEvents/ } }, String(s));
});

t.test('retries: capped at 10 minutes, spread over at least a day with the default backoff', async (t) => {
  const b = { initialMs: 1000, maxMs: 600_000 };
  t.equal(notifyDelay(1, b, () => 1), 1000);
  t.equal(notifyDelay(50, b, () => 1), 600_000);
  t.equal(notifyDelay(50, { initialMs: 1000, maxMs: 10 * 3600_000 }, () => 1), 600_000, 'never above 10 minutes');
  const n = notifyAttempts(b);
  let least = 0;
  for (let i = 1; i < n; i++) least += notifyDelay(i, b, () => 0);
  t.ok(least >= 24 * 3600_000, `${n} attempts span at least 24 h (${Math.round(least / 3600_000)} h)`);
  t.ok(n < 400);
});
