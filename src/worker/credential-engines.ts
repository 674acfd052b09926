/**
 * Registry engines that reach one upstream host with other credentials than
 * ferry's own: a pod's pull secret (credentialsFromPods), or none at all (the
 * anonymous probe that tells public images from private ones).
 *
 * Each is a RegistryEngine of its own, built from the config with that
 * host's entry replaced (withOnlyCredentials): the shared engine's caches
 * (pings, bearer tokens, credential lookups) stay ferry's, so a token a pod's
 * secret earned can never serve another namespace's copy, and the anonymous
 * probe never sends anything. Engines are kept per credential fingerprint
 * (sha256 of host, username and password: the password itself is not a map
 * key anyone can print), least recently used dropped past `max`, and closed
 * once idle for `idleMs`.
 */
import { createHash } from 'node:crypto';
import type { FerryConfig } from '../config/index.js';
import { RegistryEngine, withOnlyCredentials, type Logger, type RegistryEngineOptions } from '../registry/index.js';

export interface CredentialEnginesOptions {
  config: FerryConfig;
  logger?: Logger;
  /** Engines held at most. Default 32. */
  max?: number;
  /** An engine unused this long is closed. Default 5 minutes. */
  idleMs?: number;
  /** Passed to every engine (tests: `retries: 0`). */
  engineOptions?: Omit<RegistryEngineOptions, 'config' | 'logger'>;
  now?: () => number;
}

type Creds = { username: string; password: string } | undefined;

interface Entry {
  engine: RegistryEngine;
  /** What the engine was built for (in memory only), so a reload can rebuild its config. */
  host: string;
  creds: Creds;
  lastUsed: number;
  busy: number;
}

export class CredentialEngines {
  private config: FerryConfig;
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly o: CredentialEnginesOptions) {
    this.config = o.config;
    this.now = o.now ?? Date.now;
    const idle = o.idleMs ?? 300_000;
    this.sweeper = setInterval(() => this.sweep(idle), Math.max(1000, Math.floor(idle / 2)));
    this.sweeper.unref();
  }

  /** Runs `fn` with an engine that authenticates to `host` with exactly `creds` (anonymously when undefined). */
  async use<T>(host: string, creds: Creds, fn: (engine: RegistryEngine) => Promise<T>): Promise<T> {
    const key = creds
      ? `c:${createHash('sha256').update(JSON.stringify([host, creds.username, creds.password])).digest('hex')}`
      : `a:${host}`;
    let entry = this.entries.get(key);
    if (entry) this.entries.delete(key); // re-inserted below: the map's order is the LRU order
    else entry = { engine: this.build(host, creds), host, creds, lastUsed: this.now(), busy: 0 };
    this.entries.set(key, entry);
    entry.busy++; // before evict(): the engine about to be used is not one to close
    this.evict();
    try {
      return await fn(entry.engine);
    } finally {
      entry.busy--;
      entry.lastUsed = this.now();
    }
  }

  /** Hot reload: every engine was built from the old config; they are closed and built again on next use. */
  updateConfig(config: FerryConfig): void {
    this.config = config;
    for (const [key, e] of this.entries) {
      if (e.busy === 0) {
        this.entries.delete(key);
        void e.engine.close();
      } else e.engine.updateConfig(withOnlyCredentials(config, e.host, e.creds));
    }
  }

  get size(): number {
    return this.entries.size;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(all.map((e) => e.engine.close()));
  }

  private build(host: string, creds: Creds): RegistryEngine {
    return new RegistryEngine({ ...this.o.engineOptions, config: withOnlyCredentials(this.config, host, creds), ...(this.o.logger ? { logger: this.o.logger } : {}) });
  }

  private evict(): void {
    const max = this.o.max ?? 32;
    for (const [key, e] of this.entries) {
      if (this.entries.size <= max) return;
      if (e.busy > 0) continue;
      this.entries.delete(key);
      void e.engine.close();
    }
  }

  private sweep(idleMs: number): void {
    const now = this.now();
    for (const [key, e] of this.entries) {
      if (e.busy === 0 && now - e.lastUsed >= idleMs) {
        this.entries.delete(key);
        void e.engine.close();
      }
    }
  }
}
