/**
 * Tenant isolation, as pure rules (SPEC "Trust model": a pod is rewritten
 * only to a mirrored image its own namespace could have pulled upstream).
 *
 * The mirror serves whatever it holds to every pod that can reach it, so an
 * image ferry copied with credentials (its own, or another namespace's pull
 * secret) must not be handed to a namespace that has none. Admission decides
 * from the record alone (no I/O):
 *
 *  - `access: public` (the upstream answered anonymously): every namespace.
 *  - `access: private`: the namespaces in `grantedNamespaces` (their own pull
 *    secret copied it, or a worker verified it against the same digest) and
 *    those matching the operator's `registries.<host>.shareWith`.
 *  - unknown (no record yet, or a record from before ferry checked): when
 *    ferry could have used credentials for the host (its own config names
 *    some, or `credentialsFromPods`), treated as private with no grants until
 *    a worker has looked; otherwise every copy of the host was anonymous, so
 *    public. Images the importer pushed are the operator's: public.
 */
import type { FerryConfig, RegistryConfig } from '../config/types.js';
import { grantedNamespacesOf, type ImageView } from '../image-state/index.js';
import { compileGlobs, type Matcher } from './matchers.js';

/** What the config says about one registry host, for tenancy. */
export interface HostTenancy {
  host: string;
  /** ferry's own config names credentials for the host (username, or a credentials file, its own or `*`'s). */
  ferryCredentials: boolean;
  /** `credentialsFromPods`: copies and verifications may read the requesting pod's pull secrets. */
  fromPods: boolean;
  /** `shareWith`: namespaces the operator trusts with this host's private images. */
  shareWith: Matcher;
}

export type Sharing = { shared: true } | { shared: false; why: 'private' | 'unknown' };

/** Docker Hub's names, as src/registry/credentials.ts treats them (this folder may not import the registry client). */
const DOCKER_HUB = ['docker.io', 'index.docker.io', 'registry-1.docker.io'];

/** `registries.<host>` with `registries["*"]` filling what it leaves unset: the same spread as registryConfigFor. */
function settingsFor(config: FerryConfig, host: string): RegistryConfig | undefined {
  const aliases = DOCKER_HUB.includes(host) ? DOCKER_HUB : [host];
  const own = aliases.map((h) => config.registries[h]).find((rc) => rc !== undefined);
  const any = config.registries['*'];
  return own && any ? { ...any, ...own } : (own ?? any);
}

export function hostTenancy(config: FerryConfig, host: string): HostTenancy {
  const rc = settingsFor(config, host);
  return {
    host,
    ferryCredentials: Boolean(rc?.username || rc?.credentialsFile),
    fromPods: rc?.credentialsFromPods === true,
    shareWith: compileGlobs(rc?.shareWith ?? []),
  };
}

/** hostTenancy memoized per host (one per compiled config: hot reload builds a new one). */
export function tenancyLookup(config: FerryConfig): (host: string) => HostTenancy {
  const cache = new Map<string, HostTenancy>();
  return (host) => {
    let t = cache.get(host);
    if (!t) {
      t = hostTenancy(config, host);
      if (cache.size >= 1000) cache.delete(cache.keys().next().value as string);
      cache.set(host, t);
    }
    return t;
  };
}

/** May pods of `namespace` be handed ferry's copy of the image `view` describes? */
export function sharingFor(view: ImageView | undefined, namespace: string, t: HostTenancy): Sharing {
  if (view?.access === 'public' || view?.source === 'import') return { shared: true };
  if (t.shareWith(namespace)) return { shared: true };
  if (view?.access === 'private') return grantedNamespacesOf(view.grantedNamespaces).includes(namespace) ? { shared: true } : { shared: false, why: 'private' };
  return t.ferryCredentials || t.fromPods ? { shared: false, why: 'unknown' } : { shared: true };
}

/** What to tell the pod's author: why the image is not the namespace's yet, and what changes that. */
export function notSharedReason(s: { why: 'private' | 'unknown' }, namespace: string, host: string): string {
  return s.why === 'private'
    ? `ferry's copy needed credentials for ${host}, and namespace "${namespace}" has none verified for it`
    : `ferry has not yet checked whether ${host} serves it without credentials`;
}

export function notSharedRemedy(s: { why: 'private' | 'unknown' }, namespace: string, t: HostTenancy, checking: string[] | undefined, available: boolean): string {
  if (s.why === 'unknown') return available ? 'ferry is checking now; try again in a moment' : 'ferry checks once the image is copied';
  if (!t.fromPods) {
    return `ask an operator to list namespace "${namespace}" in registries.${t.host}.shareWith, or to set registries.${t.host}.credentialsFromPods so that ferry can verify an imagePullSecret with credentials for ${t.host}`;
  }
  const now = checking?.length ? `; ferry is checking the pod's imagePullSecrets (${checking.join(', ')}) now` : '';
  return `add an imagePullSecret with credentials for ${t.host} to the pod or its service account: ferry checks it against the upstream and admits the namespace's pods once it matches${now}`;
}
