/**
 * Tenant isolation end to end (SPEC "Trust model": a pod is rewritten only to a mirrored image its own
 * namespace could have pulled upstream), with nothing stubbed: a real webhook and worker role in one
 * process (as `ferry all` runs them), real redis-server, a docker-registry with htpasswd auth as the
 * private upstream, an anonymous one as the public upstream, a real mirror, and the stand-in Kubernetes
 * API holding the namespaces' pull secrets, read through @kubernetes/client-node.
 *
 *  - team-a's pull secret copies a private image (credentialsFromPods): team-a is granted it, and only team-a.
 *  - team-b (a wrong password) stays on the upstream, is denied under enforce with the fix, and is not
 *    granted after the worker checked its secret; naming ferry's copy directly is denied too.
 *  - team-c (valid credentials of its own, legacy .dockercfg) is granted once its secret is verified.
 *  - a public image is everyone's; an image ferry copied with its own credentials goes to shareWith only.
 *  - no password reaches a log line, Redis (records, jobs, bookkeeping) or an admission answer.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { readFileSync } from 'node:fs';
import { resolveConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/observability/index.js';
import { Verifications, type ImageRecord } from '../../src/queue/index.js';
import { createContext } from '../../src/runtime/index.js';
import { startWebhook } from '../../src/webhook/index.js';
import { startWorker } from '../../src/worker/index.js';
import { buildImage, inspectRaw, pushImage } from '../support/images.js';
import { postJson } from '../support/https.js';
import { startKubeApi } from '../support/kube-api.js';
import { startRedis } from '../support/redis.js';
import { startRegistry } from '../support/registry.js';
import { dockercfgSecret, dockerconfigjsonSecret, SECRET_TYPE } from './support/secrets.js';

const rnd = () => Math.random().toString(36).slice(2, 12);
const PW = { alice: `alice-${rnd()}`, carol: `carol-${rnd()}`, ferry: `ferry-${rnd()}`, wrong: `wrong-${rnd()}` };
const htpasswd = (users: [string, string][]) => users.map(([u, p]) => execFileSync('htpasswd', ['-Bbn', u, p]).toString().trim()).join('\n') + '\n';

const dir = mkdtempSync(join(tmpdir(), 'ferry-tenancy-'));
const [redis, priv, own, pub, mirror] = await Promise.all([
  startRedis(),
  startRegistry({ htpasswd: htpasswd([['alice', PW.alice], ['carol', PW.carol]]) }),
  startRegistry({ htpasswd: htpasswd([['ferry', PW.ferry]]) }),
  startRegistry(),
  startRegistry(),
]);
t.teardown(async () => {
  await Promise.all([redis.stop(), priv.stop(), own.stop(), pub.stop(), mirror.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

async function push(host: string, repo: string, creds?: { username: string; password: string }): Promise<{ ref: string; digest: string }> {
  const layout = join(dir, `img-${rnd()}`);
  const img = buildImage(layout, { tag: 'v1', layerSizes: [2048] });
  await pushImage(layout, 'v1', `${host}/${repo}:v1`, creds);
  return { ref: `${host}/${repo}:v1`, digest: img.digest };
}
const PRIV = await push(priv.host, 'acme/app', { username: 'alice', password: PW.alice });
const PRIV2 = await push(priv.host, 'acme/worker', { username: 'alice', password: PW.alice });
const OLD = await push(pub.host, 'library/old');
const OWN = await push(own.host, 'tools/cli', { username: 'ferry', password: PW.ferry });
const PUB = await push(pub.host, 'library/web');

const api = await startKubeApi({
  extraTypes: [SECRET_TYPE],
  objects: [
    dockerconfigjsonSecret('team-a', 'regcred', { [priv.host]: { user: 'alice', password: PW.alice } }),
    dockerconfigjsonSecret('team-b', 'regcred', { [priv.host]: { user: 'alice', password: PW.wrong } }),
    dockercfgSecret('team-c', 'legacy', { [`http://${priv.host}`]: { user: 'carol', password: PW.carol, as: 'fields' } }),
  ],
});
t.teardown(() => api.close());

// A credentials file for every host ("*") that names none of these: ferry *could* have used credentials
// anywhere, so every copy is probed and records without access are not handed out unchecked.
const credentialsFile = join(dir, 'config.json');
writeFileSync(credentialsFile, JSON.stringify({ auths: { 'unrelated.example': { auth: Buffer.from('x:y').toString('base64') } } }));

const lines: string[] = [];
const logger = createLogger('debug', new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }));
const loaded = resolveConfig({
  mirror: { registry: mirror.host, insecure: true },
  queue: { redisUrl: redis.url, prefix: `ten${rnd().slice(0, 6)}`, backoff: { initialMs: 200, maxMs: 2000 } },
  webhook: { port: 0, host: '127.0.0.1' },
  copy: { platforms: [] },
  registries: {
    '*': { credentialsFile },
    [priv.host]: { credentialsFromPods: true },
    [own.host]: { username: 'ferry', password: PW.ferry, shareWith: ['shared-*'] },
  },
  kubernetes: { namespaceInformer: 'off', podInformer: 'off', events: false },
  log: { level: 'debug' },
});
const ctx = createContext(loaded, logger, { KUBECONFIG: api.kubeconfig(dir) });
const webhook = await startWebhook(ctx);
const worker = await startWorker(ctx);
t.teardown(async () => {
  await worker.close();
  await webhook.close();
  await ctx.close();
});
const ca = readFileSync(webhook.caFile!);
const mirrorRef = (ref: string) => ctx.mirrorRefOf(ref);

let uid = 0;
/** One AdmissionReview (CREATE of a pod with one container) through HTTPS; returns its response. */
async function admit(namespace: string, image: string, o: { pullSecrets?: string[]; annotations?: Record<string, string> } = {}) {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `p${uid}`, namespace, annotations: o.annotations ?? {} },
    spec: { containers: [{ name: 'app', image }], ...(o.pullSecrets ? { imagePullSecrets: o.pullSecrets.map((name) => ({ name })) } : {}) },
  };
  const review = {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: { uid: `u${uid++}`, kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' }, namespace, operation: 'CREATE', object: pod },
  };
  const res = await postJson(`${webhook.url}/mutate`, review, ca);
  return res.body.response as { allowed: boolean; patch?: string; warnings?: string[]; status?: { message: string } };
}
const imageAfter = (r: { patch?: string }, original: string): string => {
  const ops = r.patch ? (JSON.parse(Buffer.from(r.patch, 'base64').toString()) as { path: string; value: unknown }[]) : [];
  return (ops.find((o) => o.path === '/spec/containers/0/image')?.value as string | undefined) ?? original;
};

