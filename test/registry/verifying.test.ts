import t from 'tap';
import { createHash } from 'node:crypto';
import { verifying, type VerifyState } from '../../src/registry/blobs.js';

const chunks = [Buffer.alloc(1000, 1), Buffer.alloc(1000, 2), Buffer.alloc(500, 3)];
const digest = `sha256:${createHash('sha256').update(Buffer.concat(chunks)).digest('hex')}`;
async function* source() {
  yield* chunks;
}

async function drain(expect: { digest?: string; size?: number }): Promise<{ passed: number; error?: { code: string } }> {
  let passed = 0;
  const state: VerifyState = {};
  try {
    for await (const c of verifying(source(), expect, () => undefined, state, { host: 'h' })) passed += c.byteLength;
    return { passed };
  } catch (e) {
    return { passed, error: e as { code: string } };
  }
}

t.test('the body is released in full only once size and digest check out', async (t) => {
  t.same(await drain({ digest, size: 2500 }), { passed: 2500 });
  const wrongDigest = await drain({ digest: `sha256:${'0'.repeat(64)}`, size: 2500 });
  t.equal(wrongDigest.error?.code, 'FERRY_ERR_REGISTRY_DIGEST_MISMATCH');
  t.equal(wrongDigest.passed, 2000, 'the last chunk is never sent: a Content-Length upload stays incomplete');
  const short = await drain({ digest, size: 3000 });
  t.equal(short.error?.code, 'FERRY_ERR_REGISTRY_SIZE_MISMATCH');
  t.ok(short.passed < 2500);
  const long = await drain({ digest, size: 1500 });
  t.equal(long.error?.code, 'FERRY_ERR_REGISTRY_SIZE_MISMATCH');
  t.ok(long.passed < 1500, 'never more than the declared size');
});
