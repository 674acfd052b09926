/**
 * The AuthConfig a pull through the runtime carries: the credentials ferry
 * itself has for the image's registry host (`registries.<host>` username /
 * password, or its docker config.json `credentialsFile`, helpers included:
 * the registry client's CredentialStore, so both find the same answer).
 *
 * Sent the way the kubelet sends an imagePullSecret: username + password (or
 * an identity token alone), no `serverAddress`. containerd then offers them
 * to every endpoint of that one pull, a mirror endpoint in the node's
 * hosts.toml included, exactly as it does for the kubelet; with a
 * serverAddress it would match it against the endpoint host, which for
 * Docker Hub is registry-1.docker.io, not the docker.io of the reference.
 */
import type { FerryConfig } from '../config/types.js';
import { tryParseReference } from '../reference/index.js';
import { CredentialStore } from '../registry/index.js';
import type { CriAuth } from './types.js';

/** One store per config object: helpers' answers are reused for their TTL, and a reloaded config starts afresh. */
const stores = new WeakMap<FerryConfig, CredentialStore>();

function storeFor(config: FerryConfig): CredentialStore {
  let s = stores.get(config);
  if (!s) stores.set(config, (s = new CredentialStore(config)));
  return s;
}

/** The AuthConfig the kubelet would send for `ref` (host's credentials from ferry's registries config / credentialsFile), or undefined. */
export async function criAuthFor(config: FerryConfig, ref: string): Promise<CriAuth | undefined> {
  const parsed = tryParseReference(ref);
  if (parsed instanceof Error) throw parsed;
  if (!parsed.domain) return undefined;
  const creds = await storeFor(config).get(parsed.domain);
  if (!creds) return undefined;
  // containerd reads a username first: an identity token goes alone, or it would be sent as "<token>" with an empty password.
  if (creds.identityToken) return { identityToken: creds.identityToken };
  return { username: creds.username, password: creds.password };
}
