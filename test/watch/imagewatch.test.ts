/**
 * ImageWatch end to end: the real CLI (`ferry all` with a kubeconfig for the
 * stand-in API server), real docker-registries, a real redis-server and the
 * real kubectl. `kubectl apply -f` of an ImageWatch mirrors the selected tag,
 * `kubectl get` shows the columns, the status reads well, an edit of the spec
 * takes effect without a restart, an invalid spec says why, a moved tag gets
 * an Event, and `kubectl delete` stops the watch.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { PRINTER_COLUMNS } from '../../src/watch/image-watch-crd.js';
import { CRD_FILE } from '../../src/watch/image-watch-crd-gen.js';
import { cleanEnv, startFerry } from '../cli/support/ferry-process.js';
import { inspectRaw } from '../support/images.js';
import { startKubeApi } from '../support/kube-api.js';
import { waitFor } from '../support/process.js';
import { which } from '../deploy/fixtures/util.js';
import { startRedis } from '../support/redis.js';
import { startRegistry } from '../support/registry.js';
import { cleanupLayouts, push } from './support/env.js';

const exec = promisify(execFile);
type Any = any;

const kubectlBin = which('kubectl');
/** The stand-in serves the kind as the CRD defines it (it does not install CRDs, nor render printer columns as Tables). */
/** The CRD's printer columns as kubectl custom-columns: what `kubectl get iw -o wide` shows, read through the CRD's own jsonPaths. */
const COLUMNS = ['NAME:.metadata.name', ...PRINTER_COLUMNS.filter((c) => c.name !== 'Age').map((c) => `${c.name.toUpperCase().replace(' ', '_')}:${c.jsonPath}`)].join(',');

