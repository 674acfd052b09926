/**
 * The Authorization header for a request, from the ping's challenge: none,
 * Basic (basic.ts) or Bearer (bearer.ts), with `host`'s credentials
 * (credentials.ts: config, docker config.json, credential helpers).
 */
import type { FerryConfig } from '../../config/types.js';
import type { Challenge } from '../auth.js';
import { CredentialStore, type Credentials, type CredentialStoreOptions } from '../credentials.js';
import { abandonable } from './abandonable.js';
import { basicAuthorization } from './basic.js';
import { BearerTokens, type BearerContext } from './bearer.js';

export class Authorizer {
  private creds: CredentialStore;
  private readonly tokens: BearerTokens;

  constructor(
    config: FerryConfig,
    private readonly credentialOptions: CredentialStoreOptions,
    ctx: BearerContext,
  ) {
    this.creds = new CredentialStore(config, credentialOptions);
    this.tokens = new BearerTokens(ctx);
  }

  /** Hot reload: credentials are looked up again, cached tokens dropped. */
  updateConfig(config: FerryConfig): void {
    this.tokens.clear();
    this.creds = new CredentialStore(config, this.credentialOptions);
  }

  /** `force`: a fresh token even when one is cached (the registry just refused it). */
  async header(host: string, ch: Challenge | null, scopes: string[], signal?: AbortSignal, force = false): Promise<string | undefined> {
    if (!ch) return undefined;
    const creds = await this.credentials(host, signal);
    if (ch.scheme === 'basic') return basicAuthorization(host, creds);
    if (ch.scheme === 'bearer') {
      const t = await this.tokens.get(host, ch, scopes, creds, signal, force);
      return `Bearer ${t.value}`;
    }
    return undefined;
  }

  /** After a 401: a credentials file may have been rotated, a helper's token expired. */
  forget(host: string): void {
    this.creds.forget(host);
  }

  /** `host`'s credentials (a helper may run: up to 10 s), abandoned when `signal` aborts. */
  private credentials(host: string, signal?: AbortSignal): Promise<Credentials | undefined> {
    return abandonable(this.creds.get(host), signal, { host, op: 'credentials' });
  }
}
