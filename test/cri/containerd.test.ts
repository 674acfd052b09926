/**
 * The CRI image client against a real containerd 1.6 (its CRI plugin, overlayfs, temp root and socket)
 * and real docker-registry instances on loopback: pull by tag lands the registry's digest in the
 * runtime's store (as ImageStatus, ListImages and `ctr images ls` see it); a missing tag, a refused
 * login and an unreachable socket are typed errors with their hints; a pull that hangs obeys its
 * deadline and its AbortSignal.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../src/config/index.js';
import { CRI_ERROR_CODES, connectCri, criAuthFor, type CriImageService } from '../../src/cri/index.js';
import { containerdUnavailable, startContainerd, type TestContainerd } from '../support/containerd.js';
import { buildImage, inspectRaw, pushImage } from '../support/images.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

const skip = await containerdUnavailable();
const USER = 'puller';
const PW = 'pull-pw-123';

t.test('CRI image service against containerd', { skip }, async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'ferry-cri-'));
  const htpasswd = execFileSync('htpasswd', ['-Bbn', USER, PW]).toString().trim() + '\n';
  const [ctd, reg, authReg] = await Promise.all([startContainerd(), startRegistry(), startRegistry({ htpasswd })]);
  let cri: CriImageService | undefined;
  t.teardown(async () => {
    cri?.close();
    await Promise.all([ctd.stop(), reg.stop(), authReg.stop()]);
    rmSync(tmp, { recursive: true, force: true });
  });
  const layout = join(tmp, 'layout');
  buildImage(layout, { tag: 'v1', layerSizes: [2048, 4096] });
  await Promise.all([pushImage(layout, 'v1', `${reg.host}/demo/app:v1`), pushImage(layout, 'v1', `${authReg.host}/private/app:v1`, { username: USER, password: PW })]);
  await Promise.all([ctd.addPlainHttpHost(reg.host), ctd.addPlainHttpHost(authReg.host)]);
  cri = connectCri(ctd.socket);

  await t.test('version() reports containerd and CRI v1', async (t) => {
    const v = await cri!.version();
    t.equal(v.runtimeName, 'containerd');
    t.match(v.runtimeVersion, /^v?1\.\d+/);
    t.match(v.runtimeApiVersion, /^v1/);
  });

  await t.test('pull by tag: the runtime holds the registry digest, listed by ImageStatus, ListImages and ctr', async (t) => {
    const ref = `${reg.host}/demo/app:v1`;
    const pushed = await inspectRaw(ref);
    t.ok(pushed, 'the registry has it');
    t.equal(await cri!.imageStatus(ref), undefined, 'absent before the pull');
    const imageRef = await cri!.pullImage(ref);
    t.match(imageRef, /^sha256:[0-9a-f]{64}$/, 'containerd answers the image ID');
    const status = await cri!.imageStatus(ref);
    t.ok(status, 'present after the pull');
    t.equal(status!.id, imageRef);
    t.ok(status!.repoDigests.includes(`${reg.host}/demo/app@${pushed!.digest}`), `repoDigests ${status!.repoDigests} carry the registry's digest`);
    t.ok(status!.repoTags.includes(ref));
    t.ok(status!.size > 2048 + 4096, `size ${status!.size} counts the layers`);
    t.same(await cri!.imageStatus(`${reg.host}/demo/app@${pushed!.digest}`), status, 'found by digest too');
    t.same(await cri!.imageStatus(imageRef), status, 'and by image ID');
    const all = await cri!.listImages();
    t.ok(all.some((i) => i.id === imageRef && i.repoTags.includes(ref)), 'ListImages includes it');
    t.same((await cri!.listImages({ image: ref })).map((i) => i.id), [imageRef], 'ListImages filtered by the image');
    t.ok((await ctd.imageNames()).includes(ref), 'ctr -n k8s.io images ls shows the name');
  });

  await t.test('a missing tag: PULL_FAILED with the not-found hint', async (t) => {
    const e = await cri!.pullImage(`${reg.host}/demo/app:missing`).catch((err) => err);
    t.equal(e.code, CRI_ERROR_CODES.PULL_FAILED, e.message);
    t.equal(e.details?.reason, 'not-found', e.message);
    t.match(e.hint, /no such image or tag/);
    t.match(e.message, /demo\/app:missing/, "the runtime's message names the image");
  });

  await t.test('htpasswd registry: criAuthFor credentials pull, none or wrong ones are refused', async (t) => {
    const ref = `${authReg.host}/private/app:v1`;
    const config = resolveConfig({ mirror: { registry: authReg.host }, registries: { [authReg.host]: { username: USER, password: PW } } }).config;
    const wrong = resolveConfig({ mirror: { registry: authReg.host }, registries: { [authReg.host]: { username: USER, password: 'nope' } } }).config;
    for (const [what, auth] of [
      ['no credentials', undefined],
      ['a wrong password', await criAuthFor(wrong, ref)],
    ] as const) {
      const e = await cri!.pullImage(ref, auth ? { auth } : {}).catch((err) => err);
      t.equal(e.code, CRI_ERROR_CODES.PULL_FAILED, `${what}: ${e.message}`);
      t.equal(e.details?.reason, 'unauthorized', `${what}: ${e.message}`);
      t.match(e.hint, /credentials/, what);
      t.notMatch(e.message + e.hint, /nope/, 'the password is not in the error');
    }
    t.equal(await cri!.imageStatus(ref), undefined, 'nothing pulled');
    const auth = await criAuthFor(config, ref);
    t.same(auth, { username: USER, password: PW });
    const id = await cri!.pullImage(ref, { auth });
    t.equal((await cri!.imageStatus(ref))?.id, id, 'pulled with the credentials ferry has for the host');
    // containerd resolves the tag again on every pull, so each of these asks the registry
    t.equal(await cri!.pullImage(ref, { auth: { ...auth, serverAddress: authReg.host } }), id, 'serverAddress as a bare host:port names the host');
    const elsewhere = await cri!.pullImage(ref, { auth: { ...auth, serverAddress: 'https://other.example' } }).catch((err) => err);
    t.equal(elsewhere.details?.reason, 'unauthorized', 'credentials for another host are not offered to this one');
  });

  await t.test('a registry that never answers: the pull obeys its deadline and its AbortSignal', async (t) => {
    const held: Socket[] = [];
    const silent = createServer((s) => held.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const host = `127.0.0.1:${(silent.address() as { port: number }).port}`;
    t.teardown(() => {
      held.forEach((s) => s.destroy());
      silent.close();
    });
    await ctd.addPlainHttpHost(host);
    let t0 = Date.now();
    const timedOut = await cri!.pullImage(`${host}/slow/app:v1`, { timeoutMs: 700 }).catch((err) => err);
    t.equal(timedOut.code, CRI_ERROR_CODES.TIMEOUT, timedOut.message);
    t.ok(Date.now() - t0 < 5000, `deadline kept (${Date.now() - t0} ms)`);
    const ac = new AbortController();
    const reason = new Error('agent stopping');
    setTimeout(() => ac.abort(reason), 300);
    t0 = Date.now();
    const aborted = await cri!.pullImage(`${host}/slow/app:v1`, { signal: ac.signal }).catch((err) => err);
    t.equal(aborted, reason, 'rejects with the signal reason');
    t.ok(Date.now() - t0 < 3000, `cancelled promptly (${Date.now() - t0} ms)`);
    t.equal(await cri!.imageStatus(`${host}/slow/app:v1`), undefined, 'nothing landed');
  });
});

t.test('a socket that does not exist: UNREACHABLE at once, not at the deadline', async (t) => {
  const cri = connectCri(join(tmpdir(), 'ferry-no-such-runtime.sock'), { callTimeoutMs: 30_000 });
  t.teardown(() => cri.close());
  const t0 = Date.now();
  for (const call of [() => cri.version(), () => cri.pullImage('nginx:1.27'), () => cri.imageStatus('nginx:1.27'), () => cri.listImages()]) {
    const e = await call().catch((err) => err);
    t.equal(e.code, CRI_ERROR_CODES.UNREACHABLE, e.message);
    t.match(e.hint, /does not exist.*agent\.criSocket/);
  }
  t.ok(Date.now() - t0 < 5000, `four calls failed in ${Date.now() - t0} ms`);
});

t.test('a closed client and bad input are errors, not crashes', async (t) => {
  const cri = connectCri('tcp://127.0.0.1:1');
  const e = await cri.version().catch((err) => err);
  t.equal(e.code, CRI_ERROR_CODES.UNREACHABLE);
  t.match(e.hint, /unix socket/);
  const ok = connectCri(join(tmpdir(), 'ferry-no-such-runtime.sock'));
  await t.rejects(ok.pullImage('Bad Ref!'), { code: /^FERRY_ERR_REFERENCE_/ });
  ok.close();
  await t.rejects(ok.version(), { code: CRI_ERROR_CODES.CALL_FAILED, message: /closed/ });
});

t.test('a gRPC server that does not serve runtime.v1: UNIMPLEMENTED', async (t) => {
  // What containerd < 1.6 (v1alpha2 only) or one with the CRI plugin disabled answers: a real gRPC server without the services.
  const grpc = await import('@grpc/grpc-js');
  const dir = mkdtempSync(join(tmpdir(), 'ferry-cri-'));
  const server = new grpc.Server();
  await new Promise<void>((resolve, reject) => server.bindAsync(`unix://${join(dir, 'old.sock')}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
  const cri = connectCri(`unix://${join(dir, 'old.sock')}`);
  t.teardown(() => {
    cri.close();
    server.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
  });
  for (const call of [() => cri.version(), () => cri.pullImage('nginx:1.27'), () => cri.imageStatus('nginx:1.27')]) {
    const e = await call().catch((err) => err);
    t.equal(e.code, CRI_ERROR_CODES.UNIMPLEMENTED, e.message);
    t.match(e.hint, /containerd >= 1\.6/);
  }
});
