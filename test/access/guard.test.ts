/**
 * The guard's decisions as pure functions, for callers a loopback-only test
 * server cannot produce (other machines, IPv6, IPv4-mapped addresses), and
 * where the shared app binds for each role mix.
 */
import t from 'tap';
import { ACCESS_ERROR_CODES as C, bearerToken, hookRefusal, httpBindPlan, mutationRefusal, sameSecret, type Caller } from '../../src/access/index.js';
import { DEFAULTS, type FerryConfig } from '../../src/config/index.js';

const caller = (remoteAddress: string | undefined, headers: Caller['headers'] = {}): Caller => ({ remoteAddress, headers: { host: '127.0.0.1:8080', ...headers } });
const code = (e: { code: string } | undefined) => e?.code;

t.test('no dashboard.token: loopback callers only, with a loopback Host and no foreign Origin', async (t) => {
  for (const remote of ['10.0.0.5', '192.168.1.20', '::ffff:10.1.2.3', 'fe80::1', '2001:db8::7', undefined]) {
    const e = mutationRefusal(caller(remote), '');
    t.equal(code(e), C.NO_TOKEN_REMOTE, `refused from ${remote}`);
    t.match(e?.message, /is not on loopback/);
    t.equal(e?.status, 403);
  }
  for (const remote of ['127.0.0.1', '127.3.4.5', '::1', '::ffff:127.0.0.1']) t.equal(mutationRefusal(caller(remote), ''), undefined, `allowed from ${remote}`);
  // Loopback socket, but a browser carried it there.
  t.match(mutationRefusal(caller('127.0.0.1', { host: 'evil.example:8080' }), ''), { code: C.NO_TOKEN_REMOTE, message: /Host "evil\.example:8080" is not a loopback address/ });
  t.match(mutationRefusal(caller('127.0.0.1', { host: '127.0.0.1.nip.io:8080' }), ''), { message: /not a loopback address/ }, 'a name that merely resolves to 127.0.0.1');
  t.match(mutationRefusal(caller('127.0.0.1', { host: undefined }), ''), { message: /Host "" is not/ });
  t.match(mutationRefusal(caller('127.0.0.1', { origin: 'https://evil.example' }), ''), { message: /https:\/\/evil\.example is another site/ });
  t.match(mutationRefusal(caller('127.0.0.1', { origin: 'http://localhost:8080' }), ''), { message: /another site/ }, 'another loopback origin is another site');
  t.match(mutationRefusal(caller('127.0.0.1', { origin: 'null' }), ''), { message: /sandboxed or file page/ });
  t.match(mutationRefusal(caller('127.0.0.1', { origin: 'not a url' }), ''), { message: /is not a URL/ });
  t.equal(mutationRefusal(caller('127.0.0.1', { origin: 'http://127.0.0.1:8080' }), ''), undefined, 'the page itself');
  t.equal(mutationRefusal(caller('::1', { host: '[::1]:8080', origin: 'http://[::1]:8080' }), ''), undefined, 'IPv6 loopback page');
  t.equal(mutationRefusal(caller('127.0.0.1', { host: 'localhost:8080' }), ''), undefined, 'curl http://localhost:8080');
});

t.test('dashboard.token set: the token decides, from any address and any page', async (t) => {
  const TOKEN = 'the-token';
  t.match(mutationRefusal(caller('10.0.0.5'), TOKEN), { code: C.UNAUTHORIZED, status: 401 });
  t.match(mutationRefusal(caller('127.0.0.1'), TOKEN), { code: C.UNAUTHORIZED }, 'loopback without the token too');
  t.equal(code(mutationRefusal(caller('10.0.0.5', { authorization: 'Bearer nope' }), TOKEN)), C.UNAUTHORIZED);
  t.equal(code(mutationRefusal(caller('10.0.0.5', { authorization: `Basic ${TOKEN}` }), TOKEN)), C.UNAUTHORIZED, 'another scheme');
  t.equal(code(mutationRefusal(caller('10.0.0.5', { authorization: `Bearer ${TOKEN}-longer` }), TOKEN)), C.UNAUTHORIZED);
  t.equal(mutationRefusal(caller('10.0.0.5', { authorization: `Bearer ${TOKEN}`, host: 'ferry.example:8080', origin: 'https://evil.example' }), TOKEN), undefined);
});

