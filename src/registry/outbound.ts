/**
 * Where ferry may connect when an UPSTREAM chose the address: a Bearer
 * challenge's `realm`, a redirect `Location`, an absolute upload Location or
 * tag-list `Link`. Upstream registries are untrusted input, and these URLs
 * would otherwise let one aim ferry (inside the cluster, with its network
 * position and credentials) at anything it can reach. Pure decisions only:
 * transport/http.ts applies them to every hop and, through a guarded `lookup`, to every
 * address a name resolves to, before a connection is made.
 *
 * Refused, whoever asks:
 *  - schemes other than http: and https:;
 *  - link-local addresses: 169.254.0.0/16 (where AWS, GCP, Azure, Oracle and
 *    OpenStack serve instance metadata and credentials, ECS task roles at
 *    169.254.170.2) and fe80::/10;
 *  - other cloud metadata endpoints: fd00:ec2::254 (AWS IPv6),
 *    100.100.100.200 (Alibaba), 168.63.129.16 (Azure WireServer), and the
 *    names `metadata`, `metadata.google.internal`, `metadata.goog`,
 *    `instance-data`, `instance-data.ec2.internal`;
 *  - the same addresses inside IPv6: IPv4-mapped (::ffff:a.b.c.d),
 *    IPv4-compatible (::a.b.c.d), SIIT (::ffff:0:a.b.c.d) and NAT64
 *    (64:ff9b::a.b.c.d) forms.
 * Refused unless the registry itself is on loopback: loopback targets
 * (127.0.0.0/8, ::1, `localhost`, `*.localhost`, and 0.0.0.0/8 and ::, which
 * Linux connects to this host) — a remote registry must not reach ferry's own
 * localhost services (Redis, the dashboard). "On loopback" is judged by the
 * registry endpoint as written; the endpoint's own origin may resolve to
 * loopback (it is the registry, e.g. a name in /etc/hosts), nothing else may:
 * not even the registry's host name on another port, which is what a DNS
 * rebinding attacker would use.
 *
 * WHATWG URL already normalizes decimal/octal/hex IPv4 spellings
 * (`http://2852039166/` -> 169.254.169.254), IPv6 forms and case, so the
 * checks below see canonical hosts; a trailing dot is stripped here.
 */
import { isIPv4, isIPv6 } from 'node:net';

export type AddressKind = 'loopback' | 'link-local' | 'metadata' | 'other';

/** Cloud metadata addresses outside the link-local ranges (canonical text form). */
const METADATA_V4 = new Set(['100.100.100.200', '168.63.129.16']);
const METADATA_V6 = new Set(['fd00:ec2:0:0:0:0:0:254']);
const METADATA_NAMES = new Set(['metadata', 'metadata.google.internal', 'metadata.goog', 'instance-data', 'instance-data.ec2.internal']);

function v4Octets(ip: string): number[] {
  return ip.split('.').map(Number);
}

function classifyV4(o: number[]): AddressKind {
  const [a = 0, b = 0] = o;
  if (a === 127 || a === 0) return 'loopback';
  if (a === 169 && b === 254) return 'link-local';
  if (METADATA_V4.has(o.join('.'))) return 'metadata';
  return 'other';
}

