/**
 * ferry sees the cluster, end to end: the real CLI (`ferry all` with a
 * kubeconfig for the stand-in API server), real docker-registries and a real
 * redis-server. A pod admitted by the webhook and then "created" in the
 * stand-in shows up in the in-use index (dashboard API) under its upstream
 * reference with the digest it runs, gets a FerryRewrote Event, and a denied
 * pod gets a FerryDenied Event; `kubectl describe pod` shows them.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cleanEnv, startFerry } from '../cli/support/ferry-process.js';
import { buildImage, inspectRaw, pushImage } from '../support/images.js';
import { postJson } from '../support/https.js';
import { startKubeApi } from '../support/kube-api.js';
import { waitFor } from '../support/process.js';
import { startRedis } from '../support/redis.js';
import { startRegistry } from '../support/registry.js';

const run = promisify(execFile);

t.test('ferry all with a cluster: in-use index, usedBy, pods API, FerryRewrote and FerryDenied Events', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-cluster-e2e-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const [upstream, mirror, redis, api] = await Promise.all([startRegistry(), startRegistry(), startRedis(), startKubeApi({ bookmarkIntervalMs: 100 })]);
  t.teardown(async () => {
    await Promise.all([upstream.stop(), mirror.stop(), redis.stop(), api.close()]);
  });
  api.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
  const layout = mkdtempSync(join(dir, 'img-'));
  buildImage(layout, { tag: 'v1', layerSizes: [32 * 1024] });
  const ref = `${upstream.host}/demo/app:v1`;
  await pushImage(layout, 'v1', ref);
  const kubeconfig = api.kubeconfig(dir);

  const ferry = startFerry(
    ['all', '--log-format', 'json'],
    cleanEnv({
      KUBECONFIG: kubeconfig,
      FERRY_QUEUE_REDIS_URL: redis.url,
      FERRY_MIRROR_REGISTRY: mirror.host,
      FERRY_REGISTRIES: `{ "${upstream.host}": { insecure: true } }`,
      FERRY_REWRITE_MODE: 'always',
      FERRY_BLOCK: '[{ pattern: "**/evil/**", reason: "CVE-2026-0001" }]',
      FERRY_WEBHOOK_PORT: '0',
      FERRY_WEBHOOK_HOST: '127.0.0.1',
      FERRY_DASHBOARD_PORT: '0',
      FERRY_IMPORT_DIR: join(dir, 'images'),
      FERRY_STATE_DIR: join(dir, 'state'),
      FERRY_LOG_LEVEL: 'info',
    }),
  );
  t.teardown(() => ferry.stop());
  const up = await ferry.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('ferry is up'), 'ferry is up');
  t.ok(ferry.logs.some((l) => /in-use index synced/.test(l.msg)), 'the watch role says it watches pods');
  const ca = readFileSync(up.webhookCA);

  const review = (name: string, image: string, uid: string) => ({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      namespace: 'shop',
      operation: 'CREATE',
      object: { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'shop' }, spec: { containers: [{ name: 'app', image }] } },
    },
  });

  // First admission queues the copy; once mirrored, a second admission rewrites.
  await postJson(up.webhook, review('web-0', ref, 'u0'), ca);
  const base = up.dashboard as string;
  const recordOf = async (): Promise<any> => (await fetch(`${base}/api/images/${encodeURIComponent(ref)}`)).json();
  await waitFor(async () => (await recordOf()).state === 'mirrored', 'the copy to land in the mirror');
  const { mirrorRef } = await recordOf();
  const mirrored = (await inspectRaw(mirrorRef))!;
  t.ok(mirrored, 'skopeo finds the copy in the mirror');
  let patch: any[] = [];
  await waitFor(async () => {
    const res = await postJson(up.webhook, review('web-1', ref, 'u1'), ca);
    patch = res.body.response.patch ? JSON.parse(Buffer.from(res.body.response.patch, 'base64').toString()) : [];
    return patch.some((op) => op.path === '/spec/containers/0/image');
  }, 'admission to rewrite once the record is mirrored');
  const mirrorImage = patch.find((op) => op.path === '/spec/containers/0/image').value as string;
  t.equal(mirrorImage, mirrorRef);
  const annotations = patch.find((op) => op.path === '/metadata/annotations')?.value ?? {};

  // The API server stores the pod as admitted; the kubelet reports the digest it runs.
  api.apply({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-1', namespace: 'shop', annotations },
    spec: { nodeName: 'node-a', containers: [{ name: 'app', image: mirrorImage }] },
    status: { phase: 'Running', containerStatuses: [{ name: 'app', image: mirrorImage, imageID: `${mirrorImage.replace(/:v1$/, '')}@${mirrored.digest}`, ready: true }] },
  });

  let pods: any[] = [];
  await waitFor(async () => {
    const res = await fetch(`${base}/api/images/${encodeURIComponent(ref)}/pods`);
    pods = res.ok ? ((await res.json()) as any[]) : [];
    return pods.length === 1;
  }, 'the pod to reach the in-use index');
  t.match(pods[0], { namespace: 'shop', pod: 'web-1', container: 'app', node: 'node-a', digest: mirrored.digest }, 'indexed under the upstream reference with the digest it runs');
  const record = await recordOf();
  t.match(record.usedBy, { pods: 1, namespaces: ['shop'] }, 'the record says who uses it');

  // A blocked image is denied; both Events are written off the admission path.
  const denied = await postJson(up.webhook, review('bad-0', `${upstream.host}/evil/miner:1`, 'u2'), ca);
  t.equal(denied.body.response.allowed, false);
  await waitFor(async () => {
    const reasons = api.events('shop').map((e: any) => e.reason);
    return reasons.includes('FerryRewrote') && reasons.includes('FerryDenied');
  }, 'FerryRewrote and FerryDenied Events', undefined, 20_000);
  const rewrote = api.events('shop').find((e: any) => e.reason === 'FerryRewrote') as any;
  t.match(rewrote, { type: 'Normal', involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'shop' }, source: { component: 'ferry' } });
  t.match(rewrote.message, ref, 'the Event names the original image');
  const deniedEvent = api.events('shop').find((e: any) => e.reason === 'FerryDenied') as any;
  t.match(deniedEvent, { type: 'Warning', involvedObject: { kind: 'Pod', name: 'bad-0' } });
  t.match(deniedEvent.message, /CVE-2026-0001/);

  const { stdout } = await run('kubectl', ['--kubeconfig', kubeconfig, '-n', 'shop', 'describe', 'pod', 'web-1']);
  t.match(stdout, /Normal\s+FerryRewrote/, 'kubectl describe pod shows the rewrite');

  // The pod goes: the index forgets it but remembers when it last ran.
  api.remove('Pod', 'shop', 'web-1');
  let after: any;
  await waitFor(async () => {
    after = await recordOf();
    return after.usedBy?.pods === 0;
  }, 'the deleted pod to leave the index');
  t.type(after.usedBy.lastSeenAt, 'string', 'unused since: the last time a pod ran it');
  t.equal(await ferry.stop(), 0, 'ferry stops cleanly');
});