t.test('hook: hooks.secret when set (from anywhere), else the mutation guard', async (t) => {
  const S = { secret: 'hook-secret', token: '' };
  t.match(hookRefusal(caller('10.0.0.5'), S), { code: C.HOOK_UNAUTHORIZED, status: 401, hint: /hooks\.secret[\s\S]*headers/ });
  t.equal(code(hookRefusal(caller('127.0.0.1'), S)), C.HOOK_UNAUTHORIZED, 'loopback needs it too');
  t.equal(code(hookRefusal(caller('10.0.0.5', { authorization: 'Bearer dash' }), { secret: 'hook-secret', token: 'dash' })), C.HOOK_UNAUTHORIZED, 'dashboard.token is not the hook secret');
  t.equal(hookRefusal(caller('10.0.0.5', { authorization: 'Bearer hook-secret', host: 'ferry.ferry-system.svc:8080' }), S), undefined, 'a registry in the cluster');
  t.equal(code(hookRefusal(caller('10.0.0.5'), { secret: '', token: '' })), C.NO_TOKEN_REMOTE, 'no secret, no token: loopback only');
  t.equal(code(hookRefusal(caller('127.0.0.1', { origin: 'https://evil.example' }), { secret: '', token: '' })), C.NO_TOKEN_REMOTE);
  t.equal(hookRefusal(caller('10.0.0.5', { authorization: 'Bearer dash' }), { secret: '', token: 'dash' }), undefined, 'no secret: dashboard.token');
});

t.test('bearer parsing and the constant-time comparison', async (t) => {
  t.equal(bearerToken('Bearer abc'), 'abc');
  t.equal(bearerToken('bearer   abc  '), 'abc');
  t.equal(bearerToken('Basic abc'), '');
  t.equal(bearerToken(undefined), '');
  t.equal(bearerToken('Bearer'), '');
  t.ok(sameSecret('abc', 'abc'));
  t.notOk(sameSecret('abc', 'abcd'));
  t.notOk(sameSecret('', ''), 'an empty configured secret never matches');
});

t.test('where the shared app binds, and what the log line says is reachable', async (t) => {
  const config = (edit: (c: FerryConfig) => void): FerryConfig => {
    const c = structuredClone(DEFAULTS);
    c.dashboard.host = '0.0.0.0';
    edit(c);
    return c;
  };
  const none = config(() => {});
  const secret = config((c) => (c.hooks.secret = 's'));
  const token = config((c) => (c.dashboard.token = 't'));
  t.equal(httpBindPlan(none, ['worker', 'import']).host, '0.0.0.0', 'health/metrics only: dashboard.host');
  t.equal(httpBindPlan(none, ['watch']).host, '127.0.0.1', 'watch without secret or token: loopback');
  t.match(httpBindPlan(none, ['watch']).reach, { ignoredHost: /0\.0\.0\.0 is not used/, hook: /loopback callers only/ });
  const w = httpBindPlan(secret, ['watch']);
  t.equal(w.host, '0.0.0.0', 'watch alone with hooks.secret: dashboard.host');
  t.match(w.reach, { hook: /anywhere that reaches 0\.0\.0\.0 with hooks\.secret/, changes: /loopback callers only/ });
  t.equal(httpBindPlan(secret, ['watch', 'worker']).host, '0.0.0.0');
  t.equal(httpBindPlan(secret, ['dashboard', 'watch', 'worker']).host, '127.0.0.1', 'with the dashboard role hooks.secret alone does not widen the bind');
  t.equal(httpBindPlan(secret, ['dashboard']).host, '127.0.0.1');
  t.equal(httpBindPlan(token, ['dashboard', 'watch']).host, '0.0.0.0', 'dashboard.token: dashboard.host');
  t.match(httpBindPlan(token, ['dashboard', 'watch']).reach, { changes: /dashboard\.token/, hook: /dashboard\.token/ });
});
