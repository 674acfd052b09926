/**
 * What every hook format parses into, and the shared helpers the parsers use.
 * Pure: no I/O. A delivery only ever names a repository and a tag (and the
 * digest the sender claims): ferry resolves the tag upstream itself before
 * anything is copied (SPEC "Trust model").
 */
import type { IncomingHttpHeaders } from 'node:http';

export interface RegistryEvent {
  action: string;
  /** Repository path inside the registry (`demo/app`). */
  repository: string;
  tag?: string | undefined;
  /** The digest the sender names: used only to wait until the tag resolves there, never copied from. */
  digest?: string | undefined;
  mediaType?: string | undefined;
  /** Host the client pushed to (`request.host`), e.g. `registry.example.com:5000`. */
  host?: string | undefined;
}

/** The senders POST /hooks/registry recognizes (metrics label values too). */
export const HOOK_FORMATS = ['distribution', 'gitlab', 'dockerhub', 'harbor', 'harbor-cloudevents', 'github', 'quay'] as const;
export type HookFormat = (typeof HOOK_FORMATS)[number];

/** One request as the parsers see it. */
export interface HookRequest {
  headers: IncomingHttpHeaders;
  body: unknown;
}

/**
 * A parsed delivery. A class (not a plain object) so that the watcher's
 * `notify(body)` can tell it from a raw distribution envelope.
 */
export class HookDelivery {
  constructor(
    readonly format: HookFormat,
    readonly events: RegistryEvent[],
    /** Why a recognized delivery carries no push (a GitHub ping, a Harbor pull event): said in the 202. */
    readonly note?: string,
  ) {}
}

export const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
export const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
export const header = (h: IncomingHttpHeaders, name: string): string | undefined => {
  const v = h[name];
  return str(Array.isArray(v) ? v[0] : v);
};

/** `harbor.example.com/library/nginx:1.27` or `...@sha256:...` -> host and repository path (no I/O; undefined if it has no host part). */
export function splitImageUrl(url: string): { host: string; repository: string } | undefined {
  const noScheme = url.replace(/^[a-z]+:\/\//i, '');
  const slash = noScheme.indexOf('/');
  if (slash <= 0) return undefined;
  const host = noScheme.slice(0, slash);
  let path = noScheme.slice(slash + 1);
  const at = path.indexOf('@');
  if (at >= 0) path = path.slice(0, at);
  const colon = path.lastIndexOf(':');
  if (colon > path.lastIndexOf('/')) path = path.slice(0, colon);
  return path ? { host: host.toLowerCase(), repository: path } : undefined;
}