async function eventually<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
const record = (ref: string) => ctx.store.get(ref);
const mirrored = (ref: string) => eventually(`${ref} mirrored`, async () => ((await record(ref))?.state === 'mirrored' ? ((await record(ref)) as ImageRecord) : undefined));
const secretReads = (ns: string) => api.requests.filter((r) => r.method === 'GET' && r.path.startsWith(`/api/v1/namespaces/${ns}/secrets/`)).length;

t.test("team-a's pull secret copies the private image; team-a alone is granted it", async (t) => {
  const first = await admit('team-a', PRIV.ref, { pullSecrets: ['regcred'] });
  t.equal(first.allowed, true);
  t.equal(imageAfter(first, PRIV.ref), PRIV.ref, 'not copied yet: the pod pulls upstream with its own secret');
  const rec = await mirrored(PRIV.ref);
  t.equal(rec.access, 'private', 'the anonymous probe was refused');
  t.equal(rec.grantedNamespaces, 'team-a', 'the namespace whose secret copied it');
  t.equal(rec.sourceDigest, PRIV.digest);
  t.ok(secretReads('team-a') >= 1, "the worker read team-a's secret through the API");
  t.equal((await inspectRaw(mirrorRef(PRIV.ref)))?.digest, PRIV.digest, 'the mirror holds it');
  const again = await eventually('team-a rewritten', async () => {
    const r = await admit('team-a', PRIV.ref, { pullSecrets: ['regcred'] });
    return imageAfter(r, PRIV.ref) !== PRIV.ref && r;
  });
  t.equal(imageAfter(again, PRIV.ref), mirrorRef(PRIV.ref), "team-a's next pod is rewritten to the mirror");
});

