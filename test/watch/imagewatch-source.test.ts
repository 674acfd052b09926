// The ImageWatch informer against the stand-in API server with the real
// client-node: without the CRD it says so once and keeps trying (never throws);
// objects become watches with id <namespace>.<name>; edits and deletions are told.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once, EventEmitter } from 'node:events';
import { connectKube } from '../../src/kube/index.js';
import { ImageWatchSource } from '../../src/watch/resource-watches.js';
import { captureLogger } from '../events/support/events.js';
import { startKubeApi } from '../support/kube-api.js';

const IW_TYPE = { group: 'ferry.io', version: 'v1alpha1', resource: 'imagewatches', kind: 'ImageWatch', namespaced: true, shortNames: ['iw'] };
const obj = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'ferry.io/v1alpha1', kind: 'ImageWatch', metadata: { name, namespace: 'team-a' }, spec });
const SPEC = { image: 'registry.test/demo/app', strategy: 'semver', constraint: '~1.0', schedule: '@daily' };

function sourceOn(kubeconfig: string, noCrdRetryMs = 60_000) {
  const bus = new EventEmitter();
  const { logger, lines } = captureLogger('info');
  return connectKube({ KUBECONFIG: kubeconfig }).then((kube) => {
    const source = new ImageWatchSource({
      kube: kube!,
      logger,
      noCrdRetryMs,
      restartBackoffMs: 20,
      onChange: () => bus.emit('change'),
      onSpecChange: (id) => bus.emit('spec', id),
      onRemoved: (id) => bus.emit('removed', id),
      onInvalid: (o, problems) => bus.emit('invalid', o.metadata?.name, problems),
    });
    return { source, bus, lines };
  });
}

t.test('no CRD: one warning with the fix, no throw, keeps trying', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-iw-src-'));
  const api = await startKubeApi();
  t.teardown(async () => {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const { source, lines } = await sourceOn(api.kubeconfig(dir), 50);
  t.teardown(() => source.close());
  source.start();
  await source.firstList;
  t.equal(source.synced, false);
  // a few retries later, still one warning
  const lists = () => api.requests.filter((r) => r.path === '/apis/ferry.io/v1alpha1/imagewatches' && !r.watch).length;
  await api.waitForRequest(() => lists() >= 3);
  const warned = lines().filter((l) => typeof l.msg === 'string' && /ImageWatch CRD .* is not installed/.test(l.msg));
  t.equal(warned.length, 1, 'said once');
  t.match(warned[0], { hint: /kubectl apply -f deploy\/crds\/imagewatches\.ferry\.io\.yaml/ });
  t.same(source.watches(), []);
});

t.test('objects become watches; edits, invalid specs and deletions are told', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-iw-src-'));
  const api = await startKubeApi({ extraTypes: [IW_TYPE], bookmarkIntervalMs: 100, objects: [obj('app', SPEC)] });
  t.teardown(async () => {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const { source, bus } = await sourceOn(api.kubeconfig(dir));
  t.teardown(() => source.close());
  const firstSpec = once(bus, 'spec');
  source.start();
  await source.firstList;
  t.equal(source.synced, true);
  t.same(await firstSpec, ['team-a.app'], 'a never-polled object asks for a poll');
  t.match(source.watches(), [{ config: { id: 'team-a.app', image: 'registry.test/demo/app', constraint: '~1.0' }, resource: { namespace: 'team-a', name: 'app' } }]);

  const edited = once(bus, 'spec');
  api.apply(obj('app', { ...SPEC, constraint: '~1.1' }));
  t.same(await edited, ['team-a.app'], 'an edit asks for a poll');
  t.equal(source.watches()[0]!.config.constraint, '~1.1');

  const invalid = once(bus, 'invalid');
  const removedByInvalid = once(bus, 'removed');
  api.apply(obj('app', { ...SPEC, strategy: 'sometimes' }));
  const [name, problems] = await invalid;
  t.equal(name, 'app');
  t.match(problems, [/spec\.strategy: must be one of/]);
  t.same(await removedByInvalid, ['team-a.app'], 'a watch whose spec turned invalid stops');
  t.same(source.watches(), []);

  api.apply(obj('app', SPEC));
  await once(bus, 'spec');
  const removed = once(bus, 'removed');
  api.remove('ImageWatch', 'team-a', 'app');
  t.same(await removed, ['team-a.app']);
  t.same(source.watches(), []);
});
