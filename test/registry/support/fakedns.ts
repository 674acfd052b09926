/**
 * A hosts table standing in for DNS in one test process: `dns.lookup` (what
 * node:net and ferry's guarded lookup call) answers names from `hosts`, IP
 * literals as themselves, and every other name with ENOTFOUND. So a test can
 * give a loopback server a non-loopback name, and nothing in the process can
 * resolve a real name (no query ever leaves the machine, whatever the code
 * under test tries).
 */
import dns, { type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';

type Answer = string | string[];

export function installFakeDns(hosts: Record<string, Answer>): () => void {
  const original = dns.lookup;
  const fake = (hostname: string, options: unknown, callback?: unknown) => {
    const cb = (typeof options === 'function' ? options : callback) as (err: NodeJS.ErrnoException | null, a?: string | LookupAddress[], f?: number) => void;
    const opts = (typeof options === 'object' && options) || {};
    const all = !!(opts as { all?: boolean }).all;
    const name = hostname.toLowerCase().replace(/\.$/, '');
    const answer: Answer | undefined = isIP(name) ? name : hosts[name];
    process.nextTick(() => {
      if (answer === undefined) {
        cb(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname} (fake DNS)`), { code: 'ENOTFOUND', hostname }));
        return;
      }
      const list = (Array.isArray(answer) ? answer : [answer]).map((address) => ({ address, family: isIP(address) }));
      if (all) cb(null, list);
      else cb(null, list[0]!.address, list[0]!.family);
    });
  };
  (dns as { lookup: unknown }).lookup = fake;
  return () => {
    (dns as { lookup: unknown }).lookup = original;
  };
}
