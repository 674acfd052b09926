import t from 'tap';
import { closeSync, copyFileSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import tar from 'tar-stream';
import { RegistryEngine } from '../../src/registry/index.js';
import type { RoleContext } from '../../src/runtime/index.js';
import type { FerryConfig } from '../../src/config/index.js';
import { FILES_KEY, ImportWatcher, startImport, type ImportResult, type ImportRole } from '../../src/import/index.js';
import { toMirrorReference } from '../../src/reference/index.js';
import { inspectRaw } from '../support/images.js';
import { dockerArchive, layout, makeDeps, ociArchive, recordEvents, startEnv, waitEvent } from './fixtures/helpers.js';

const env = await startEnv();
t.teardown(() => env.close());

function start(d: ReturnType<typeof makeDeps>, rescanMs = 1000) {
  const engine = new RegistryEngine({ config: d.config, logger: d.deps.logger });
  const w = new ImportWatcher(d.deps, { mirror: engine, rescanMs, retryBaseMs: 200 });
  return {
    w,
    async close() {
      await w.close();
      await engine.close();
    },
  };
}

const pushed = (events: { name: string; v: any }[]) => events.filter((e) => e.name === 'blob' && !e.v.skipped).length;

t.test('a slowly written file is imported only after its last write; rename, overwrite, delete', async (t) => {
  const d = makeDeps(env, { stableMs: 800 });
  const { w, close } = start(d);
  t.teardown(async () => {
    await close();
    await d.close();
  });
  const events = recordEvents(w, ['pending', 'start', 'blob', 'imported', 'failed', 'renamed', 'forgotten', 'ignored']);
  await w.start();

  const l = layout(env, 'v1', { layerSizes: [64 * 1024, 32 * 1024] });
  const src = join(env.tmp, 'slow-src.tar');
  await dockerArchive(l.dir, 'v1', src, 'demo/slow:v1');
  const bytes = readFileSync(src);
  const target = join(d.dir, 'slow.tar');

  // 8 chunks, 100 ms apart: each gap is much shorter than stableMs (800 ms)
  const fd = openSync(target, 'w');
  const chunk = Math.ceil(bytes.length / 8);
  let lastWriteAt = 0;
  for (let i = 0; i < bytes.length; i += chunk) {
    writeSync(fd, bytes, i, Math.min(chunk, bytes.length - i));
    lastWriteAt = Date.now();
    t.notOk(events.some((e) => e.name === 'start'), `not started while chunk ${i / chunk} is being written`);
    await sleep(100);
  }
  closeSync(fd);
  const imported = await waitEvent<ImportResult>(w, 'imported', (r) => r.file === target);
  const startEv = events.find((e) => e.name === 'start');
  t.ok(events.some((e) => e.name === 'pending' && e.v.file === target), 'seen while written');
  t.ok(startEv, 'started');
  t.equal(events.filter((e) => e.name === 'start').length, 1, 'imported exactly once');
  t.ok(startEv!.at >= lastWriteAt, 'the import started after the final chunk was written');
  t.notOk(events.some((e) => e.name === 'failed'), 'no partial import was attempted');
  t.equal(imported.images[0]?.ref, 'docker.io/demo/slow:v1');
  const first = await inspectRaw(`${env.registry.host}/docker.io/demo/slow:v1`);
  t.equal(first?.digest, imported.images[0]?.digest);
  t.match(w.fileState(target), { result: 'imported', digests: [imported.images[0]!.digest] });
  const pushesAfterImport = pushed(events);
  t.ok(pushesAfterImport >= 3, 'config + 2 layers pushed');

  // rename: same file, new path -> not copied again
  const renamed = join(d.dir, 'renamed.tar');
  renameSync(target, renamed);
  const r = await waitEvent(w, 'renamed', (v: any) => v.to === renamed);
  t.same(r, { from: target, to: renamed, alias: false });
  t.equal(events.filter((e) => e.name === 'start').length, 1, 'no second import');
  t.equal(pushed(events), pushesAfterImport, 'no second push');
  t.notOk(w.fileState(target), 'old path forgotten');
  t.match(w.fileState(renamed), { result: 'imported' });

  // overwrite in place with a different image -> imported again, new digest
  const l2 = layout(env, 'v1', { layerSizes: [8192] });
  const src2 = join(env.tmp, 'slow-src2.tar');
  await dockerArchive(l2.dir, 'v1', src2, 'demo/slow:v1');
  copyFileSync(src2, renamed);
  const again = await waitEvent<ImportResult>(w, 'imported', (x) => x.file === renamed);
  t.not(again.images[0]?.digest, imported.images[0]?.digest, 'new digest');
  t.equal((await inspectRaw(`${env.registry.host}/docker.io/demo/slow:v1`))?.digest, again.images[0]?.digest, 'mirror serves the new image');
  t.equal(events.filter((e) => e.name === 'start').length, 2);

  // delete -> forgotten (memory and Redis)
  rmSync(renamed);
  await waitEvent(w, 'forgotten', (v: any) => v.file === renamed);
  t.notOk(w.fileState(renamed));
  t.same(await d.connection.hkeys(FILES_KEY(d.prefix)), []);

  // a directory is ignored with a log line
  mkdirSync(join(d.dir, 'subdir'));
  await waitEvent(w, 'ignored', (v: any) => v.file === join(d.dir, 'subdir'));
  t.ok(d.logs.some((l) => l.msg === 'import: ignored' && l.file === join(d.dir, 'subdir')));
});

t.test('written under a temporary name and renamed into place', async (t) => {
  const d = makeDeps(env, { stableMs: 300 });
  const { w, close } = start(d);
  t.teardown(async () => {
    await close();
    await d.close();
  });
  const events = recordEvents(w, ['pending', 'start']);
  await w.start();
  const l = layout(env, 'v2');
  const tmp = join(d.dir, '.incoming.tar.tmp');
  await ociArchive(l.dir, 'v2', tmp, 'docker.io/demo/renamed-in:v2');
  await sleep(50);
  t.notOk(events.some((e) => e.v.file === tmp), 'temporary name ignored');
  renameSync(tmp, join(d.dir, 'incoming.tar'));
  const r = await waitEvent<ImportResult>(w, 'imported');
  t.equal(r.images[0]?.ref, 'docker.io/demo/renamed-in:v2');
  t.equal(r.images[0]?.digest, l.image.digest, 'oci-archive keeps the manifest digest');
});

t.test('restart with unchanged files re-pushes nothing', async (t) => {
  const d = makeDeps(env, { stableMs: 200 });
  const l = layout(env, 'v1');
  await dockerArchive(l.dir, 'v1', join(d.dir, 'a.tar'), 'demo/restart:a');
  await ociArchive(l.dir, 'v1', join(d.dir, 'b.tar'), 'docker.io/demo/restart:b');
  const first = start(d);
  const seen = new Set<string>();
  const both = new Promise<void>((resolve) =>
    first.w.on('imported', (r) => {
      seen.add(r.file);
      if (seen.size === 2) resolve();
    }),
  );
  await first.w.start();
  await both;
  await first.close();
  t.equal((await d.connection.hkeys(FILES_KEY(d.prefix))).length, 2, 'state persisted in Redis');

  const second = start(d);
  t.teardown(async () => {
    await second.close();
    await d.close();
  });
  const events = recordEvents(second.w, ['start', 'blob', 'unchanged', 'pending']);
  const scanned = waitEvent(second.w, 'scan');
  await second.w.start();
  await scanned;
  t.same(events.filter((e) => e.name === 'unchanged').map((e) => e.v.file).sort(), [join(d.dir, 'a.tar'), join(d.dir, 'b.tar')]);
  t.notOk(events.some((e) => e.name === 'start' || e.name === 'blob' || e.name === 'pending'), 'nothing imported, nothing pushed');
});

t.test('bad archives give error records; the watcher keeps going', async (t) => {
  const d = makeDeps(env, { stableMs: 200 });
  const { w, close } = start(d);
  t.teardown(async () => {
    await close();
    await d.close();
  });
  await w.start();

  // truncated docker-archive (its name is unknown: manifest.json comes last)
  const l = layout(env, 'v1', { layerSizes: [20000] });
  const full = join(env.tmp, 'full.tar');
  await dockerArchive(l.dir, 'v1', full, 'demo/bad:v1');
  const truncated = join(env.tmp, 'truncated.tar');
  copyFileSync(full, truncated);
  truncateSync(truncated, Math.floor(statSync(full).size / 2));
  renameSync(truncated, join(d.dir, 'truncated.tar'));
  const f1 = await waitEvent<ImportResult>(w, 'failed', (r) => r.file.endsWith('truncated.tar'));
  t.equal(f1.error?.code, 'FERRY_ERR_IMPORT_TRUNCATED');
  const rec1 = await d.store.get('import/truncated.tar');
  t.match(rec1, { state: 'error', source: 'import' });
  t.match(rec1?.lastError, /truncated\.tar.*FERRY_ERR_IMPORT_TRUNCATED/);

  // an archive with a ../ entry
  const pack = tar.pack();
  pack.entry({ name: 'manifest.json' }, '[]');
  pack.entry({ name: '../escape.txt' }, 'boo');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  writeFileSync(join(env.tmp, 'evil.tar'), Buffer.concat(chunks));
  renameSync(join(env.tmp, 'evil.tar'), join(d.dir, 'evil.tar'));
  const f2 = await waitEvent<ImportResult>(w, 'failed', (r) => r.file.endsWith('evil.tar'));
  t.equal(f2.error?.code, 'FERRY_ERR_IMPORT_UNSAFE_ENTRY');
  t.match((await d.store.get('import/evil.tar'))?.lastError, /evil\.tar.*\.\.\/escape\.txt/);

  // not an archive at all
  writeFileSync(join(env.tmp, 'notes.txt'), 'hello, this is not a tarball\n'.repeat(40));
  renameSync(join(env.tmp, 'notes.txt'), join(d.dir, 'notes.txt'));
  const f3 = await waitEvent<ImportResult>(w, 'failed', (r) => r.file.endsWith('notes.txt'));
  t.equal(f3.error?.code, 'FERRY_ERR_IMPORT_NOT_AN_ARCHIVE');

  // the next good file is still imported
  const good = join(d.dir, 'good.tar');
  await dockerArchive(l.dir, 'v1', join(env.tmp, 'good.tar'), 'demo/good:v1');
  renameSync(join(env.tmp, 'good.tar'), good);
  const ok = await waitEvent<ImportResult>(w, 'imported', (r) => r.file === good);
  t.ok(await inspectRaw(`${env.registry.host}/docker.io/demo/good:v1`), 'good image in the mirror');
  t.equal(ok.images[0]?.ref, 'docker.io/demo/good:v1');
  t.match(w.fileState(join(d.dir, 'truncated.tar')), { result: 'error' }, 'bad file remembered: not retried until it changes');

  // fixing the bad file in place replaces its error record with the image's
  copyFileSync(full, join(d.dir, 'truncated.tar'));
  await waitEvent<ImportResult>(w, 'imported', (r) => r.file.endsWith('truncated.tar'));
  t.notOk(await d.store.get('import/truncated.tar'), 'file error record dropped');
  t.match(await d.store.get('docker.io/demo/bad:v1'), { state: 'mirrored' });

  // removing a failed file drops its error record
  rmSync(join(d.dir, 'evil.tar'));
  await waitEvent(w, 'forgotten', (v: any) => v.file.endsWith('evil.tar'));
  t.notOk(await d.store.get('import/evil.tar'));
});

t.test('a transient failure (mirror down) is retried', async (t) => {
  const d = makeDeps(env, { stableMs: 100 });
  let fail = 2;
  const engine = new RegistryEngine({ config: d.config, logger: d.deps.logger });
  const flaky = {
    pushBlob: (...a: Parameters<RegistryEngine['pushBlob']>) => engine.pushBlob(...a),
    blobExists: async (...a: Parameters<RegistryEngine['blobExists']>) => {
      if (fail > 0) {
        fail--;
        const { registryError } = await import('../../src/registry/index.js');
        throw registryError('UNREACHABLE', 'connection refused', { host: env.registry.host });
      }
      return engine.blobExists(...a);
    },
    putManifest: (...a: Parameters<RegistryEngine['putManifest']>) => engine.putManifest(...a),
  };
  const w = new ImportWatcher(d.deps, { mirror: flaky, rescanMs: 1000, retryBaseMs: 100 });
  t.teardown(async () => {
    await w.close();
    await engine.close();
    await d.close();
  });
  await w.start();
  const l = layout(env, 'v1');
  await ociArchive(l.dir, 'v1', join(env.tmp, 'flaky.tar'), 'docker.io/demo/flaky:v1');
  renameSync(join(env.tmp, 'flaky.tar'), join(d.dir, 'flaky.tar'));
  const failed = await waitEvent<ImportResult>(w, 'failed');
  t.equal(failed.error?.code, 'FERRY_ERR_REGISTRY_UNREACHABLE');
  t.match(await d.store.get('docker.io/demo/flaky:v1'), { state: 'retrying' });
  const ok = await waitEvent<ImportResult>(w, 'imported');
  t.equal(ok.images[0]?.digest, l.image.digest);
  t.match(await d.store.get('docker.io/demo/flaky:v1'), { state: 'mirrored', lastError: null });
});

t.test('startImport: the role watches import.dir, reports readiness, follows a new import.dir, closes', async (t) => {
  const d = makeDeps(env, { stableMs: 100 });
  const listeners: ((next: FerryConfig, prev: FerryConfig) => void)[] = [];
  const checks = new Map<string, () => Promise<{ ok: boolean; detail?: string }>>();
  let config = d.config;
  const engine = new RegistryEngine({ config, logger: d.deps.logger });
  const ctx = {
    config: () => config,
    onConfigChange: (l: (next: FerryConfig, prev: FerryConfig) => void) => listeners.push(l),
    logger: d.deps.logger,
    store: d.store,
    connection: d.connection,
    mirrorRefOf: (ref: string) => toMirrorReference(ref, config.mirror),
    registry: () => engine,
    addReadiness: (name: string, c: () => Promise<{ ok: boolean; detail?: string }>) => checks.set(name, c),
  } as unknown as RoleContext;
  const role = (await startImport(ctx)) as ImportRole;
  t.teardown(async () => {
    await role.close();
    await engine.close();
    await d.close();
  });
  t.equal(role.name, 'import');
  t.match(await checks.get('import')!(), { ok: true });
  const l = layout(env, 'v1');
  await ociArchive(l.dir, 'v1', join(env.tmp, 'role.tar'), 'docker.io/demo/role:v1');
  renameSync(join(env.tmp, 'role.tar'), join(d.dir, 'role.tar'));
  const r = await waitEvent<ImportResult>(role.watcher, 'imported');
  t.equal(r.images[0]?.digest, l.image.digest);

  const newDir = join(env.tmp, 'new-import-dir');
  const prev = config;
  config = { ...config, import: { ...config.import, dir: newDir } };
  const forgotten = waitEvent(role.watcher, 'forgotten', (v: any) => v.file === join(d.dir, 'role.tar'));
  for (const f of listeners) f(config, prev);
  await forgotten;
  t.equal(role.watcher.directory, newDir);
  await ociArchive(l.dir, 'v1', join(env.tmp, 'role2.tar'), 'docker.io/demo/role:v2');
  renameSync(join(env.tmp, 'role2.tar'), join(newDir, 'role2.tar'));
  const r2 = await waitEvent<ImportResult>(role.watcher, 'imported', (x) => x.file === join(newDir, 'role2.tar'));
  t.equal(r2.images[0]?.ref, 'docker.io/demo/role:v2');
});
