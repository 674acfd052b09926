/**
 * hooks.secret as each sender carries it (pure decisions): bearer,
 * Harbor's verbatim Auth Header, GitLab's X-Gitlab-Token, GitHub's
 * X-Hub-Signature-256 over the raw body, Docker Hub's / Quay's ?token=.
 */
import { createHmac } from 'node:crypto';
import t from 'tap';
import { ACCESS_ERROR_CODES as C, checkHookCredentials, hookRefusal, queryTokenOf, validSignature, type Caller } from '../../src/access/index.js';
import { redactSecretsInText } from '../../src/redact.js';

const SECRET = 'hook-secret-1234';
const S = { secret: SECRET, token: 'dash' };
const sign = (body: Buffer, secret = SECRET) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
const caller = (headers: Caller['headers'] = {}, more: Partial<Caller> = {}): Caller => ({ remoteAddress: '10.0.0.5', headers, ...more });
const code = (e: { code: string } | undefined) => e?.code;

t.test('header and query credentials', async (t) => {
  t.same(checkHookCredentials({ headers: { authorization: `Bearer ${SECRET}` } }, SECRET), { by: 'bearer' });
  t.same(checkHookCredentials({ headers: { authorization: `bearer  ${SECRET}` } }, SECRET), { by: 'bearer' }, 'scheme case-insensitive');
  t.same(checkHookCredentials({ headers: { authorization: SECRET } }, SECRET), { by: 'authorization' }, "Harbor's Auth Header, verbatim");
  t.same(checkHookCredentials({ headers: { 'x-gitlab-token': SECRET } }, SECRET), { by: 'gitlab-token' });
  t.same(checkHookCredentials({ headers: {}, queryToken: SECRET }, SECRET), { by: 'query-token' });
  t.same(checkHookCredentials({ headers: { 'x-hub-signature-256': 'sha256=00' } }, SECRET), { pending: 'signature' }, 'decided after the body');
  for (const [what, c] of [
    ['nothing', { headers: {} }],
    ['a wrong bearer', { headers: { authorization: 'Bearer nope' } }],
    ['Basic is not the secret', { headers: { authorization: `Basic ${Buffer.from(`u:${SECRET}`).toString('base64')}` } }],
    ['a longer secret', { headers: { authorization: `Bearer ${SECRET}x` } }],
    ['a wrong GitLab token', { headers: { 'x-gitlab-token': 'nope' } }],
    ['a wrong query token', { headers: {}, queryToken: 'nope' }],
    ['dashboard.token', { headers: { authorization: 'Bearer dash' } }],
  ] as const) {
    const r = checkHookCredentials(c, SECRET);
    t.ok('refusal' in r && r.refusal.code === C.HOOK_UNAUTHORIZED && r.refusal.status === 401, what);
  }
  t.equal(queryTokenOf('/hooks/registry?token=abc%2F1&x=1'), 'abc/1');
  t.equal(queryTokenOf('/hooks/registry'), '');
});

t.test('GitHub signature: HMAC-SHA256 over the raw body bytes', async (t) => {
  // Bytes exactly as sent: whitespace and key order matter, a re-serialization would not match.
  const body = Buffer.from('{"action":"published",  "package": {"name":"é"}}\n');
  t.ok(validSignature(body, sign(body), SECRET), 'right');
  t.ok(validSignature(body, sign(body).toUpperCase().replace('SHA256=', 'sha256='), SECRET), 'hex case does not matter');
  t.notOk(validSignature(body, sign(body, 'other'), SECRET), 'another secret');
  t.notOk(validSignature(Buffer.from(JSON.stringify(JSON.parse(body.toString()))), sign(body), SECRET), 'another serialization of the same JSON');
  t.notOk(validSignature(body, sign(body).replace('sha256=', 'sha1='), SECRET), 'not sha256');
  t.notOk(validSignature(body, undefined, SECRET), 'missing');
  t.notOk(validSignature(body, 'sha256=', SECRET), 'empty');
  t.notOk(validSignature(undefined, sign(body), SECRET), 'no body kept');
  t.ok(validSignature(undefined, sign(Buffer.alloc(0)), SECRET), 'an empty body signs as empty');
  t.notOk(validSignature(body, sign(body, ''), ''), 'no secret: never valid');
});

t.test('hookRefusal: the whole decision for one caller', async (t) => {
  const body = Buffer.from('{"zen":"x"}');
  t.equal(hookRefusal(caller({ authorization: `Bearer ${SECRET}` }), S), undefined, 'bearer');
  t.equal(hookRefusal(caller({ authorization: SECRET }), S), undefined, 'Harbor header');
  t.equal(hookRefusal(caller({ 'x-gitlab-token': SECRET }), S), undefined, 'GitLab token');
  t.equal(hookRefusal(caller({}, { queryToken: SECRET }), S), undefined, 'query token');
  t.equal(hookRefusal(caller({ 'x-hub-signature-256': sign(body) }, { rawBody: body }), S), undefined, 'signature');
  t.match(hookRefusal(caller({ 'x-hub-signature-256': sign(body, 'x') }, { rawBody: body }), S), { code: C.HOOK_UNAUTHORIZED, status: 401, message: /X-Hub-Signature-256/ });
  t.equal(code(hookRefusal(caller({ 'x-hub-signature-256': sign(body) }), S)), C.HOOK_UNAUTHORIZED, 'a signature without the body cannot pass');
  t.equal(code(hookRefusal(caller({ authorization: 'Bearer wrong', 'x-hub-signature-256': sign(body) }, { rawBody: body }), S)), undefined, 'the signature decides');
  t.match(hookRefusal(caller(), S), { hint: /notifications\.endpoints\[\]\.headers[\s\S]*X-Gitlab-Token[\s\S]*Harbor[\s\S]*X-Hub-Signature-256[\s\S]*\?token=/ }, 'the hint says how each sender carries it');
  t.equal(hookRefusal(caller({ authorization: 'Bearer dash' }), { secret: '', token: 'dash' }), undefined, 'no secret: the dashboard guard');
  t.equal(code(hookRefusal(caller({}, { queryToken: 'dash' }), { secret: '', token: 'dash' })), C.UNAUTHORIZED, 'no secret: no query token either');
});

t.test("the query token never reaches ferry's logs", async (t) => {
  t.equal(redactSecretsInText(`POST /hooks/registry?token=${SECRET} 202`), 'POST /hooks/registry?token=*** 202');
  t.equal(redactSecretsInText(`{"url":"/hooks/registry?x=1&token=${SECRET}"}`), '{"url":"/hooks/registry?x=1&token=***"}');
});
