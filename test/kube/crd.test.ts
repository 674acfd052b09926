/**
 * CustomResourceDefinitions on the stand-in Kubernetes API server (test/support/kube-api.ts), driven by the
 * real `kubectl` and the real `@kubernetes/client-node`: a CRD applied over HTTP serves its resource at once,
 * kubectl prints its printer columns, the status subresource keeps status and spec apart, generation counts
 * spec changes only, stale writes conflict, and deleting the CRD takes its objects with it.
 */
import t, { type Test } from 'tap';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { startKubeApi, type KubeApi, type KubeObject } from '../support/kube-api.js';

const k8s = await import('@kubernetes/client-node');
type Obj = import('@kubernetes/client-node').KubernetesObject;
type Informer = import('@kubernetes/client-node').Informer<Obj> & import('@kubernetes/client-node').ObjectCache<Obj>;
const run = promisify(execFile);

const CRD_FILE = join(import.meta.dirname, 'fixtures', 'widgets.example.ferry.test.yaml');
const GROUP = 'example.ferry.test';
const WIDGETS = { group: GROUP, version: 'v1', plural: 'widgets' };

const dir = mkdtempSync(join(tmpdir(), 'ferry-crd-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

type Widget = KubeObject & { spec?: { color?: string; size?: number }; status?: Record<string, unknown> };
const widget = (name: string, spec: Widget['spec'], extra: Partial<Widget> = {}): Widget => ({
  apiVersion: `${GROUP}/v1`,
  kind: 'Widget',
  metadata: { name, namespace: 'default' },
  spec,
  ...extra,
});

interface StandIn {
  api: KubeApi;
  kubeconfig: string;
  kubectl: (...args: string[]) => Promise<string>;
  /** A file in this test's directory holding `obj` as JSON (kubectl -f takes JSON as YAML). */
  file: (name: string, obj: unknown) => string;
}

async function standIn(tt: Test, opts: Parameters<typeof startKubeApi>[0] = {}): Promise<StandIn> {
  const api = await startKubeApi(opts);
  tt.teardown(() => api.close());
  const d = mkdtempSync(join(dir, 'kc-'));
  const kubeconfig = api.kubeconfig(d);
  // Its own discovery cache: a cache from an earlier server on the same port would be stale.
  const kubectl = async (...args: string[]): Promise<string> =>
    (await run('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', join(d, 'cache'), ...args], { encoding: 'utf8' })).stdout;
  const file = (name: string, obj: unknown): string => {
    const f = join(d, name);
    writeFileSync(f, JSON.stringify(obj));
    return f;
  };
  return { api, kubeconfig, kubectl, file };
}

const gen = (o: KubeObject | Obj | undefined): unknown => o?.metadata?.generation;

/** The Status a client-node call failed with: [HTTP code, reason]. */
async function apiError(p: Promise<unknown>): Promise<[number | undefined, string | undefined]> {
  try {
    await p;
  } catch (err) {
    const e = err as { code?: number; body?: unknown };
    const body = (typeof e.body === 'string' ? JSON.parse(e.body) : e.body) as { reason?: string } | undefined;
    return [e.code, body?.reason];
  }
  return [undefined, undefined];
}

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

t.test('kubectl: apply a CRD, then apply, print, watch and delete its custom resources', async (tt) => {
  const { api, kubectl, kubeconfig, file } = await standIn(tt);

  // The stand-in's minimal openapi v3 lets kubectl leave validation to the server (which does none).
  tt.match(await kubectl('apply', '-f', CRD_FILE), 'customresourcedefinition.apiextensions.k8s.io/widgets.example.ferry.test created');
  tt.equal(api.requests.find((r) => r.method === 'POST')?.query.fieldValidation, 'Strict', 'kubectl asked the server to validate');
  tt.match(await kubectl('wait', '--for', 'condition=established', '--timeout=5s', 'crd/widgets.example.ferry.test'), 'condition met');
  tt.match(await kubectl('api-resources', `--api-group=${GROUP}`), /^widgets\s+wd\s+example\.ferry\.test\/v1\s+true\s+Widget$/m, 'discovery serves the new type at once');

  // Create; the status in the file is ignored (status is a subresource).
  const blue = file('blue.json', widget('blue', { color: 'blue', size: 3 }, { status: { note: 'from the file' } }));
  tt.match(await kubectl('apply', '-f', blue), 'widget.example.ferry.test/blue created');
  const created = api.get('Widget', 'default', 'blue') as Widget;
  tt.equal(gen(created), 1, 'generation 1 on create');
  tt.equal(created.status, undefined, 'status from the applied file was ignored');

  // The same file again: kubectl patches (the file's status differs from the live object), but nothing changes.
  tt.match(await kubectl('apply', '-f', blue), 'widget.example.ferry.test/blue configured');
  tt.ok(api.requests.some((r) => r.method === 'PATCH' && r.path.endsWith('/widgets/blue') && r.contentType === 'application/merge-patch+json'), 'kubectl sent a merge patch');
  tt.match(api.get('Widget', 'default', 'blue'), { metadata: { generation: 1, resourceVersion: created.metadata?.resourceVersion } }, 'a patch that changes nothing is a no-op');

  // A spec change bumps the generation.
  const green = file('green.json', widget('blue', { color: 'green', size: 3 }));
  tt.match(await kubectl('apply', '-f', green), 'widget.example.ferry.test/blue configured');
  tt.match(api.get('Widget', 'default', 'blue'), { spec: { color: 'green' }, metadata: { generation: 2 } });
  tt.match(await kubectl('apply', '-f', green), 'widget.example.ferry.test/blue unchanged');
  tt.equal(gen(api.get('Widget', 'default', 'blue')), 2, 'an unchanged apply keeps the generation');

  // A controller (the helper) writes status; kubectl prints the printer columns from it.
  api.apply({ ...api.get('Widget', 'default', 'blue'), status: { conditions: [{ type: 'Synced', status: 'False' }, { type: 'Ready', status: 'True' }] } });
  tt.equal(gen(api.get('Widget', 'default', 'blue')), 2, 'a status change does not bump the generation');
  api.apply(widget('plain', { color: 'red' }));
  tt.match(await kubectl('get', 'widgets'), /^NAME\s+COLOR\s+READY\s+AGE\nblue\s+green\s+True\s+\d+s\nplain\s+red\s+\d+s\n$/, 'printer columns, Ready by a filter (an empty cell when there is none)');
  tt.match(await kubectl('get', 'wd', 'blue', '-o', 'wide'), /^NAME\s+COLOR\s+READY\s+SIZE\s+AGE\nblue\s+green\s+True\s+3\s+\d+s\n$/, 'priority 1 columns with -o wide');
  tt.match(await kubectl('get', 'widgets', '-A'), /^NAMESPACE\s+NAME\s+COLOR\s+READY\s+AGE\ndefault\s+blue\s+/, 'kubectl reads the namespace from the row object');
  const tables = api.requests.filter((r) => r.path.endsWith('/widgets') && /as=Table;v=v1;g=meta.k8s.io/.test(r.accept ?? ''));
  tt.ok(tables.length >= 2, 'kubectl asked for Tables');

  const listed = parseYaml(await kubectl('get', 'widgets', '-o', 'yaml')) as { items: Widget[] };
  tt.match(listed.items[0], { metadata: { name: 'blue', generation: 2 }, spec: { color: 'green' }, status: { conditions: [{ type: 'Synced' }, { type: 'Ready', status: 'True' }] } }, '-o yaml shows status');

  // get --watch receives Table rows too.
  const child = spawn('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'watch-cache'), 'get', 'widgets', '--watch', '--output-watch-events']);
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
  await seen(/^EVENT\s+NAME\s+COLOR\s+READY\s+AGE\nADDED\s+blue\s+green\s+True\s/);
  await api.waitForRequest((r) => r.watch && r.path === '/apis/example.ferry.test/v1/namespaces/default/widgets');
  api.apply({ ...api.get('Widget', 'default', 'plain'), status: { conditions: [{ type: 'Ready', status: 'False' }] } });
  await seen(/MODIFIED\s+plain\s+red\s+False\s/);
  child.kill('SIGTERM');

  tt.match(await kubectl('delete', 'widget', 'blue'), 'widget.example.ferry.test "blue" deleted');
  tt.same(api.list('Widget').map((o) => o.metadata?.name), ['plain']);
  tt.match(await kubectl('delete', '-f', CRD_FILE), 'customresourcedefinition.apiextensions.k8s.io "widgets.example.ferry.test" deleted');
  const groups = (await (await fetch(`${api.url}/apis`)).json()) as { groups: Array<{ name: string }> };
  tt.notOk(groups.groups.some((g) => g.name === GROUP), 'the group left discovery');
  tt.equal((await fetch(`${api.url}/apis/${GROUP}/v1/namespaces/default/widgets`)).status, 404, 'the resource is no longer served');
});

t.test('client-node: informer over a custom resource, status patches, conflicts', async (tt) => {
  const { api, kubeconfig } = await standIn(tt, { crds: [CRD_FILE], bookmarkIntervalMs: 100 });
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfig);
  const co = kc.makeApiClient(k8s.CustomObjectsApi);
  const list = (): Promise<unknown> => co.listClusterCustomObject(WIDGETS);
  const inf = k8s.makeInformer<Obj>(kc, `/apis/${GROUP}/v1/widgets?allowWatchBookmarks=true`, list as never) as Informer;
  const errors: unknown[] = [];
  inf.on('error', (e) => errors.push(e));
  tt.teardown(() => inf.stop());
  await inf.start();
  await api.waitForRequest((r) => r.watch && r.path === `/apis/${GROUP}/v1/widgets`);

  const added = next(inf, 'add');
  await co.createNamespacedCustomObject({ ...WIDGETS, namespace: 'default', body: widget('w', { color: 'blue' }, { status: { note: 'ignored' } }) });
  tt.match(await added, { metadata: { name: 'w', generation: 1 }, spec: { color: 'blue' } });
  tt.notOk((await added as Widget).status, 'create ignored the status');
  const at = { ...WIDGETS, namespace: 'default', name: 'w' };
  const merge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

  // Merge patch of /status: the status changes, the spec in the same body does not.
  let updated = next(inf, 'update', (o) => Boolean((o as Widget).status));
  const patched = (await co.patchNamespacedCustomObjectStatus({ ...at, body: { spec: { color: 'red' }, status: { selected: { tag: '1.27' } } } }, merge)) as Widget;
  tt.match(patched, { spec: { color: 'blue' }, status: { selected: { tag: '1.27' } }, metadata: { generation: 1 } });
  tt.match(await updated, { status: { selected: { tag: '1.27' } } }, 'the informer saw the status write');
  tt.equal(api.requests.at(-1)?.contentType, 'application/merge-patch+json');

  // client-node's default for the same call is a json-patch.
  updated = next(inf, 'update', (o) => (o as Widget).status?.ready === true);
  const jp = (await co.patchNamespacedCustomObjectStatus({ ...at, body: [{ op: 'test', path: '/status/selected/tag', value: '1.27' }, { op: 'add', path: '/status/ready', value: true }, { op: 'replace', path: '/spec/color', value: 'red' }] })) as Widget;
  tt.equal(api.requests.at(-1)?.contentType, 'application/json-patch+json', 'json-patch is what client-node sends by default');
  tt.match(jp, { spec: { color: 'blue' }, status: { selected: { tag: '1.27' }, ready: true }, metadata: { generation: 1 } });
  await updated;
  const rvBefore = api.get('Widget', 'default', 'w').metadata?.resourceVersion;
  tt.same(await apiError(co.patchNamespacedCustomObjectStatus({ ...at, body: [{ op: 'test', path: '/status/selected/tag', value: '9.9' }, { op: 'remove', path: '/status' }] })), [422, 'Invalid'], 'a failed test op is 422 Invalid');
  tt.same(await apiError(co.patchNamespacedCustomObjectStatus({ ...at, body: [{ op: 'replace', path: '/status/nope/deeper', value: 1 }] })), [422, 'Invalid'], 'a path that is not there is 422');
  tt.equal(api.get('Widget', 'default', 'w').metadata?.resourceVersion, rvBefore, 'failed patches changed nothing');

  // Writes of the object itself keep the stored status and bump the generation for spec changes.
  updated = next(inf, 'update', (o) => (o as Widget).spec?.color === 'green');
  const main = (await co.patchNamespacedCustomObject({ ...at, body: { spec: { color: 'green' }, status: { selected: { tag: 'evil' } } } }, merge)) as Widget;
  tt.match(main, { spec: { color: 'green' }, status: { selected: { tag: '1.27' } }, metadata: { generation: 2 } });
  await updated;

  // PUT: current resourceVersion succeeds, a stale one is 409 Conflict, on the object and on /status.
  const stale = structuredClone(main);
  const put = (await co.replaceNamespacedCustomObject({ ...at, body: { ...main, spec: { color: 'green', size: 2 } } })) as Widget;
  tt.match(put, { spec: { size: 2 }, metadata: { generation: 3 } });
  tt.same(await apiError(co.replaceNamespacedCustomObject({ ...at, body: { ...stale, spec: { color: 'black' } } })), [409, 'Conflict'], 'stale PUT');
  tt.same(await apiError(co.replaceNamespacedCustomObjectStatus({ ...at, body: { ...stale, status: { selected: { tag: 'old' } } } })), [409, 'Conflict'], 'stale status PUT');
  const putStatus = (await co.replaceNamespacedCustomObjectStatus({ ...at, body: { ...put, spec: { color: 'ignored' }, status: { selected: { tag: '1.28' } } } })) as Widget;
  tt.match(putStatus, { spec: { color: 'green', size: 2 }, status: { selected: { tag: '1.28' } }, metadata: { generation: 3 } }, 'a status PUT replaces status only');
  tt.notOk(putStatus.status?.ready, 'the whole status was replaced');

  const deleted = next(inf, 'delete');
  await co.deleteNamespacedCustomObject(at);
  tt.match(await deleted, { metadata: { name: 'w' } });
  tt.same(inf.list(), []);
  tt.same(errors, [], 'the informer reported no errors');
  const statusWrites = api.sent.filter((e) => e.type === 'MODIFIED' && e.path === `/apis/${GROUP}/v1/widgets`).length;
  tt.equal(statusWrites, 5, 'one MODIFIED per write that changed something (3 status, 2 object)');
});

t.test('a CRD without subresources; deleting a CRD deletes its objects', async (tt) => {
  const gadgets: KubeObject = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'gadgets.example.ferry.test' },
    spec: { group: GROUP, scope: 'Cluster', names: { plural: 'gadgets', kind: 'Gadget' }, versions: [{ name: 'v1', served: true, storage: true }] },
  };
  const { api, kubectl } = await standIn(tt, { crds: [gadgets], objects: [{ apiVersion: `${GROUP}/v1`, kind: 'Gadget', metadata: { name: 'g1' }, spec: { n: 1 } }] });
  const base = `/apis/${GROUP}/v1/gadgets`;
  const send = async (method: string, path: string, body: unknown, type = 'application/json'): Promise<[number, Record<string, unknown>]> => {
    const res = await fetch(`${api.url}${path.startsWith('/apis/') ? path : base + path}`, { method, headers: { 'content-type': type }, body: JSON.stringify(body) });
    return [res.status, (await res.json()) as Record<string, unknown>];
  };

  const [code, made] = await send('POST', '', { apiVersion: `${GROUP}/v1`, kind: 'Gadget', metadata: { name: 'g2' }, spec: { n: 2 }, status: { ok: true } });
  tt.equal(code, 201);
  tt.match(made, { status: { ok: true }, metadata: { generation: 1 } }, 'without a status subresource, status is written with the object');
  const [, bumped] = await send('PATCH', '/g2', { status: { ok: false } }, 'application/merge-patch+json');
  tt.match(bumped, { status: { ok: false }, metadata: { generation: 2 } }, '...and counts for the generation');
  tt.equal((await send('PATCH', '/g2/status', { status: {} }, 'application/merge-patch+json'))[0], 404, '/status is not served');
  tt.equal((await send('PATCH', '/g2', { spec: {} }, 'application/xml'))[0], 415, 'an unknown patch type is 415');
  const res = (await (await fetch(`${api.url}/apis/${GROUP}/v1`)).json()) as { resources: Array<{ name: string; namespaced: boolean }> };
  tt.same(res.resources.map((r) => [r.name, r.namespaced]), [['gadgets', false]], 'discovery: cluster-scoped, no status subresource');
  tt.match(await kubectl('get', 'gadgets'), /^NAME\s+AGE\ng1\s+\d+s\ng2\s+\d+s\n$/, 'Age alone when no printer columns are declared');
  const bad = { ...gadgets, metadata: { name: 'wrong.example.ferry.test' } };
  tt.match(await send('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', bad).then(([c, b]) => [c, b.reason]), [422, 'Invalid'], 'a CRD whose name is not plural.group is refused');

  // The server ends watches of a type whose CRD is deleted, after the DELETED events of its objects.
  const watch = await fetch(`${api.url}${base}?watch=true&resourceVersion=${api.store.resourceVersion}`);
  await api.waitForRequest((r) => r.watch && r.path === base);
  await kubectl('delete', 'crd', 'gadgets.example.ferry.test');
  const watched = await watch.text();
  tt.same(watched.trim().split('\n').map((l) => { const e = JSON.parse(l) as { type: string; object: KubeObject }; return `${e.type} ${e.object.metadata?.name}`; }), ['DELETED g1', 'DELETED g2'], 'the objects went first, with events');
  tt.throws(() => api.list('Gadget'), /no resource type/);
  tt.equal((await fetch(`${api.url}/apis/${GROUP}/v1`)).status, 404, 'the group version left discovery');
});
