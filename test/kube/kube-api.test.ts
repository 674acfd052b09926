/**
 * The stand-in Kubernetes API server (test/support/kube-api.ts) against the two real clients ferry's
 * cluster awareness will meet: the `kubectl` binary and `@kubernetes/client-node` informers. Nothing is
 * mocked on the client side; every assertion is on what the clients did or what the server logged.
 */
import t, { type Test } from 'tap';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startKubeApi, type KubeApi, type KubeObject } from '../support/kube-api.js';

const k8s = await import('@kubernetes/client-node');
type Obj = import('@kubernetes/client-node').KubernetesObject;
/** makeInformer returns a ListWatch, which is also the cache (`list`, `get`). */
type Informer = import('@kubernetes/client-node').Informer<Obj> & import('@kubernetes/client-node').ObjectCache<Obj>;
const run = promisify(execFile);

const dir = mkdtempSync(join(tmpdir(), 'ferry-kube-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const pod = (ns: string, name: string, image = 'nginx:1.27', labels?: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: ns, ...(labels ? { labels } : {}) },
  spec: { containers: [{ name: 'app', image }] },
  status: { phase: 'Running', containerStatuses: [{ name: 'app', image, imageID: `docker.io/library/${image}@sha256:${'a'.repeat(64)}` }] },
});

async function standIn(tt: Test, opts: Parameters<typeof startKubeApi>[0] = {}): Promise<{ api: KubeApi; kubeconfig: string }> {
  const api = await startKubeApi(opts);
  tt.teardown(() => api.close());
  const d = mkdtempSync(join(dir, 'kc-'));
  return { api, kubeconfig: api.kubeconfig(d) };
}

function kubeConfig(file: string): InstanceType<typeof k8s.KubeConfig> {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(file);
  return kc;
}

/** An informer over all pods whose list pages with `limit` (0 = one page), the way ferry's will. */
function podInformer(kc: InstanceType<typeof k8s.KubeConfig>, opts: { limit?: number; bookmarks?: boolean } = {}): Informer {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const list = async (): Promise<{ metadata: { resourceVersion?: string }; items: KubeObject[] }> => {
    const items: KubeObject[] = [];
    let cont: string | undefined;
    let rv: string | undefined;
    do {
      const page = await core.listPodForAllNamespaces({ ...(opts.limit ? { limit: opts.limit } : {}), ...(cont ? { _continue: cont } : {}) });
      items.push(...(page.items as KubeObject[]));
      rv = page.metadata?.resourceVersion;
      cont = page.metadata?._continue;
    } while (cont);
    return { metadata: { resourceVersion: rv }, items };
  };
  // ListWatch appends its own query parameters to the path, so a parameter it does not know rides along in it.
  return k8s.makeInformer<Obj>(kc, opts.bookmarks ? '/api/v1/pods?allowWatchBookmarks=true' : '/api/v1/pods', list as never) as Informer;
}

/** Resolves with the first object for which `verb` fires and `pred` holds. */
function next(inf: Informer, verb: 'add' | 'update' | 'delete', pred: (o: Obj) => boolean = () => true, ms = 10_000): Promise<Obj> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (inf.off(verb, cb), reject(new Error(`no informer ${verb} within ${ms} ms`))), ms);
    const cb = (o: Obj): void => {
      if (!pred(o)) return;
      clearTimeout(timer);
      inf.off(verb, cb);
      resolve(o);
    };
    inf.on(verb, cb);
  });
}

const named = (name: string) => (o: Obj) => o.metadata?.name === name;
const names = (objs: ReadonlyArray<Obj | KubeObject>): string[] => objs.map((o) => `${o.metadata?.namespace}/${o.metadata?.name}`).sort();
const podLists = (api: KubeApi) => api.requests.filter((r) => r.method === 'GET' && r.path === '/api/v1/pods' && !r.watch);
const podWatches = (api: KubeApi) => api.requests.filter((r) => r.path === '/api/v1/pods' && r.watch);

/** Starts the informer (resolves once the first list is in); the returned array collects its errors. */
async function startInformer(tt: Test, inf: Informer): Promise<unknown[]> {
  const errors: unknown[] = [];
  inf.on('error', (e) => errors.push(e));
  tt.teardown(() => inf.stop());
  await inf.start();
  return errors;
}

