/**
 * Where a request goes (go-containerregistry's "scheme" step): the base URL
 * of a registry host, and the URL of one request under it.
 */
import type { FerryConfig } from '../../config/types.js';
import { ownRegistryConfig } from '../credentials.js';

const LOOPBACK_RE = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?$/i;

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_RE.test(host);
}

/**
 * Base URL for `host`: `registries[host].endpoint` wins; `insecure: true`
 * (or `mirror.insecure` for the mirror host) or a loopback host -> plain
 * http (docker's default insecure loopback); docker.io -> registry-1; else https.
 * The `registries["*"]` default takes part in neither (the config refuses
 * `endpoint` and `insecure` there).
 */
export function endpointFor(config: FerryConfig, host: string): string {
  const rc = ownRegistryConfig(config, host);
  if (rc?.endpoint) return rc.endpoint.replace(/\/+$/, '');
  const insecure = rc?.insecure ?? (host === config.mirror.registry ? config.mirror.insecure : false);
  if (insecure || isLoopbackHost(host)) return `http://${host}`;
  if (host === 'docker.io' || host === 'index.docker.io') return 'https://registry-1.docker.io';
  return `https://${host}`;
}

/** An absolute URL (any scheme: http.ts refuses what is not http/https) is used as is, a path goes under `endpoint`. */
export function urlUnder(endpoint: string, path: string): string {
  return /^[a-z][a-z0-9+.-]*:/i.test(path) ? path : endpoint + path;
}

/** Path without query, for logs (upload Locations carry signed state). */
export function safePath(url: string): string {
  const q = url.indexOf('?');
  const u = q >= 0 ? url.slice(0, q) : url;
  return u.replace(/^https?:\/\/[^/]+/, '');
}
