/**
 * The `verify:` gate (SPEC "Supply chain") against real registries and a real
 * worker pool: signed images are mirrored with `signature: verified`; under
 * `enforce` unsigned or wrongly signed ones are refused before a byte reaches
 * the mirror (state `error`, reason named, never retried) and admission
 * denies pods naming them; under `warn` they are mirrored and flagged; an
 * image no rule matches is left alone (`signature` null).
 */
import t from 'tap';
import { compilePolicy, decide } from '../../src/policy/index.js';
import { parsePublicKeys, signatureTag, verifyCosignSignature } from '../../src/verify/index.js';
import { inspectRaw } from '../support/images.js';
import { cosignSignature, fetchBlob, fetchManifest, keyPair, pushArtifact } from '../support/supply-chain.js';
import { harness, jobDone, startEnv } from '../worker/support/env.js';

const env = await startEnv();
t.teardown(() => env.stop());
const signer = keyPair('ecdsa-p256');
const stranger = keyPair('ecdsa-p256');

const h = await harness(env, 'verify-gate', { maxAttempts: 3 });
t.teardown(() => h.close());
const up = env.upstream.host;
h.config.verify = [
  { pattern: `${up}/enforced/*`, keys: [signer.publicPem], mode: 'enforce' },
  { pattern: `${up}/strict/*`, keys: [stranger.publicPem], mode: 'enforce' },
  { pattern: `${up}/lenient/*`, keys: [signer.publicPem], mode: 'warn' },
];
const pool = h.pool();

/** Pushes `repo:tag` upstream, signed by `key` unless null; the upstream ref and manifest digest. */
async function image(repo: string, tag: string, key: typeof signer | null) {
  const { ref } = await env.push(repo, tag, [4096, 2048]);
  const top = (await fetchManifest(up, repo, tag))!;
  if (key) await pushArtifact(up, repo, cosignSignature(top.digest, `${up}/${repo}`, key.privateKey), signatureTag(top.digest));
  return { ref, digest: top.digest };
}

async function copy(ref: string) {
  const done = jobDone(pool, (j) => j.data.ref === ref);
  await h.enqueue(ref);
  const job = await done;
  return { job, record: (await h.store.get(ref))! };
}

function admission(ref: string, record: Awaited<ReturnType<typeof h.store.get>>) {
  const policy = compilePolicy(h.config);
  return decide({ namespace: 'shop', annotations: {}, images: [{ list: 'containers', index: 0, name: 'app', image: ref }] }, { annotations: {} }, policy, (r) => (r === ref ? record : undefined));
}

t.test('signed + enforce: mirrored, signature verified; the upstream signature verifies when read back', async (t) => {
  const { ref, digest } = await image('enforced/app', '1', signer);
  const { record } = await copy(ref);
  t.match(record, { state: 'mirrored', signature: 'verified', lastError: null, sourceDigest: digest });
  t.equal((await inspectRaw(env.mirrorRefOf(ref)))?.digest, digest, 'the mirror holds the image');
  const sig = (await fetchManifest(up, 'enforced/app', signatureTag(digest)))!;
  const payloads = new Map<string, Buffer>();
  for (const l of sig.json.layers) payloads.set(l.digest, await fetchBlob(up, 'enforced/app', l.digest));
  t.match(verifyCosignSignature({ manifest: sig.json, payloads, keys: parsePublicKeys([signer.publicPem]), expectedDigest: digest }), { ok: true, key: 0 });
  t.same(admission(ref, record).denials, [], 'pods naming it are admitted');
});

t.test('unsigned + enforce: error naming the reason, nothing in the mirror, pods denied', async (t) => {
  const { ref, digest } = await image('enforced/bare', '1', null);
  const { job, record } = await copy(ref);
  t.equal(job.attemptsMade, 1, 'failed once, not retried');
  t.match(record, { state: 'error', signature: 'unsigned', attempts: 1, nextAttemptAt: null });
  t.match(record.lastError, /^unsigned image refused by verify \(enforce\)/);
  t.match(record.lastError, new RegExp(`unsigned.*no cosign signature \\(${signatureTag(digest).replace(/\./g, '\\.')}\\)`));
  t.equal(await inspectRaw(env.mirrorRefOf(ref)), undefined, 'skopeo inspect finds nothing in the mirror');
  const d = admission(ref, record);
  t.equal(d.denials.length, 1);
  t.match(d.denials[0], /is unsigned: a verify rule in mode enforce keeps it out of the mirror/);
  t.match(d.denials[0], /no cosign signature/);
});

t.test('signed by another key + enforce: error, signature unverified', async (t) => {
  const { ref } = await image('strict/app', '1', signer);
  const { record } = await copy(ref);
  t.match(record, { state: 'error', signature: 'unverified', attempts: 1 });
  t.match(record.lastError, /wrongly signed.*does not verify/);
  t.equal(await inspectRaw(env.mirrorRefOf(ref)), undefined, 'nothing in the mirror');
  t.match(admission(ref, record).denials[0], /is wrongly signed \(its cosign signature does not verify\)/);
});

t.test('unsigned + warn: mirrored, flagged unsigned', async (t) => {
  const { ref, digest } = await image('lenient/app', '1', null);
  const { record } = await copy(ref);
  t.match(record, { state: 'mirrored', signature: 'unsigned', lastError: null });
  t.equal((await inspectRaw(env.mirrorRefOf(ref)))?.digest, digest);
  t.same(admission(ref, record).denials, []);
});

t.test('no rule matches: mirrored, signature null', async (t) => {
  const { ref } = await image('other/app', '1', null);
  const { record } = await copy(ref);
  t.match(record, { state: 'mirrored', signature: null });
});
