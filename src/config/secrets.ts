/**
 * Which config keys hold credentials, as data: `maskSecrets` (check-config,
 * anything that prints or logs a config) and the logger's redact paths are
 * built from this one list. test/config/secrets.test.ts walks DEFAULTS and
 * CONFIG_SCHEMA and fails when a key whose name looks secret is in neither
 * SECRET_CONFIG_PATHS nor NOT_SECRET_CONFIG_PATHS, so a new secret cannot be
 * added without deciding how it is masked.
 */
import { redactSecretsInText, redactUrlCredentials, SECRET_MARKER } from '../redact.js';
import type { FerryConfig } from './types.js';

export { SECRET_MARKER };

/** `value`: the whole string is the secret. `url`: only the password in its userinfo is. */
export type SecretKind = 'value' | 'url';

export interface SecretPath {
  /** Dotted path; `*` is any key of a record (`registries`) or any index of a list. */
  path: string;
  kind: SecretKind;
}

export const SECRET_CONFIG_PATHS: readonly SecretPath[] = [
  // `"*"` included: the loader refuses a password there, but an invalid config is masked too
  { path: 'registries.*.password', kind: 'value' },
  // an endpoint may carry `https://user:pass@host` (Node sends it as Basic auth)
  { path: 'registries.*.endpoint', kind: 'url' },
  { path: 'queue.redisUrl', kind: 'url' },
  { path: 'dashboard.token', kind: 'value' },
  { path: 'hooks.secret', kind: 'value' },
  { path: 'notify.*.secret', kind: 'value' },
  // a receiver URL may carry `https://user:pass@host` or a token in its query
  { path: 'notify.*.url', kind: 'url' },
];

/**
 * Keys whose names look secret but hold none, each with the reason. The
 * secrets behind them (a docker config.json, a TLS key) are read from files
 * and never enter the config object.
 */
export const NOT_SECRET_CONFIG_PATHS: Readonly<Record<string, string>> = {
  'registries.*.credentialsFile': 'a path; identity tokens and passwords stay in the file',
  'registries.*.username': 'user names are shown so operators can tell which account is used',
  'webhook.keyFile': 'a path to the TLS key, not the key',
  'registries.*.credentialsFromPods': 'a switch; the pull secrets it reads are never logged',
  'verify.*.keys': 'public keys: they verify signatures and are meant to be shown',
  'webhook.certFile': 'a path to a public certificate',
};

/** Key names that look like credentials (password, token, secret, key material): the unit test's net. */
export const SECRET_LOOKING_KEY = /pass(word|wd)?|secret|token|credential|auth|private|(^|[a-z_-])keys?($|[A-Z_-])|^keys?$|cert|pem|signature|cookie|user(name)?$/i;

type Node = unknown;

function isRecord(v: Node): v is Record<string, Node> {
  return typeof v === 'object' && v !== null;
}

/** Applies `fn` to every string at `path` under `node` (in place; `node` is a private copy). */
function applyAt(node: Node, path: string[], fn: (s: string) => string): void {
  if (!isRecord(node) || path.length === 0) return;
  const [head, ...rest] = path as [string, ...string[]];
  const keys = head === '*' ? Object.keys(node) : Object.prototype.hasOwnProperty.call(node, head) ? [head] : [];
  for (const k of keys) {
    const v = node[k];
    if (rest.length === 0) {
      if (typeof v === 'string') node[k] = fn(v);
    } else applyAt(v, rest, fn);
  }
}

/** Every string anywhere: URLs with userinfo, signed queries and tokens in free text (a block reason, a watch image). */
function sweepStrings(node: Node): Node {
  if (typeof node === 'string') return redactSecretsInText(node);
  if (Array.isArray(node)) return node.map(sweepStrings);
  if (isRecord(node)) {
    for (const k of Object.keys(node)) node[k] = sweepStrings(node[k]);
  }
  return node;
}

const maskValue = (s: string): string => (s === '' ? '' : SECRET_MARKER);
const MASKS: Record<SecretKind, (s: string) => string> = { value: maskValue, url: redactUrlCredentials };

/**
 * A copy of `config` safe to print or log: every credential replaced by
 * `***` (URLs keep their username, host and port). An empty secret stays
 * empty, so "unset" remains visible. Works on partial or invalid configs
 * too (what a loader error might want to show).
 */
export function maskSecrets<T = FerryConfig>(config: T): T {
  const copy = structuredClone(config) as Node;
  for (const { path, kind } of SECRET_CONFIG_PATHS) applyAt(copy, path.split('.'), MASKS[kind]);
  return sweepStrings(copy) as T;
}

/** pino redact paths for a config logged under `key` (e.g. `config.dashboard.token`): the `value` secrets. */
export function secretLogPaths(key = 'config'): string[] {
  return SECRET_CONFIG_PATHS.filter((s) => s.kind === 'value').map((s) => `${key}.${s.path}`);
}