t.test('kubectl: get, create, apply, delete, watch', async (tt) => {
  const { api, kubeconfig } = await standIn(tt, { objects: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } }, pod('team-a', 'web'), pod('default', 'db', 'postgres:16')] });
  const kubectl = async (...args: string[]): Promise<string> => (await run('kubectl', ['--kubeconfig', kubeconfig, ...args], { encoding: 'utf8' })).stdout;

  const all = JSON.parse(await kubectl('get', 'pods', '-A', '-o', 'json')) as { kind: string; items: KubeObject[] };
  tt.equal(all.kind, 'List');
  tt.same(names(all.items), ['default/db', 'team-a/web']);

  const one = await kubectl('get', 'pod', 'web', '-n', 'team-a');
  tt.match(one, /^NAME\s+AGE\nweb\s+\d+s\n$/, 'a single pod, printed by kubectl');
  const missing = await kubectl('get', 'pod', 'nope', '-n', 'team-a').then(() => '', (e: { stderr?: string }) => e.stderr ?? '');
  tt.match(missing, /pods "nope" not found/, 'a missing pod is a 404 Status kubectl understands');

  // kubectl finds fieldValidation in the stand-in's minimal openapi v3 and leaves validation to it.
  const file = join(dir, 'api-pod.json');
  writeFileSync(file, JSON.stringify(pod('team-a', 'api', 'redis:7')));
  tt.match(await kubectl('create', '-f', file), 'pod/api created');
  tt.equal(api.requests.find((r) => r.method === 'POST')?.query.fieldValidation, 'Strict', 'no --validate=false needed');
  const created = api.get('Pod', 'team-a', 'api');
  tt.match(created.metadata, { uid: /^[0-9a-f-]{36}$/, resourceVersion: /^\d+$/, creationTimestamp: /Z$/ });

  writeFileSync(file, JSON.stringify(pod('team-a', 'api', 'redis:8', { tier: 'cache' })));
  tt.match(await kubectl('apply', '-f', file), 'pod/api configured');
  const applied = api.get('Pod', 'team-a', 'api') as KubeObject & { spec: { containers: Array<{ image: string }> } };
  tt.equal(applied.spec.containers[0]?.image, 'redis:8', 'apply patched the image');
  tt.same(applied.metadata?.labels, { tier: 'cache' });
  tt.equal(applied.metadata?.uid, created.metadata?.uid, 'same object, patched');
  tt.ok(api.requests.some((r) => r.method === 'PATCH' && /strategic-merge-patch/.test(r.contentType ?? '')), 'kubectl sent a strategic merge patch');

  tt.match(await kubectl('delete', 'pod', 'api', '-n', 'team-a'), 'pod "api" deleted');
  tt.same(names(api.list('Pod')), ['default/db', 'team-a/web']);

  // get --watch: the initial list, then a live event, then kill it.
  const child = spawn('kubectl', ['--kubeconfig', kubeconfig, 'get', 'pods', '-n', 'team-a', '--watch', '--output-watch-events']);
  tt.teardown(() => child.kill('SIGKILL'));
  let out = '';
  const seen = (re: RegExp): Promise<void> =>
    new Promise((resolve, reject) => {
      const onData = (d: Buffer): void => ((out += d.toString()), check());
      child.stdout.on('data', onData);
      const timer = setTimeout(() => reject(new Error(`kubectl printed no ${re} within 10 s: ${out}`)), 10_000);
      const check = (): void => void (re.test(out) && (clearTimeout(timer), child.stdout.off('data', onData), resolve()));
      child.once('exit', (code) => reject(new Error(`kubectl exited (${code}) before ${re}: ${out}`)));
      check();
    });
  await seen(/^EVENT\s+NAME\s+AGE\nADDED\s+web\s/);
  await api.waitForRequest((r) => r.watch && r.path === '/api/v1/namespaces/team-a/pods');
  api.apply(pod('team-a', 'worker'));
  await seen(/ADDED\s+worker\s/);
  api.remove('Pod', 'team-a', 'worker');
  await seen(/DELETED\s+worker\s/);
  child.kill('SIGTERM');
});

t.test('informer: ADDED, MODIFIED, DELETED across namespaces', async (tt) => {
  const { api, kubeconfig } = await standIn(tt, { objects: [pod('a', 'one'), pod('b', 'two')] });
  const inf = podInformer(kubeConfig(kubeconfig));
  const added = [next(inf, 'add', named('one')), next(inf, 'add', named('two'))];
  const errors = await startInformer(tt, inf);
  await Promise.all(added);
  await api.waitForRequest((r) => r.watch && r.path === '/api/v1/pods');

  const three = next(inf, 'add', named('three'));
  api.apply(pod('c', 'three'));
  tt.equal((await three).metadata?.namespace, 'c');

  const updated = next(inf, 'update', named('one'));
  api.apply(pod('a', 'one', 'nginx:1.28'));
  tt.match(await updated, { spec: { containers: [{ image: 'nginx:1.28' }] } });

  const gone = next(inf, 'delete', named('two'));
  api.remove('Pod', 'b', 'two');
  await gone;
  tt.same(names(inf.list()), ['a/one', 'c/three']);
  tt.equal(podLists(api).length, 1, 'one list, then only the watch');
  tt.same(errors, [], 'the informer reported no errors');
});

