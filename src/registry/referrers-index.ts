/**
 * The referrers tag schema fallback in the mirror (OCI distribution spec,
 * "Unavailable Referrers API"): tag `<alg>-<subject hex>` holds an OCI index
 * whose `manifests` are descriptors of the subject's referrers, maintained by
 * clients read-modify-write.
 *
 * Never losing an entry:
 *  - inside the process, updates of one (mirror repository, subject) are
 *    serialized (a promise chain per key), and each applies every descriptor
 *    its caller has;
 *  - against other processes (other workers), each update re-reads the tag
 *    after its PUT, after a short random pause: an entry missing then means a
 *    concurrent writer replaced the index with one it read before our write,
 *    so the merge is done again (a few rounds). A writer whose re-read came
 *    before the other's PUT cannot see that race; the other writer's merge,
 *    or the next copy of the same subject, restores the entry.
 * Existing entries and fields of the index are kept; entries are matched by digest.
 */
import { registryError, repoCtx } from './errors.js';
import type { Logger } from './logger.js';
import { MAX_MANIFEST_PUSH_BYTES, MT, type Descriptor } from './manifest.js';
import { fetchManifest, pushManifest } from './manifest-io.js';
import type { Transport } from './transport/index.js';

export interface ReferrerDescriptor extends Descriptor {
  artifactType?: string;
}

type Repo = { host: string; repository: string };

const ROUNDS = 5;
const chains = new Map<string, Promise<unknown>>();

/** Runs `fn` after every earlier update of `key` in this process. */
function serialized<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const prev = chains.get(key) ?? Promise.resolve();
  const run = prev.then(fn, fn);
  const tail = run.catch(() => undefined);
  chains.set(key, tail);
  void tail.then(() => {
    if (chains.get(key) === tail) chains.delete(key);
  });
  return run;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(done, ms);
    function done() {
      signal.removeEventListener('abort', abort);
      resolve();
    }
    function abort() {
      clearTimeout(t);
      reject(signal.reason);
    }
    if (signal.aborted) abort();
    else signal.addEventListener('abort', abort, { once: true });
  });

/** The fallback index of `subject` in `dst`: `{ json }`, or undefined when the tag is not there. */
async function readIndex(transport: Transport, dst: Repo, tag: string, signal: AbortSignal): Promise<any | undefined> {
  const m = await fetchManifest(transport, { ...dst, tag }, signal, true);
  if (!m) return undefined;
  if (!Array.isArray(m.json?.manifests)) {
    throw registryError('MANIFEST_INVALID', `fallback referrers tag ${tag} is not an index`, repoCtx(dst, `GET manifest ${tag}`));
  }
  return m.json;
}

const missingFrom = (json: any, descs: ReferrerDescriptor[]): ReferrerDescriptor[] => {
  const have = new Set(((json?.manifests ?? []) as Descriptor[]).map((d) => d?.digest));
  return descs.filter((d) => !have.has(d.digest));
};

/**
 * Makes `dst`'s tag `sha256-<subject hex>` list every descriptor of `descs`
 * (keeping what it lists already). Returns the number of entries added.
 */
export function updateFallbackIndex(transport: Transport, dst: Repo, subject: string, descs: ReferrerDescriptor[], signal: AbortSignal, logger?: Logger): Promise<number> {
  const tag = subject.replace(':', '-');
  return serialized(`${dst.host}/${dst.repository}@${tag}`, async () => {
    let added = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const cur = await readIndex(transport, dst, tag, signal);
      const missing = missingFrom(cur, descs);
      if (missing.length === 0) return added;
      const next = cur ? { ...cur, manifests: [...cur.manifests, ...missing] } : { schemaVersion: 2, mediaType: MT.OCI_INDEX, manifests: missing };
      const bytes = Buffer.from(JSON.stringify(next));
      if (bytes.length > MAX_MANIFEST_PUSH_BYTES) {
        throw registryError('MANIFEST_TOO_LARGE', `fallback referrers index ${tag} would exceed ${MAX_MANIFEST_PUSH_BYTES} bytes`, repoCtx(dst, `PUT manifest ${tag}`));
      }
      // its children may be PUT by another copy at this moment: pushManifest retries the link-read race as for any index
      await pushManifest(transport, dst, tag, bytes, MT.OCI_INDEX, signal);
      added = Math.max(added, missing.length);
      // another process may have written between our read and our PUT: look again
      await sleep(20 + Math.random() * 80, signal);
      const after = await readIndex(transport, dst, tag, signal);
      if (missingFrom(after, descs).length === 0) return added;
      logger?.debug({ host: dst.host, repository: dst.repository, tag, round }, 'fallback referrers index lost a race: merging again');
    }
    throw registryError('PROTOCOL', `fallback referrers index ${tag} kept losing concurrent updates`, repoCtx(dst, `PUT manifest ${tag}`));
  });
}
