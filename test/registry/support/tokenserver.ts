/**
 * A token server for docker-registry 2.8 `auth.token` (recipe section 5),
 * in-process: RS256 JWTs whose header `kid` is the libtrust key id of the
 * certificate the registry trusts. Authenticated users get every scope they
 * ask for; anonymous callers get only `pull` (when allowed). Besides docker's
 * `GET ?service&scope&account` with Basic credentials it takes the OAuth2
 * refresh-token grant (`POST` form, what `identitytoken` logins use; a bad
 * refresh token gets 400 invalid_grant). Every request is recorded (method,
 * grant, account, scopes) so tests can assert on the flow.
 */
import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, randomUUID, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../support/process.js';

export interface TokenServerOptions {
  /** user -> password; Basic credentials are checked against it. */
  users: Record<string, string>;
  /** identity (refresh) token -> user, for the refresh-token grant. */
  identityTokens?: Record<string, string>;
  /** Anonymous callers get pull-only tokens (default true). */
  anonymousPull?: boolean;
  service?: string;
  issuer?: string;
  /** Token lifetime in seconds (default 300). */
  expiresIn?: number;
}

export interface TokenRequestLog {
  method: 'GET' | 'POST';
  /** `grant_type` of a POST (`refresh_token`); null for docker's GET flow. */
  grantType: string | null;
  /** POST: the form's client_id. */
  clientId: string | null;
  account: string | null;
  user: string | null;
  scopes: string[];
  granted: { type: string; name: string; actions: string[] }[];
}

export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  /** PEM bundle path for the registry's `rootcertbundle`. */
  certFile: string;
  requests: TokenRequestLog[];
  /** Token lifetime for tokens issued from now on (seconds). */
  expiresIn: number;
  /** The next N token requests get a token with no access at all (forces insufficient_scope). */
  stingy: number;
  stop(): Promise<void>;
}

/** libtrust key id: sha256(DER SPKI), first 240 bits, base32, 12 groups of 4 joined by ':'. */
export function libtrustKid(pub: KeyObject): string {
  const bytes = createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest().subarray(0, 30);
  let bits = '';
  for (const b of bytes) bits += b.toString(2).padStart(8, '0');
  let out = '';
  for (let i = 0; i < bits.length; i += 5) out += 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[parseInt(bits.slice(i, i + 5), 2)];
  return out.match(/.{4}/g)!.join(':');
}

const b64url = (x: unknown) => Buffer.from(JSON.stringify(x)).toString('base64url');

export async function startTokenServer(opts: TokenServerOptions): Promise<TokenServer> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-token-'));
  const keyFile = join(dir, 'token.key');
  const certFile = join(dir, 'token.crt');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=ferry-test-token'], { stdio: 'ignore' });
  const key = createPrivateKey(readFileSync(keyFile));
  const cert = new X509Certificate(readFileSync(certFile));
  const header = { typ: 'JWT', alg: 'RS256', kid: libtrustKid(cert.publicKey) };
  const service = opts.service ?? 'ferry-test-registry';
  const issuer = opts.issuer ?? 'ferry-test-issuer';
  const requests: TokenRequestLog[] = [];
  const state = { expiresIn: opts.expiresIn ?? 300, stingy: 0 };
  const issue = (res: ServerResponse, log: Omit<TokenRequestLog, 'granted'>, audience: string | null) => {
    const { user, scopes } = log;
    const stingy = state.stingy > 0;
    if (stingy) state.stingy--;
    const granted = stingy ? [] : scopes.flatMap((s) =>
      s.split(' ').map((one) => {
        const parts = one.split(':');
        const type = parts[0] ?? '';
        const actions = (parts.pop() ?? '').split(',').filter(Boolean);
        const name = parts.slice(1).join(':');
        return { type, name, actions: user ? actions : actions.filter((a) => a === 'pull') };
      }),
    );
    requests.push({ ...log, granted });
    const now = Math.floor(Date.now() / 1000);
    const expiresIn = state.expiresIn;
    const claims = { iss: issuer, sub: user ?? 'anonymous', aud: audience ?? service, exp: now + expiresIn, nbf: now - 10, iat: now, jti: randomUUID(), access: granted };
    const input = `${b64url(header)}.${b64url(claims)}`;
    const token = `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ token, access_token: token, expires_in: expiresIn, issued_at: new Date(now * 1000).toISOString() }));
  };
  const refreshGrant = (req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (text += c));
    req.on('end', () => {
      const form = new URLSearchParams(text);
      const grantType = form.get('grant_type');
      const user = opts.identityTokens?.[form.get('refresh_token') ?? ''];
      if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded') || grantType !== 'refresh_token' || !user) {
        res.writeHead(400, { 'Content-Type': 'application/json' }).end('{"error":"invalid_grant"}');
        return;
      }
      const scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
      issue(res, { method: 'POST', grantType, clientId: form.get('client_id'), account: null, user, scopes }, form.get('service'));
    });
  };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/token') {
      res.writeHead(404).end();
      return;
    }
    if (req.method === 'POST') {
      refreshGrant(req, res);
      return;
    }
    let user: string | null = null;
    const authz = req.headers.authorization ?? '';
    if (authz.startsWith('Basic ')) {
      const decoded = Buffer.from(authz.slice(6), 'base64').toString();
      const i = decoded.indexOf(':');
      const u = decoded.slice(0, i);
      if (i < 0 || opts.users[u] === undefined || opts.users[u] !== decoded.slice(i + 1)) {
        res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"details":"bad credentials"}');
        return;
      }
      user = u;
    } else if (opts.anonymousPull === false) {
      res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"details":"authentication required"}');
      return;
    }
    const log = { method: 'GET' as const, grantType: null, clientId: null, account: url.searchParams.get('account'), user, scopes: url.searchParams.getAll('scope') };
    issue(res, log, url.searchParams.get('service'));
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certFile,
    requests,
    get expiresIn() {
      return state.expiresIn;
    },
    set expiresIn(v: number) {
      state.expiresIn = v;
    },
    get stingy() {
      return state.stingy;
    },
    set stingy(v: number) {
      state.stingy = v;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