t.test('informer: a 410 after compaction makes it relist', async (tt) => {
  const { api, kubeconfig } = await standIn(tt, { objects: [pod('a', 'one'), pod('a', 'two')] });
  const inf = podInformer(kubeConfig(kubeconfig));
  const synced = next(inf, 'add', named('two'));
  const errors = await startInformer(tt, inf);
  await synced;
  await api.waitForRequest((r) => r.watch && r.path === '/api/v1/pods');

  // Changes the pod watch never carries move the global resourceVersion past the informer's.
  api.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'elsewhere' } });
  api.compact();
  api.disconnectWatches();
  await api.waitForSent((s) => s.some((e) => e.type === 'ERROR' && e.path === '/api/v1/pods'));
  await api.waitForRequest(() => podLists(api).length === 2);
  await api.waitForRequest(() => podWatches(api).length === 3);
  const [first, second, third] = podWatches(api);
  tt.equal(second?.query.resourceVersion, first?.query.resourceVersion, 're-watched from where it was');
  tt.equal(third?.query.resourceVersion, String(api.store.resourceVersion), 'then watched from the relist');

  const after = next(inf, 'add', named('three'));
  api.apply(pod('a', 'three'));
  await after;
  tt.same(names(inf.list()), ['a/one', 'a/three', 'a/two']);
  tt.same(errors, [], 'the informer reported no errors');
});

t.test('informer: changes missed while away are reconciled by the relist', async (tt) => {
  const { api, kubeconfig } = await standIn(tt, { objects: [pod('a', 'one'), pod('a', 'two')] });
  const inf = podInformer(kubeConfig(kubeconfig));
  const synced = next(inf, 'add', named('two'));
  inf.on('error', () => {}); // stop() aborts the watch, which the client reports as an error
  await inf.start();
  tt.teardown(() => inf.stop());
  await synced;
  await api.waitForRequest((r) => r.watch && r.path === '/api/v1/pods');

  const aborted = new Promise((resolve) => inf.on('error', resolve));
  await inf.stop();
  await aborted;
  api.remove('Pod', 'a', 'one');
  api.apply(pod('b', 'four'));
  api.compact();

  const deleted = next(inf, 'delete', named('one'));
  const added = next(inf, 'add', named('four'));
  await inf.start();
  await Promise.all([deleted, added]);
  tt.ok(api.sent.some((e) => e.type === 'ERROR'), 'the resumed watch got 410');
  tt.same(names(inf.list()), ['a/two', 'b/four']);
  tt.equal(podLists(api).length, 2);
});

t.test('paging: limit and continue; an expired continue token answers 410', async (tt) => {
  const objects = Array.from({ length: 23 }, (_, i) => pod(`ns-${i % 3}`, `p-${String(i).padStart(2, '0')}`));
  const { api, kubeconfig } = await standIn(tt, { objects });
  const inf = podInformer(kubeConfig(kubeconfig), { limit: 10 });
  const errors = await startInformer(tt, inf);
  tt.equal(inf.list().length, 23, 'every pod, from three pages');
  const lists = podLists(api);
  tt.same(lists.map((r) => [r.query.limit, Boolean(r.query.continue)]), [['10', false], ['10', true], ['10', true]]);
  tt.same(errors, [], 'the informer reported no errors');

  const page = (await (await fetch(`${api.url}/api/v1/namespaces/ns-0/pods?limit=2`)).json()) as { metadata: { continue: string; resourceVersion: string } };
  tt.ok(page.metadata.continue);
  const more = await fetch(`${api.url}/api/v1/namespaces/ns-0/pods?limit=2&continue=${page.metadata.continue}`);
  tt.match(await more.json(), { metadata: { resourceVersion: page.metadata.resourceVersion }, items: [{}, {}] });
  api.apply(pod('ns-0', 'late'));
  api.compact();
  const expired = await fetch(`${api.url}/api/v1/namespaces/ns-0/pods?limit=2&continue=${page.metadata.continue}`);
  tt.equal(expired.status, 410);
  tt.match(await expired.json(), { kind: 'Status', code: 410, reason: 'Expired' });
});

