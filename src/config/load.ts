import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { FerryError } from '../errors.js';
import { parsePublicKeys } from '../verify/index.js';
import { nextCronRun } from './cron.js';
import { DEFAULTS } from './defaults.js';
import { CONFIG_ERROR_TABLE } from './errors.js';
import { isClusterRedisUrl } from './redis-url.js';
import { ANY_REGISTRY_REFUSED } from './schema.js';
import type { FerryConfig } from './types.js';
import { validate as generatedValidate } from './validate-config.gen.js';

export interface LoadedConfig {
  config: FerryConfig;
  /** Dotted paths the user set (file or env): `all` spawns a local Redis/registry only for unset ones. */
  explicit: Set<string>;
  file: string | undefined;
}

/**
 * CONFIG_SCHEMA's validator, compiled ahead of time (validator-gen.ts; a test
 * keeps it in step with schema.ts): the same code ajv would build here, without
 * loading ajv or compiling in every process.
 */
const validateSchema = generatedValidate as unknown as ValidateFunction;

/**
 * yaml (~25 ms to load) only when there is YAML to read: a config file, or an
 * env override of a list or record. `ferry copy` and `check-config` without a
 * file never load it. (loadConfig is synchronous, hence require: yaml's Node
 * entry is CommonJS, the module an `import` would load too.)
 */
