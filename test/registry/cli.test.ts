import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { parseCopyArgs } from '../../src/cli/copy.js';
import { inspectRaw } from '../support/images.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { buildTestImages, pushTestImages, type TestImages } from './support/fixtures.js';
import { nodeEntry } from '../support/process.js';

const run = promisify(execFile);
const script = nodeEntry(join(import.meta.dirname, 'support', 'run-copy.ts'));
let upstream: TestRegistry;
let mirror: TestRegistry;
let imgs: TestImages;

t.before(async () => {
  [upstream, mirror] = await Promise.all([startRegistry(), startRegistry()]);
  imgs = buildTestImages([20_000, 30_000]);
  await pushTestImages(imgs, upstream.host);
});
t.teardown(async () => {
  await Promise.all([upstream?.stop(), mirror?.stop()]);
  imgs?.cleanup();
});

const ferryCopy = (...args: string[]) =>
  run(process.execPath, [...script, ...args]).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

t.test('argument parsing', async (t) => {
  t.same(parseCopyArgs(['--platform', 'linux/amd64', '--platform=linux/arm64', 'a.io/x:1', 'b.io/y:1']), {
    src: 'a.io/x:1',
    dst: 'b.io/y:1',
    platforms: ['linux/amd64', 'linux/arm64'],
    platformMode: undefined,
    progress: false,
  });
  t.equal(parseCopyArgs(['--platform-mode', 'strip', 'a.io/x:1', 'b.io/y:1']).platformMode, 'strip');
  t.equal(parseCopyArgs(['--platform-mode=full', 'a.io/x:1', 'b.io/y:1']).platformMode, 'full');
  t.throws(() => parseCopyArgs(['--platform-mode', 'thin', 'a.io/x:1', 'b.io/y:1']), { code: 'FERRY_ERR_CLI_USAGE', message: /auto, full, sparse, strip/ });
  t.same(parseCopyArgs(['--all', 'nginx', 'b.io/y:1']).platforms, []);
  t.equal(parseCopyArgs(['nginx', 'b.io/y:1']).src, 'docker.io/library/nginx:latest');
  t.throws(() => parseCopyArgs(['only-one']), { code: 'FERRY_ERR_CLI_USAGE' });
  t.throws(() => parseCopyArgs(['--all', '--platform', 'linux/amd64', 'a.io/x', 'b.io/y']), { code: 'FERRY_ERR_CLI_USAGE' });
  t.throws(() => parseCopyArgs(['--platform', 'amd64', 'a.io/x', 'b.io/y']), { code: 'FERRY_ERR_CLI_USAGE' });
});

t.test('ferry copy --all: one JSON line, exit 0', async (t) => {
  const r = await ferryCopy('--all', `${upstream.host}/demo/app:multi`, `${mirror.host}/cli/app:multi`);
  t.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  t.equal(lines.length, 1);
  const out = JSON.parse(lines[0]!);
  t.equal(out.digest, imgs.index.digest);
  t.equal(out.upToDate, false);
  t.equal((await inspectRaw(`${mirror.host}/cli/app:multi`))?.digest, imgs.index.digest);
});

t.test('ferry copy --platform: filtered; failure: exit 1 with a clear message', async (t) => {
  const r = await ferryCopy('--platform', 'linux/arm64', `${upstream.host}/demo/app:multi`, `${mirror.host}/cli/arm:multi`);
  t.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  t.same(out.platforms, ['linux/arm64/v8']);
  t.equal(out.filtered, true);
  const bad = await ferryCopy(`${upstream.host}/demo/app:missing`, `${mirror.host}/cli/app:missing`);
  t.equal(bad.code, 1);
  t.equal(bad.stdout, '');
  t.match(bad.stderr, /^ferry copy: FERRY_ERR_REGISTRY_MANIFEST_UNKNOWN: .*demo\/app/);
});