t.test('bookmarks: sent on request, and let the informer resume after compaction without relisting', async (tt) => {
  const { api, kubeconfig } = await standIn(tt, { bookmarkIntervalMs: 50, objects: [pod('a', 'one')] });
  const inf = podInformer(kubeConfig(kubeconfig), { bookmarks: true });
  const errors = await startInformer(tt, inf);
  await api.waitForRequest((r) => r.watch && r.query.allowWatchBookmarks === 'true');

  api.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'elsewhere' } });
  const target = String(api.store.resourceVersion);
  await api.waitForSent((s) => s.some((e) => e.type === 'BOOKMARK' && e.resourceVersion === target));
  api.compact();
  api.disconnectWatches();
  const rewatch = await api.waitForRequest(() => podWatches(api).length === 2).then(() => podWatches(api)[1]);
  tt.equal(rewatch?.query.resourceVersion, target, 're-watched from the bookmark');
  tt.notOk(api.sent.some((e) => e.type === 'ERROR'), 'no 410');

  const two = next(inf, 'add', named('two'));
  api.apply(pod('a', 'two'));
  await two;
  tt.same(names(inf.list()), ['a/one', 'a/two']);
  tt.equal(podLists(api).length, 1, 'never relisted');
  tt.same(errors, [], 'the informer reported no errors');

  // Without allowWatchBookmarks there are none.
  const before = api.sent.length;
  const plain = await fetch(`${api.url}/api/v1/namespaces/a/pods?watch=true&resourceVersion=${api.store.resourceVersion}&timeoutSeconds=1`);
  const body = await plain.text();
  tt.equal(body, '', 'a watch with nothing to say, ended by timeoutSeconds');
  tt.equal(api.sent.slice(before).filter((e) => e.path === '/api/v1/namespaces/a/pods').length, 0);
});

t.test('watch protocol by hand: replay, 410 as an ERROR event, namespace scope', async (tt) => {
  const { api } = await standIn(tt, { objects: [pod('a', 'one'), pod('b', 'two')] });
  const rv0 = api.store.resourceVersion;
  api.apply(pod('a', 'one', 'nginx:2'));
  api.remove('Pod', 'b', 'two');
  api.apply(pod('a', 'three'));
  const lines = async (q: string): Promise<Array<{ type: string; object: KubeObject }>> => {
    const res = await fetch(`${api.url}${q}`);
    tt.equal(res.status, 200);
    return (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as { type: string; object: KubeObject });
  };
  const all = await lines(`/api/v1/pods?watch=true&resourceVersion=${rv0}&timeoutSeconds=1`);
  tt.same(all.map((e) => `${e.type} ${e.object.metadata?.name}`), ['MODIFIED one', 'DELETED two', 'ADDED three']);
  const scoped = await lines(`/api/v1/namespaces/b/pods?watch=true&resourceVersion=${rv0}&timeoutSeconds=1`);
  tt.same(scoped.map((e) => e.type), ['DELETED']);
  api.compact();
  const expired = await lines(`/api/v1/pods?watch=true&resourceVersion=${rv0}`);
  tt.match(expired, [{ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } }]);
});

t.test('events: core v1 and events.k8s.io/v1 are stored', async (tt) => {
  const { api, kubeconfig } = await standIn(tt, { objects: [pod('a', 'one')] });
  const kc = kubeConfig(kubeconfig);
  const target = api.get('Pod', 'a', 'one');
  const involved = { kind: 'Pod', namespace: 'a', name: 'one', uid: target.metadata?.uid, apiVersion: 'v1' };
  await kc.makeApiClient(k8s.CoreV1Api).createNamespacedEvent({
    namespace: 'a',
    body: { metadata: { generateName: 'one.' }, involvedObject: involved, reason: 'FerryRewrote', message: 'rewrote', type: 'Normal' },
  });
  await kc.makeApiClient(k8s.EventsV1Api).createNamespacedEvent({
    namespace: 'a',
    body: { metadata: { name: 'one.2' }, regarding: involved, reason: 'FerryDenied', note: 'denied', type: 'Warning', eventTime: new Date(), reportingController: 'ferry', reportingInstance: 'ferry-0', action: 'Admit' },
  });
  const events = api.events('a') as Array<KubeObject & { reason?: string }>;
  tt.same(events.map((e) => `${e.apiVersion} ${e.reason}`).sort(), ['events.k8s.io/v1 FerryDenied', 'v1 FerryRewrote']);
  const { stdout } = await run('kubectl', ['--kubeconfig', kubeconfig, 'get', 'events', '-n', 'a', '--field-selector', 'involvedObject.name=one', '-o', 'name'], { encoding: 'utf8' });
  tt.match(stdout, /^event\/one\.\w+$/m);
});