/** Eight 16-bit groups of a valid IPv6 literal (no brackets, no zone). */
export function ipv6Groups(ip: string): number[] {
  let s = ip.toLowerCase();
  // a trailing dotted IPv4 becomes two groups
  const dot = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dot) {
    const [a = 0, b = 0, c = 0, d = 0] = v4Octets(dot[1]!);
    s = `${s.slice(0, dot.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = s.split('::');
  const parse = (part: string) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const h = parse(head);
  const t = tail === undefined ? [] : parse(tail);
  return [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
}

function classifyV6(g: number[]): AddressKind {
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  const embedded = () => classifyV4([g[6]! >> 8, g[6]! & 0xff, g[7]! >> 8, g[7]! & 0xff]);
  if (zeros(0, 7) && (g[7] === 0 || g[7] === 1)) return 'loopback'; // :: and ::1
  if (zeros(0, 5) && g[5] === 0xffff) return embedded(); // ::ffff:a.b.c.d (mapped)
  if (zeros(0, 6)) return embedded(); // ::a.b.c.d (compatible, deprecated)
  if (zeros(0, 4) && g[4] === 0xffff && g[5] === 0) return embedded(); // ::ffff:0:a.b.c.d (SIIT)
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return embedded(); // 64:ff9b::a.b.c.d (NAT64)
  if ((g[0]! & 0xffc0) === 0xfe80) return 'link-local';
  if (METADATA_V6.has(g.map((x) => x.toString(16)).join(':'))) return 'metadata';
  return 'other';
}

/** Kind of an IP literal (IPv4 dotted, or IPv6 with or without brackets/zone); undefined for a name. */
export function classifyAddress(ip: string): AddressKind | undefined {
  const bare = ip.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  if (isIPv4(bare)) return classifyV4(v4Octets(bare));
  if (isIPv6(bare)) return classifyV6(ipv6Groups(bare));
  return undefined;
}

/** Kind of a URL hostname: an IP literal's kind, else what the name is known to be. */
export function classifyHost(hostname: string): AddressKind {
  const h = hostname.toLowerCase().replace(/\.+$/, '');
  const ip = classifyAddress(h);
  if (ip) return ip;
  if (h === 'localhost' || h.endsWith('.localhost')) return 'loopback';
  if (METADATA_NAMES.has(h)) return 'metadata';
  return 'other';
}

const WHY: Record<Exclude<AddressKind, 'other'>, string> = {
  loopback: 'is on loopback (this host) and the registry is not',
  'link-local': 'is link-local (cloud metadata lives there)',
  metadata: 'is a cloud metadata endpoint',
};

/** Why connecting to a resolved address is refused, or undefined. */
export function addressProblem(ip: string, allowLoopback: boolean): string | undefined {
  const kind = classifyAddress(ip) ?? 'other';
  if (kind === 'other' || (kind === 'loopback' && allowLoopback)) return undefined;
  return WHY[kind];
}

/** Is the registry at `from` on loopback (then loopback targets are its own)? */
export function isLoopbackUrl(from: URL): boolean {
  return classifyHost(from.hostname) === 'loopback';
}

/**
 * May a connection to `target` resolve to loopback? Yes when the registry
 * (`from`) is on loopback, or when `target` is the registry endpoint's own
 * origin (scheme, host and port: the registry itself, wherever its name
 * resolves). A redirect or realm to any other origin may not.
 */
export function loopbackAllowed(target: URL, from: URL): boolean {
  return isLoopbackUrl(from) || target.origin === from.origin;
}

/**
 * Why ferry must not connect to `target` on behalf of the registry at
 * `from` (its endpoint), or undefined when it may. Names are judged as
 * written here; what they resolve to is judged by addressProblem at connect.
 */
export function outboundProblem(target: URL, from: URL): string | undefined {
  if (target.protocol !== 'http:' && target.protocol !== 'https:') return `scheme ${target.protocol} is not http: or https:`;
  const kind = classifyHost(target.hostname);
  if (kind === 'other' || (kind === 'loopback' && loopbackAllowed(target, from))) return undefined;
  return `${target.hostname} ${WHY[kind]}`;
}

/**
 * outboundProblem for a Bearer realm, plus: credentials are never sent over
 * plain http to a realm when the registry itself speaks https (a downgrade
 * a hostile or misconfigured registry could use to read them off the wire).
 */
export function realmProblem(realm: URL, registry: URL, withCredentials: boolean): string | undefined {
  const p = outboundProblem(realm, registry);
  if (p) return p;
  if (withCredentials && realm.protocol === 'http:' && registry.protocol === 'https:' && !isLoopbackUrl(realm)) {
    return 'the realm is plain http: while the registry is https: (credentials would travel in cleartext)';
  }
  return undefined;
}
