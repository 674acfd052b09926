/**
 * `queue.redisUrl` forms, parsed without a connection (no ioredis loaded):
 * what config validation, check-config and src/queue/connection.ts share.
 *   redis://[user:pass@]host:port[/db], rediss:// (TLS)
 *   redis+sentinel://[pass@]host1:port,host2:port/<master-name>[/db]  (Sentinel-managed HA)
 *   redis+cluster://[user:pass@]host1:port,host2:port,...              (Redis Cluster seed nodes)
 *   rediss+cluster://...                                               (Redis Cluster over TLS)
 * Commands wait for a reconnect instead of failing (BullMQ needs
 * `maxRetriesPerRequest: null`), so callers on the admission path must never
 * await them.
 */
import type { RedisOptions } from 'ioredis';
import { redactUrlCredentials } from '../redact.js';
import { CONFIG_ERROR_TABLE } from './errors.js';

const CLUSTER_SCHEMES = ['redis+cluster://', 'rediss+cluster://'] as const;

/** True for `redis+cluster://` and `rediss+cluster://`: a Redis Cluster, whose keys must share one hash tag (see config/load.ts). */
export function isClusterRedisUrl(url: string): boolean {
  return CLUSTER_SCHEMES.some((s) => url.startsWith(s));
}

export interface ClusterUrl {
  seeds: { host: string; port: number }[];
  username?: string;
  password?: string;
  tls: boolean;
}

/** Splits `[user:pass@]rest` at the LAST `@`: an unencoded `@` in a password still belongs to it (as redact.ts reads it). */
function splitUserinfo(rest: string): { userinfo: string | undefined; hosts: string } {
  const at = rest.lastIndexOf('@');
  return at >= 0 ? { userinfo: rest.slice(0, at), hosts: rest.slice(at + 1) } : { userinfo: undefined, hosts: rest };
}

/** Parses a `redis+cluster://` / `rediss+cluster://` URL. Pure; throws FERRY_ERR_CONFIG_REDIS_URL on a URL it cannot use. */
export function parseClusterUrl(url: string): ClusterUrl {
  const scheme = CLUSTER_SCHEMES.find((s) => url.startsWith(s));
  if (!scheme) throw CONFIG_ERROR_TABLE.create('REDIS_URL', `not a redis+cluster URL: ${redactRedisUrl(url)}`);
  const hint = 'use redis+cluster://node1:6379,node2:6379,node3:6379 (seed nodes, the others are discovered; credentials as user:password@ before the first; a cluster has no db number)';
  const { userinfo, hosts } = splitUserinfo(url.slice(scheme.length));
  const [list = '', ...path] = hosts.split('/');
  if (path.some((p) => p !== '')) {
    throw CONFIG_ERROR_TABLE.create('REDIS_URL', `a Redis Cluster has only database 0; remove "/${path.join('/')}" from ${redactRedisUrl(url)}`, { hint });
  }
  const seeds = list
    .split(',')
    .filter((h) => h !== '')
    .map((h) => {
      let u: URL;
      try {
        u = new URL(`redis://${h}`);
      } catch {
        throw CONFIG_ERROR_TABLE.create('REDIS_URL', `"${h}" is not a host:port seed node in ${redactRedisUrl(url)}`, { hint });
      }
      return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port) || 6379 };
    });
  if (seeds.length === 0) throw CONFIG_ERROR_TABLE.create('REDIS_URL', `redis+cluster URL names no seed node: ${redactRedisUrl(url)}`, { hint });
  const colon = userinfo?.indexOf(':') ?? -1;
  const username = userinfo === undefined ? '' : decodeURIComponent(colon >= 0 ? userinfo.slice(0, colon) : userinfo);
  const password = userinfo !== undefined && colon >= 0 ? decodeURIComponent(userinfo.slice(colon + 1)) : '';
  return { seeds, ...(username ? { username } : {}), ...(password ? { password } : {}), tls: scheme === 'rediss+cluster://' };
}

/** ioredis options for a single node or a Sentinel-managed master (not a cluster: see clusterOptions). */
export function redisOptions(url: string): RedisOptions {
  const base: RedisOptions = { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false };
  if (url.startsWith('redis+sentinel://')) {
    const { userinfo, hosts: rest } = splitUserinfo(url.slice('redis+sentinel://'.length));
    const password = userinfo !== undefined ? decodeURIComponent(userinfo.replace(/^:/, '')) : undefined;
    const [hosts = '', name, db] = rest.split('/');
    if (!name) {
      throw CONFIG_ERROR_TABLE.create('REDIS_URL', `redis+sentinel URL needs a master name: ${redactRedisUrl(url)}`);
    }
    const sentinels = hosts.split(',').map((h) => {
      const [host = '', port] = h.split(':');
      return { host, port: Number(port) || 26379 };
    });
    return { ...base, sentinels, name, ...(password ? { password, sentinelPassword: password } : {}), ...(db ? { db: Number(db) } : {}) };
  }
  const u = new URL(url);
  return {
    ...base,
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: Number(u.port) || 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.pathname.length > 1 ? { db: Number(u.pathname.slice(1)) || 0 } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/** A redis URL with the password masked (username, hosts, db kept), for logs and check-config. Every form, the cluster one too. */
export function redactRedisUrl(url: string): string {
  return redactUrlCredentials(url);
}

/** One line saying what `url` connects to, password masked: what check-config shows. Pure (no ioredis). */
export function describeRedisUrl(url: string): string {
  if (isClusterRedisUrl(url)) {
    const c = parseClusterUrl(url);
    const seeds = c.seeds.map((s) => (s.host.includes(':') ? `[${s.host}]:${s.port}` : `${s.host}:${s.port}`));
    const auth = c.username ? ` as ${c.username}` : c.password ? ' with a password' : '';
    return `Redis Cluster${c.tls ? ' over TLS' : ''}${auth}, seed nodes ${seeds.join(', ')} (the others are discovered)`;
  }
  if (url.startsWith('redis+sentinel://')) {
    const o = redisOptions(url);
    return `Redis master "${o.name}" through Sentinel ${(o.sentinels ?? []).map((s) => `${s.host}:${s.port}`).join(', ')}`;
  }
  const o = redisOptions(url);
  return `Redis ${o.host}:${o.port}${o.db ? ` db ${o.db}` : ''}${o.tls ? ' over TLS' : ''}`;
}