t.test('team-b, with a wrong password, stays on the upstream and is never granted', async (t) => {
  const r = await admit('team-b', PRIV.ref, { pullSecrets: ['regcred'] });
  t.equal(r.allowed, true);
  t.equal(imageAfter(r, PRIV.ref), PRIV.ref, 'left upstream');
  t.match(r.warnings, [new RegExp(`left on the upstream: .*namespace "team-b" has none verified.*add an imagePullSecret with credentials for ${priv.host}`)]);
  const verifications = new Verifications(ctx.store);
  await eventually("team-b's secret checked", () => verifications.recentlyFailed(PRIV.ref, { namespace: 'team-b', pullSecrets: ['regcred'] }));
  t.equal((await record(PRIV.ref))?.grantedNamespaces, 'team-a', 'not granted');
  t.ok(secretReads('team-b') >= 1, "the worker read team-b's secret");
  t.ok(lines.some((l) => l.includes('namespace not granted') && l.includes('the registry refused the credentials')), 'the refusal is logged');
  t.equal(imageAfter(await admit('team-b', PRIV.ref, { pullSecrets: ['regcred'] }), PRIV.ref), PRIV.ref, 'still upstream');
  const noSecret = await admit('team-b', PRIV.ref);
  t.equal(imageAfter(noSecret, PRIV.ref), PRIV.ref, 'a pod without pull secrets too');

  const denied = await admit('team-b', PRIV.ref, { pullSecrets: ['regcred'], annotations: { 'ferry.io/mode': 'enforce' } });
  t.equal(denied.allowed, false, 'enforce: denied');
  t.match(denied.status?.message, new RegExp(`ferry denied this pod: image "${PRIV.ref}" \\(container "app"\\) is not given to this namespace: .*add an imagePullSecret with credentials for ${priv.host}`));
  const direct = await admit('team-b', mirrorRef(PRIV.ref), { annotations: { 'ferry.io/skip': 'true' } });
  t.equal(direct.allowed, false, "naming ferry's copy directly is denied, skip or not");
  t.match(direct.status?.message, new RegExp(`is ferry's copy of ${PRIV.ref}.*name ${PRIV.ref} instead`));
  t.equal((await admit('team-a', mirrorRef(PRIV.ref))).allowed, true, 'team-a may name it');
});

t.test('team-b naming the digest the mirror already holds is not granted by a copy that asked the upstream nothing', async (t) => {
  const byDigest = `${priv.host}/acme/app@${PRIV.digest}`;
  const first = await admit('team-b', byDigest, { pullSecrets: ['regcred'] });
  t.equal(imageAfter(first, byDigest), byDigest, 'left upstream');
  // The copy with team-b's (wrong) secret is up to date at once: the mirror has that digest from team-a's copy.
  const rec = await mirrored(byDigest);
  t.equal(rec.access, 'private');
  const verifications = new Verifications(ctx.store);
  const checked = async () => (await record(byDigest))?.grantedNamespaces ?? (await verifications.recentlyFailed(byDigest, { namespace: 'team-b', pullSecrets: ['regcred'] }));
  await eventually('the grant decided', checked);
  t.equal((await record(byDigest))?.grantedNamespaces, null, 'team-b is not granted: its secret was checked against the upstream, and refused');
  t.equal(imageAfter(await admit('team-b', byDigest, { pullSecrets: ['regcred'] }), byDigest), byDigest, 'and stays upstream');
  t.equal((await admit('team-b', mirrorRef(byDigest))).allowed, false, "naming ferry's copy by digest is denied too");
});