const requireHere = createRequire(import.meta.url);
function parseYaml(text: string): unknown {
  return (requireHere('yaml') as typeof import('yaml')).parse(text);
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `redisUrl` -> `REDIS_URL` */
function envSegment(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/** Every env override ferry understands, derived from DEFAULTS so it cannot drift. */
export function envOverrideNames(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const walk = (node: unknown, path: string[]) => {
    // Records (registries, namespaces) and lists are set whole, as YAML/JSON.
    const isRecordLeaf = path.length > 0 && ['registries', 'namespaces'].includes(path[path.length - 1]!);
    if (isObject(node as Json) && !isRecordLeaf) {
      for (const [k, v] of Object.entries(node as object)) walk(v, [...path, k]);
      return;
    }
    out.set(`FERRY_${path.map(envSegment).join('_')}`, path);
  };
  walk(DEFAULTS, []);
  return out;
}

function parseEnvValue(raw: string, sample: unknown): Json {
  if (typeof sample === 'number') {
    const n = Number(raw);
    return raw.trim() !== '' && Number.isFinite(n) ? n : raw;
  }
  if (typeof sample === 'boolean') {
    if (/^(true|1|yes)$/i.test(raw)) return true;
    if (/^(false|0|no)$/i.test(raw)) return false;
    return raw;
  }
  if (Array.isArray(sample)) {
    const t = raw.trim();
    if (t.startsWith('[')) return parseYaml(t) as Json;
    return t === '' ? [] : t.split(',').map((s) => s.trim());
  }
  if (typeof sample === 'object' && sample !== null) return parseYaml(raw) as Json;
  return raw;
}

function setPath(obj: JsonObject, path: string[], value: Json): void {
  let node = obj;
  for (const key of path.slice(0, -1)) {
    if (!isObject(node[key])) node[key] = {};
    node = node[key] as JsonObject;
  }
  node[path[path.length - 1]!] = value;
}

function getPath(obj: unknown, path: string[]): unknown {
  let node = obj;
  for (const key of path) {
    if (!isObject(node as Json)) return undefined;
    node = (node as JsonObject)[key];
  }
  return node;
}

function collectPaths(node: unknown, prefix: string[], into: Set<string>): void {
  if (!isObject(node as Json)) return;
  for (const [k, v] of Object.entries(node as JsonObject)) {
    const p = [...prefix, k];
    into.add(p.join('.'));
    collectPaths(v, p, into);
  }
}

/** Deep merge: objects merge key by key, everything else (lists too) replaces. */
function merge<T>(base: T, over: unknown): T {
  if (!isObject(base as Json) || !isObject(over as Json)) return (over === undefined ? base : over) as T;
  const out: JsonObject = { ...(base as JsonObject) };
  for (const [k, v] of Object.entries(over as JsonObject)) out[k] = merge(out[k] as Json, v);
  return out as T;
}

function formatAjvError(e: ErrorObject): string {
  const where = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '(root)';
  if (e.keyword === 'additionalProperties') return `${where}: unknown key "${String(e.params.additionalProperty)}"`;
  if (e.keyword === 'enum') return `${where}: must be one of ${(e.params.allowedValues as unknown[]).join(', ')}`;
  if (e.keyword === 'oneOf') return `${where}: needs exactly one of "pattern" or "digest"`;
  return `${where}: ${e.message ?? 'is invalid'}`;
}

/**
 * Globs in DEFAULTS (`rewrite.include: ['**']`) are valid, so a config that
 * sets no glob loads no picomatch (~7 ms); the policy loads it where globs
 * are matched.
 */
const DEFAULT_GLOBS: ReadonlySet<string> = new Set([...DEFAULTS.rewrite.include, ...DEFAULTS.rewrite.exclude]);
let picomatchModule: typeof import('picomatch') | undefined;
function picomatch(): typeof import('picomatch') {
  return (picomatchModule ??= requireHere('picomatch') as typeof import('picomatch'));
}

/**
 * The schedules DEFAULTS holds (gc, refresh) are valid: test/config asserts
 * nextCronRun accepts them. Validation is a pure function of the string, so
 * one equal to a default needs no cron-parser; a config that changes no
 * schedule loads none (cron.ts loads it on first use).
 */
const DEFAULT_SCHEDULES: ReadonlySet<string> = new Set([DEFAULTS.gc.schedule, DEFAULTS.refresh.schedule]);

function checkCron(schedule: string): void {
  if (!DEFAULT_SCHEDULES.has(schedule)) nextCronRun(schedule);
}

/**
 * The hash tag Redis Cluster hashes a key by: what lies between the first
 * `{` and the first `}` after it, when not empty (the cluster spec's rule).
 */
function redisHashTag(key: string): string | undefined {
  const open = key.indexOf('{');
  if (open < 0) return undefined;
  const close = key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : undefined;
}

/**
 * On a Redis Cluster every key ferry writes starts with `queue.prefix`; only a
 * hash tag in it puts them all in one slot, which BullMQ's scripts and
 * ferry's own (store, locks, in-use index) need: a script or MULTI over keys
 * in two slots is refused by the cluster. Refused here, before anything runs.
 */
function redisClusterProblem(c: FerryConfig): string | undefined {
  if (!isClusterRedisUrl(c.queue.redisUrl) || redisHashTag(c.queue.prefix) !== undefined) return undefined;
  return `queue.prefix: "${c.queue.prefix}" has no {hash tag}, and queue.redisUrl is a Redis Cluster: BullMQ and ferry need all their keys in one hash slot; set queue.prefix: "{${c.queue.prefix}}"`;
}

/** Checks JSON Schema cannot express: globs, cron, regexes, reference shapes. */
function semanticProblems(c: FerryConfig): string[] {
  const problems: string[] = [];
  const globs: [string, string][] = [
    ...c.rewrite.include.map((g, i): [string, string] => [`rewrite.include.${i}`, g]),
    ...c.rewrite.exclude.map((g, i): [string, string] => [`rewrite.exclude.${i}`, g]),
    ...c.block.flatMap((b, i): [string, string][] => (b.pattern ? [[`block.${i}.pattern`, b.pattern]] : [])),
    ...c.verify.map((v, i): [string, string] => [`verify.${i}.pattern`, v.pattern]),
  ];
  for (const [where, glob] of globs) {
    if (DEFAULT_GLOBS.has(glob)) continue;
    try {
      picomatch().makeRe(glob);
    } catch (e) {
      problems.push(`${where}: invalid glob "${glob}": ${(e as Error).message}`);
    }
  }
  c.watch.forEach((w, i) => {
    try {
      checkCron(w.schedule);
    } catch (e) {
      problems.push(`watch.${i}.schedule: invalid cron "${w.schedule}": ${(e as Error).message}`);
    }
    if (w.allowTags !== undefined && w.allowTags.toLowerCase() !== 'any') {
      try {
        // `regexp:<expr>` (argocd-image-updater's syntax, a leading (?i)/(?s)/(?m) becoming flags) or a bare JS regex: src/watch/strategy/filter.ts
        const prefixed = /^regexp:/i.test(w.allowTags);
        let src = prefixed ? w.allowTags.slice('regexp:'.length) : w.allowTags;
        const f = prefixed ? /^\(\?([ims]+)\)/.exec(src) : null;
        if (f) src = src.slice(f[0].length);
        new RegExp(src, f ? [...new Set(f[1])].join('') : '');
      } catch (e) {
        problems.push(`watch.${i}.allowTags: invalid regular expression: ${(e as Error).message}`);
      }
    }
  });
  const schedules: [string, string][] = [['gc.schedule', c.gc.schedule], ...(c.refresh.schedule.trim() ? [['refresh.schedule', c.refresh.schedule] as [string, string]] : [])];
  for (const [where, schedule] of schedules) {
    try {
      checkCron(schedule);
    } catch (e) {
      problems.push(`${where}: invalid cron "${schedule}": ${(e as Error).message}`);
    }
  }
  c.verify.forEach((v, i) => {
    try {
      parsePublicKeys(v.keys, `verify.${i}.keys:`);
    } catch (e) {
      problems.push((e as Error).message);
    }
  });
  if (c.queue.backoff.initialMs > c.queue.backoff.maxMs) {
    problems.push(`queue.backoff.initialMs: ${c.queue.backoff.initialMs} is larger than maxMs ${c.queue.backoff.maxMs}`);
  }
  if (Boolean(c.webhook.certFile) !== Boolean(c.webhook.keyFile)) {
    problems.push('webhook: certFile and keyFile must be set together');
  }
  const clusterProblem = redisClusterProblem(c);
  if (clusterProblem) problems.push(clusterProblem);
  const any = c.registries['*'] ?? {};
  for (const [key, why] of Object.entries(ANY_REGISTRY_REFUSED)) {
    if (key in any) problems.push(`registries.*.${key}: not allowed on the "*" default entry (${why}); set it under registries.<host>`);
  }
  return problems;
}

function invalid(source: string, problems: string[]): FerryError {
  return CONFIG_ERROR_TABLE.create('INVALID', `invalid configuration (${source}):\n  - ${problems.join('\n  - ')}`, { details: { problems } });
}

/**
 * Validates a raw (already parsed) config object plus env overrides and
 * returns the effective config. Throws FERRY_ERR_CONFIG_INVALID listing every
 * problem at once.
 */
export function resolveConfig(raw: unknown, env: NodeJS.ProcessEnv = {}, source = 'config'): LoadedConfig {
  if (raw !== null && raw !== undefined && !isObject(raw as Json)) {
    throw invalid(source, ['(root): the config file must be a YAML mapping']);
  }
  const input: JsonObject = structuredClone((raw ?? {}) as JsonObject);
  const explicit = new Set<string>();
  collectPaths(input, [], explicit);
  for (const [name, path] of envOverrideNames()) {
    const value = env[name];
    if (value === undefined) continue;
    setPath(input, path, parseEnvValue(value, getPath(DEFAULTS, path)));
    for (let i = 1; i <= path.length; i++) explicit.add(path.slice(0, i).join('.'));
  }
  const problems: string[] = [];
  if (!validateSchema(input)) problems.push(...(validateSchema.errors ?? []).map(formatAjvError));
  if (problems.length) throw invalid(source, [...new Set(problems)]);
  const config = merge(DEFAULTS, input);
  const more = semanticProblems(config);
  if (more.length) throw invalid(source, more);
  return { config, explicit, file: undefined };
}

/** Reads `file` (YAML; absent file = defaults) and applies `FERRY_*` env overrides. */
export function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  let raw: unknown = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw CONFIG_ERROR_TABLE.create('UNREADABLE', `cannot read config file ${file}: ${(e as Error).message}`, { cause: e });
    }
    try {
      raw = parseYaml(text) ?? {};
    } catch (e) {
      throw invalid(file, [`YAML syntax: ${(e as Error).message.split('\n')[0]}`]);
    }
  }
  const loaded = resolveConfig(raw, env, file ?? 'defaults + environment');
  return { ...loaded, file };
}
