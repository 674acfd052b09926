import type { FerryConfig } from '../config/index.js';
import { FerryError, isFerryError } from '../errors.js';
import { basicHeader, deleteScope, loadCredentials, parseChallenges, type Credentials } from '../registry/auth.js';
import { classifyHttp, registryError } from '../registry/errors.js';
import { MANIFEST_ACCEPT } from '../registry/manifest.js';
import { splitRef } from '../registry/ref.js';
import { endpointFor } from '../registry/transport.js';

export interface MirrorDeleteResult {
  /** The manifest was deleted now (false: it was not there). */
  deleted: boolean;
  mirrorRef: string;
  digest: string | null;
}

interface Ctx {
  base: string;
  host: string;
  repository: string;
  creds: Credentials | undefined;
  token?: string;
  timeoutMs: number;
}

async function registryFetch(c: Ctx, method: string, path: string, headers: Record<string, string> = {}): Promise<Response> {
  const send = (auth?: string) =>
    fetch(`${c.base}${path}`, {
      method,
      headers: { ...headers, ...(auth ? { authorization: auth } : {}) },
      signal: AbortSignal.timeout(c.timeoutMs),
      redirect: 'follow',
    });
  let res = await send(c.token ? `Bearer ${c.token}` : c.creds ? basicHeader(c.creds) : undefined);
  if (res.status !== 401) return res;
  const challenge = parseChallenges(res.headers.get('www-authenticate')).find((ch) => ch.scheme === 'bearer');
  if (!challenge?.params.realm) return res;
  await res.arrayBuffer().catch(() => undefined);
  // Token flow (distribution's auth.token): ask the realm for a delete-scoped token.
  const url = new URL(challenge.params.realm);
  if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
  url.searchParams.set('scope', `${deleteScope(c.repository)} repository:${c.repository}:pull`);
  const tr = await fetch(url, {
    headers: c.creds ? { authorization: basicHeader(c.creds) } : {},
    signal: AbortSignal.timeout(c.timeoutMs),
  });
  if (!tr.ok) {
    await tr.arrayBuffer().catch(() => undefined);
    return res;
  }
  const body = (await tr.json()) as { token?: string; access_token?: string };
  c.token = body.token ?? body.access_token;
  if (!c.token) return res;
  res = await send(`Bearer ${c.token}`);
  return res;
}

async function failure(c: Ctx, res: Response, method: string, what: 'manifest'): Promise<FerryError> {
  let codes: string[] = [];
  let message: string | undefined;
  try {
    const j = (await res.json()) as { errors?: { code?: string; message?: string }[] };
    codes = (j.errors ?? []).map((e) => e.code ?? '').filter(Boolean);
    message = j.errors?.[0]?.message;
  } catch {
    /* not JSON */
  }
  return classifyHttp(
    { status: res.status, codes, ...(message ? { message } : {}), method, what, retryAfter: res.headers.get('retry-after'), authenticated: Boolean(c.creds || c.token) },
    { host: c.host, repository: c.repository, op: `${method} manifest` },
  );
}

/**
 * Deletes the manifest of `mirrorRef` from the mirror registry
 * (`DELETE /v2/<name>/manifests/<digest>`; the registry drops the tags that
 * point to it; blobs stay until its garbage collection runs). Without a
 * known digest the tag is resolved first (HEAD). A registry that has deletes
 * disabled answers 405 / UNSUPPORTED: that becomes FERRY_ERR_REGISTRY_DELETE_DISABLED
 * (HTTP 409 from the API) with the hint to enable `storage.delete.enabled`.
 */
export async function deleteFromMirror(config: FerryConfig, mirrorRef: string, knownDigest: string | null): Promise<MirrorDeleteResult> {
  const r = splitRef(mirrorRef);
  const c: Ctx = {
    base: endpointFor(config, r.host),
    host: r.host,
    repository: r.repository,
    creds: loadCredentials(config, r.host),
    timeoutMs: config.copy.timeoutMs,
  };
  try {
    let digest = knownDigest ?? r.digest ?? null;
    if (!digest) {
      const head = await registryFetch(c, 'HEAD', `/v2/${r.repository}/manifests/${r.tag ?? 'latest'}`, { accept: MANIFEST_ACCEPT });
      if (head.status === 404) return { deleted: false, mirrorRef, digest: null };
      if (!head.ok) throw await failure(c, head, 'HEAD', 'manifest');
      digest = head.headers.get('docker-content-digest');
      if (!digest) {
        throw registryError('PROTOCOL', 'HEAD manifest answered without Docker-Content-Digest', { host: c.host, repository: c.repository });
      }
    }
    const res = await registryFetch(c, 'DELETE', `/v2/${r.repository}/manifests/${digest}`);
    if (res.status === 202 || res.status === 200 || res.status === 204) {
      await res.arrayBuffer().catch(() => undefined);
      return { deleted: true, mirrorRef, digest };
    }
    if (res.status === 404) {
      const err = await failure(c, res, 'DELETE', 'manifest');
      // MANIFEST_UNKNOWN / NAME_UNKNOWN: nothing to delete.
      if (err.code === 'FERRY_ERR_REGISTRY_MANIFEST_UNKNOWN' || err.code === 'FERRY_ERR_REGISTRY_NAME_UNKNOWN') {
        return { deleted: false, mirrorRef, digest };
      }
      throw err;
    }
    throw await failure(c, res, 'DELETE', 'manifest');
  } catch (e) {
    if (isFerryError(e)) {
      if (e.code === 'FERRY_ERR_REGISTRY_DELETE_DISABLED') {
        throw new FerryError(e.code, `the mirror registry ${c.host} has deletes disabled: ${mirrorRef} was not deleted and its record was kept`, {
          status: 409,
          ...(e.hint ? { hint: `${e.hint}, or remove the record without ?fromMirror=true` } : {}),
          details: { ...e.details, mirrorRef },
        });
      }
      throw e;
    }
    const name = (e as Error).name;
    if (name === 'TimeoutError' || name === 'AbortError') {
      throw registryError('TIMEOUT', `no answer within ${c.timeoutMs} ms`, { host: c.host, repository: c.repository, op: 'DELETE manifest', cause: e });
    }
    throw registryError('UNREACHABLE', (e as Error).message, { host: c.host, repository: c.repository, op: 'DELETE manifest', cause: e });
  }
}
