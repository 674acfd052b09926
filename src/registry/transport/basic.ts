import { basicHeader } from '../auth.js';
import type { Credentials } from '../credentials.js';
import { registryError } from '../errors.js';

/** The Authorization for a Basic challenge: the credentials' header, or none without credentials. */
export function basicAuthorization(host: string, creds: Credentials | undefined): string | undefined {
  if (creds?.identityToken) {
    throw registryError(
      'CREDENTIALS',
      `the registry asks for Basic auth, but the credentials from ${creds.from ?? 'the config'} are an identity token (OAuth refresh token), which only token (Bearer) auth accepts; give a username and password for this host instead`,
      { host },
    );
  }
  return creds ? basicHeader(creds) : undefined;
}