t.test("team-c's own valid secret (legacy .dockercfg) is verified against the digest and granted", async (t) => {
  const r = await admit('team-c', PRIV.ref, { pullSecrets: ['legacy'] });
  t.equal(imageAfter(r, PRIV.ref), PRIV.ref, 'upstream until verified');
  t.match(r.warnings, [/checking the pod's imagePullSecrets \(legacy\) now/]);
  await eventually('team-c granted', async () => (await record(PRIV.ref))?.grantedNamespaces === 'team-a,team-c');
  const after = await eventually('team-c rewritten', async () => {
    const x = await admit('team-c', PRIV.ref, { pullSecrets: ['legacy'] });
    return imageAfter(x, PRIV.ref) !== PRIV.ref && x;
  });
  t.equal(imageAfter(after, PRIV.ref), mirrorRef(PRIV.ref));
  t.equal(imageAfter(await admit('team-b', PRIV.ref, { pullSecrets: ['regcred'] }), PRIV.ref), PRIV.ref, 'team-b still is not');
});

t.test('a public image is shared with every namespace', async (t) => {
  await admit('team-b', PUB.ref);
  const rec = await mirrored(PUB.ref);
  t.equal(rec.access, 'public', 'the anonymous probe was answered');
  t.equal(rec.grantedNamespaces, null);
  for (const ns of ['team-a', 'team-b', 'anyone']) {
    const r = await eventually(`${ns} rewritten`, async () => {
      const x = await admit(ns, PUB.ref);
      return imageAfter(x, PUB.ref) !== PUB.ref && x;
    });
    t.equal(imageAfter(r, PUB.ref), mirrorRef(PUB.ref), `${ns}: rewritten`);
  }
});

t.test("an image ferry copied with its own credentials goes only to the operator's shareWith", async (t) => {
  const first = await admit('team-b', OWN.ref);
  t.equal(imageAfter(first, OWN.ref), OWN.ref);
  const rec = await eventually('access known', async () => {
    const r = await record(OWN.ref);
    return r?.state === 'mirrored' && r.access ? r : undefined;
  });
  t.equal(rec.access, 'private', "ferry's own credentials were needed");
  t.equal(rec.grantedNamespaces, null, 'nobody granted: no pod secret was used');
  const shared = await eventually('shared-x rewritten', async () => {
    const x = await admit('shared-x', OWN.ref);
    return imageAfter(x, OWN.ref) !== OWN.ref && x;
  });
  t.equal(imageAfter(shared, OWN.ref), mirrorRef(OWN.ref), 'shareWith: rewritten');
  const b = await admit('team-b', OWN.ref);
  t.equal(imageAfter(b, OWN.ref), OWN.ref, 'anyone else: upstream');
  t.match(b.warnings, [new RegExp(`registries\\.${own.host.replace(/\./g, '\\.')}\\.shareWith`)], 'told to ask the operator (no credentialsFromPods here)');
});

t.test('two namespaces ask for a new private image at once: one copies it, the other is verified after', async (t) => {
  const [a, c] = await Promise.all([admit('team-a', PRIV2.ref, { pullSecrets: ['regcred'] }), admit('team-c', PRIV2.ref, { pullSecrets: ['legacy'] })]);
  t.equal(imageAfter(a, PRIV2.ref), PRIV2.ref);
  t.equal(imageAfter(c, PRIV2.ref), PRIV2.ref);
  await eventually('both granted', async () => (await record(PRIV2.ref))?.grantedNamespaces === 'team-a,team-c');
  t.equal((await record(PRIV2.ref))?.access, 'private');
});

t.test('a record from before ferry checked access is probed on first use, then shared', async (t) => {
  await ctx.store.update(
    OLD.ref,
    { mirrorRef: mirrorRef(OLD.ref), state: 'mirrored', digest: OLD.digest, sourceDigest: OLD.digest, mirroredAt: new Date().toISOString(), source: 'admission', attempts: 1, maxAttempts: 8 },
    { upsert: true },
  );
  const first = await eventually('the view has the old record', async () => {
    const r = await admit('team-b', OLD.ref);
    return (r.warnings?.length ?? 0) > 0 && r;
  });
  t.equal(imageAfter(first, OLD.ref), OLD.ref, 'unknown access: not handed out yet');
  t.match(first.warnings, [/has not yet checked whether .* serves it without credentials; ferry is checking now/]);
  await eventually('probed', async () => (await record(OLD.ref))?.access === 'public');
  const after = await eventually('team-b rewritten', async () => {
    const x = await admit('team-b', OLD.ref);
    return imageAfter(x, OLD.ref) !== OLD.ref && x;
  });
  t.equal(imageAfter(after, OLD.ref), mirrorRef(OLD.ref));
});

t.test('no credential reaches a log line, Redis or an admission answer', async (t) => {
  t.ok(lines.length > 20, `${lines.length} log lines captured`);
  const secrets = [PW.alice, PW.carol, PW.ferry, PW.wrong, ...['alice', 'carol'].map((u) => Buffer.from(`${u}:${PW[u as 'alice' | 'carol']}`).toString('base64'))];
  const logText = lines.join('');
  for (const s of secrets) t.notOk(logText.includes(s), `no log line holds ${s.slice(0, 6)}…`);
  // every key ferry wrote: records, jobs, pending verifications, requesters
  const dump: string[] = [];
  const conn = ctx.connection;
  for (const key of await conn.keys(`${loaded.config.queue.prefix}*`)) {
    const type = await conn.type(key);
    if (type === 'string') dump.push(String(await conn.get(key)));
    else if (type === 'hash') dump.push(JSON.stringify(await conn.hgetall(key)));
    else if (type === 'list') dump.push(JSON.stringify(await conn.lrange(key, 0, -1)));
    else if (type === 'set') dump.push(JSON.stringify(await conn.smembers(key)));
    else if (type === 'zset') dump.push(JSON.stringify(await conn.zrange(key, 0, -1)));
    else if (type === 'stream') dump.push(JSON.stringify(await conn.xrange(key, '-', '+')));
  }
  t.ok(dump.length > 5, `${dump.length} Redis keys read`);
  const redisText = dump.join('\n');
  for (const s of secrets) t.notOk(redisText.includes(s), `Redis holds no ${s.slice(0, 6)}…`);
  t.ok(redisText.includes('regcred'), 'secret names are kept (they are not secrets)');
  const answers = JSON.stringify(await admit('team-b', PRIV.ref, { pullSecrets: ['regcred'], annotations: { 'ferry.io/mode': 'enforce' } }));
  for (const s of secrets) t.notOk(answers.includes(s), 'nor does an admission answer');
});
