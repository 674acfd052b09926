/**
 * Who is calling from where, for the no-token mode: loopback callers only,
 * and only this machine's own pages (not a web page on another site driving
 * the operator's browser, not a DNS-rebound name).
 */
import type { IncomingHttpHeaders } from 'node:http';

/** The socket's peer is this machine (IPv4 127/8, IPv6 ::1, IPv4-mapped 127/8). */
export function isLoopbackAddress(a: string | undefined): boolean {
  if (!a) return false;
  return a === '::1' || a.startsWith('127.') || a.startsWith('::ffff:127.');
}

/** `Host` / `Origin` host part names this machine's loopback (not a DNS name that merely resolves there). */
export function isLoopbackHostHeader(host: string | undefined): boolean {
  if (!host) return false;
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '');
  return name === 'localhost' || name === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(name);
}

/**
 * Without a token, the only thing between a web page the operator visits and
 * the mutating API on 127.0.0.1 is the browser: refuse cross-site requests
 * (Origin of another site; a simple POST needs no CORS preflight) and DNS
 * rebinding (a foreign name in Host that resolves to 127.0.0.1).
 */
export function crossSiteProblem(headers: IncomingHttpHeaders): string | undefined {
  const host = headers.host;
  if (!isLoopbackHostHeader(host)) return `Host "${host ?? ''}" is not a loopback address`;
  const origin = headers.origin;
  if (origin === 'null') return 'Origin "null" (a sandboxed or file page)';
  if (origin !== undefined) {
    let o: URL;
    try {
      o = new URL(origin);
    } catch {
      return `Origin "${origin}" is not a URL`;
    }
    if (o.host !== host) return `Origin ${origin} is another site`;
  }
  return undefined;
}
