import { Redis, type RedisOptions } from 'ioredis';
import { CONFIG_ERROR_TABLE } from '../config/index.js';
import { redactUrlCredentials } from '../redact.js';

/**
 * `redis://[user:pass@]host:port[/db]`, `rediss://` (TLS), or
 * `redis+sentinel://[pass@]host1:port,host2:port/<master-name>[/db]` for
 * Sentinel-managed HA. Commands wait for a reconnect instead of failing
 * (BullMQ needs `maxRetriesPerRequest: null`), so callers on the admission
 * path must never await them.
 */
export function redisOptions(url: string): RedisOptions {
  const base: RedisOptions = { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false };
  if (url.startsWith('redis+sentinel://')) {
    const rest = url.slice('redis+sentinel://'.length);
    const at = rest.lastIndexOf('@');
    const password = at >= 0 ? decodeURIComponent(rest.slice(0, at).replace(/^:/, '')) : undefined;
    const [hosts = '', name, db] = (at >= 0 ? rest.slice(at + 1) : rest).split('/');
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

export function connectRedis(url: string, extra: RedisOptions = {}): Redis {
  return new Redis({ ...redisOptions(url), ...extra });
}

/** A redis URL with the password masked (username, hosts, db kept), for logs and check-config. */
export function redactRedisUrl(url: string): string {
  return redactUrlCredentials(url);
}

/** One PING to a loopback redis-server on `port`, without retries: true once it answers. */
export async function redisAnswers(port: number, password?: string): Promise<boolean> {
  const r = new Redis({ port, host: '127.0.0.1', ...(password ? { password } : {}), lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  r.on('error', () => {});
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } finally {
    r.disconnect();
  }
}