t.test('kubectl apply, get, edit, delete of an ImageWatch', { skip: kubectlBin ? false : 'kubectl not installed' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-imagewatch-'));
  const [upstream, mirror, redis, api] = await Promise.all([startRegistry(), startRegistry(), startRedis(), startKubeApi({ bookmarkIntervalMs: 100 })]);
  t.teardown(async () => {
    await Promise.all([upstream.stop(), mirror.stop(), redis.stop(), api.close()]);
    rmSync(dir, { recursive: true, force: true });
    cleanupLayouts();
  });
  api.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } });
  const kubeconfig = api.kubeconfig(dir, 'team-a');
  const kubectl = async (...args: string[]): Promise<string> => (await exec(kubectlBin!, ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'kube-cache'), ...args], { encoding: 'utf8' })).stdout;
  // the CRD as deploy/ ships it, installed the way a person does
  await kubectl('apply', '-f', CRD_FILE);
  await kubectl('wait', '--for', 'condition=established', 'crd/imagewatches.ferry.io');

  const repo = 'demo/app';
  const v1 = await push(upstream, repo, '1.0.0');
  const v11 = await push(upstream, repo, '1.1.0');
  await push(upstream, repo, '2.0.0');

  const ferry = startFerry(
    ['all', '--log-format', 'json'],
    cleanEnv({
      KUBECONFIG: kubeconfig,
      FERRY_QUEUE_REDIS_URL: redis.url,
      FERRY_QUEUE_PREFIX: 'iw',
      FERRY_MIRROR_REGISTRY: mirror.host,
      FERRY_MIRROR_INSECURE: 'true',
      FERRY_REGISTRIES: `{ "${upstream.host}": { insecure: true } }`,
      FERRY_WEBHOOK_PORT: '0',
      FERRY_WEBHOOK_HOST: '127.0.0.1',
      FERRY_DASHBOARD_PORT: '0',
      FERRY_IMPORT_DIR: join(dir, 'images'),
      FERRY_STATE_DIR: join(dir, 'state'),
      FERRY_LOG_LEVEL: 'info',
    }),
  );
  t.teardown(() => ferry.stop());
  await ferry.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('ferry is up'), 'ferry is up');
  t.ok(ferry.logs.some((l) => l.msg === 'following ImageWatch objects'), 'the watch role follows ImageWatches');

  const manifest = (constraint: string) => `apiVersion: ferry.io/v1alpha1
kind: ImageWatch
metadata:
  name: app
  namespace: team-a
spec:
  image: ${upstream.host}/${repo}
  strategy: semver
  constraint: "${constraint}"
  schedule: "0 0 1 1 *"
`;
  const file = join(dir, 'app.yaml');
  const status = async (): Promise<Any> => parse(await kubectl('get', 'imagewatch', 'app', '-o', 'yaml'));
  const readyWith = (tag: string) => async () => {
    const o = await status();
    return o.status?.selected?.tag === tag && o.status?.conditions?.some((c: Any) => c.type === 'Ready' && c.status === 'True') && o.status?.observedGeneration === o.metadata.generation;
  };

  // 1. apply: the selected tag is mirrored and the status says so
  writeFileSync(file, manifest('~1.0'));
  await kubectl('apply', '-f', file);
  await waitFor(readyWith('1.0.0'), 'status: Ready, selected 1.0.0', undefined, 30_000);
  const base = `http://127.0.0.1:${ferryPort(ferry.logs)}`;
  const history = (await (await fetch(`${base}/api/watches/team-a.app/history`)).json()) as Any;
  const mirrorRef = history.events[0].mirrorRef as string;
  t.match(history.events[0], { tag: '1.0.0', newDigest: v1.image.digest });
  await waitFor(async () => (await inspectRaw(mirrorRef).catch(() => undefined))?.digest === v1.image.digest, 'the mirror to hold 1.0.0 (skopeo)', undefined, 30_000);
  const first = await status();
  t.match(first.status, {
    selected: { tag: '1.0.0', digest: v1.image.digest },
    observedGeneration: first.metadata.generation,
    lastPollAt: String,
  });
  const cond = (o: Any, type: string) => o.status.conditions.find((c: Any) => c.type === type);
  t.match(cond(first, 'Ready'), { status: 'True', reason: 'Selected', lastTransitionTime: String, observedGeneration: first.metadata.generation });
  t.match(cond(first, 'Polling'), { status: 'True', reason: 'Scheduled' });
  t.match(cond(first, 'Error'), { status: 'False', reason: 'NoError' });

  // 2. the printer columns (the CRD's jsonPaths) show image, strategy, selected tag, digest, last poll, Ready
  const table = (await kubectl('get', 'imagewatches', '-o', `custom-columns=${COLUMNS}`)).trim().split('\n');
  t.match(table[0], /^NAME\s+IMAGE\s+STRATEGY\s+SELECTED\s+DIGEST\s+LAST_POLL\s+READY$/);
  t.same(table[1]!.split(/\s+/), ['app', `${upstream.host}/${repo}`, 'semver', '1.0.0', v1.image.digest, first.status.lastPollAt, 'True']);
  // ... and plain `kubectl get iw` prints them from the CRD (Digest only with -o wide)
  const plain = (await kubectl('get', 'iw')).trim().split('\n');
  t.match(plain[0], /^NAME\s+IMAGE\s+STRATEGY\s+SELECTED\s+LAST POLL\s+READY\s+AGE$/);
  t.match(plain[1], new RegExp(`^app\\s+${upstream.host}/${repo}\\s+semver\\s+1\\.0\\.0\\s+\\S+\\s+True\\s+\\S+$`));
  t.match((await kubectl('get', 'iw', '-o', 'wide')).split('\n')[0], /DIGEST/);

  // 3. edit the spec: the new constraint applies without a restart, and a TagMoved Event says so
  writeFileSync(file, manifest('~1.1'));
  await kubectl('apply', '-f', file);
  await waitFor(readyWith('1.1.0'), 'status: selected 1.1.0 after the edit', undefined, 30_000);
  const edited = await status();
  t.match(edited.status.selected, { tag: '1.1.0', digest: v11.image.digest });
  t.equal(edited.metadata.generation, first.metadata.generation + 1, 'the spec edit bumped generation; the status writes did not');
  t.equal(edited.status.observedGeneration, edited.metadata.generation);
  await waitFor(async () => api.events('team-a').some((e: Any) => e.reason === 'TagMoved'), 'a TagMoved Event', undefined, 20_000);
  const moved = api.events('team-a').find((e: Any) => e.reason === 'TagMoved') as Any;
  t.match(moved, { type: 'Normal', involvedObject: { kind: 'ImageWatch', name: 'app', namespace: 'team-a', apiVersion: 'ferry.io/v1alpha1' } });
  t.match(moved.message, `1.0.0@${v1.image.digest.slice(7, 19)} -> 1.1.0@${v11.image.digest.slice(7, 19)}`);
  const held = (await status()).status.held.map((h: Any) => h.tag);
  t.ok(held.includes('1.1.0'), `held lists what the mirror holds (${held.join(', ')})`);

  // 4. an invalid spec is no watch: the status says why
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, manifest('~1.1').replace('name: app', 'name: broken').replace('schedule: "0 0 1 1 *"', 'schedule: "61 * * * *"'));
  await kubectl('apply', '-f', bad);
  let broken: Any;
  await waitFor(async () => {
    broken = parse(await kubectl('get', 'imagewatch', 'broken', '-o', 'yaml'));
    return broken.status?.conditions?.some((c: Any) => c.reason === 'InvalidSpec');
  }, 'the InvalidSpec condition', undefined, 20_000);
  t.match(cond(broken, 'Ready'), { status: 'False', reason: 'InvalidSpec', message: /schedule.*invalid cron/ });
  t.match(cond(broken, 'Error'), { status: 'True', reason: 'InvalidSpec' });
  const watches = async (): Promise<Any[]> => ((await (await fetch(`${base}/api/watches`)).json()) as Any).watches;
  t.same((await watches()).map((w) => w.id), ['team-a.app'], 'only the valid ImageWatch is a watch, id <namespace>.<name>');
  t.match((await watches())[0], { source: 'resource', resource: { namespace: 'team-a', name: 'app' } });

  // 5. delete: the watch stops
  await kubectl('delete', 'imagewatch', 'app');
  await ferry.waitForLog((l) => l.msg === 'ImageWatch deleted: watch stopped' && l.watch === 'team-a.app', 'the watch to stop');
  await waitFor(async () => (await watches()).length === 0, 'the watch API to list no watch');
  t.equal((await fetch(`${base}/api/watches/team-a.app`)).status, 404, 'the watch is gone from the API');
  const after = (await (await fetch(`${base}/api/watches/team-a.app/history`)).json()) as Any;
  t.ok(after.events.length >= 2, 'its change history stays, for audit');
});

/** The dashboard port from "ferry is up" (it serves the watch API too in `ferry all`). */
function ferryPort(logs: Record<string, Any>[]): number {
  const up = logs.find((l) => typeof l.msg === 'string' && l.msg.startsWith('ferry is up'))!;
  return Number(new URL(up.dashboard as string).port);
}
