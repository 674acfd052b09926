/**
 * JSON Schema of the config file. Every key is optional in the file; DEFAULTS
 * fills the rest. `additionalProperties: false` everywhere so a typo is an
 * error that names the key, not a silently ignored setting.
 *
 * The schema and FerryConfig (types.ts) are written apart, for their
 * comments, and checked against each other at the end of this file: a key,
 * enum value or type in one and not the other fails tsc, naming its path.
 * (`as const` on the pieces below is for that check; it changes no value.)
 */
import type { FerryConfig } from './types.js';
import type { FileShape, FromSchema, Mismatch, NoMismatch } from './schema-types.js';

const mode = { enum: ['off', 'mirrored', 'always', 'enforce'] } as const;
const pullPolicy = { enum: ['Always', 'IfNotPresent', 'Never'] } as const;
const port = { type: 'integer', minimum: 0, maximum: 65535 } as const;
const positiveInt = { type: 'integer', minimum: 1 } as const;
const strings = { type: 'array', items: { type: 'string' } } as const;
/** Go-style durations (`720h`, `1h30m`, `45s`, `7d`); parseDuration reads them. */
const duration = { type: 'string', pattern: '^([0-9]+(\\.[0-9]+)?(ms|s|m|h|d))+$' } as const;

/**
 * `registries["*"]` supplies defaults to every registry host; these fields
 * make no sense there (reason shown to the user). Checked by the loader.
 */
export const ANY_REGISTRY_REFUSED: Readonly<Record<string, string>> = {
  endpoint: 'one endpoint cannot serve every registry',
  username: 'one password would be sent to every registry ferry talks to; use credentialsFile, whose "auths" names each host',
  password: 'one password would be sent to every registry ferry talks to; use credentialsFile, whose "auths" names each host',
  insecure: 'plain HTTP to every registry, Docker Hub included, is never what you want',
};

export const CONFIG_SCHEMA = {
  $id: 'https://ferry.io/config.json',
  type: 'object',
  additionalProperties: false,
  properties: {
    mirror: {
      type: 'object',
      additionalProperties: false,
      properties: {
        registry: { type: 'string', minLength: 1 },
        insecure: { type: 'boolean' },
        prefix: { type: 'string', pattern: '^([a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*(/[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*)*)?$' },
      },
    },
    rewrite: {
      type: 'object',
      additionalProperties: false,
      properties: {
        mode,
        pinDigest: { type: 'boolean' },
        include: strings,
        exclude: strings,
        namespaces: { type: 'object', additionalProperties: mode },
      },
    },
    pullPolicy: {
      type: 'object',
      additionalProperties: false,
      properties: {
        default: pullPolicy,
        force: { type: 'boolean' },
        allowOverride: { type: 'boolean' },
        namespaces: { type: 'object', additionalProperties: pullPolicy },
      },
    },
    block: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['reason'],
        properties: {
          pattern: { type: 'string', minLength: 1 },
          digest: { type: 'string', pattern: '^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$' },
          reason: { type: 'string', minLength: 1 },
        },
        oneOf: [{ required: ['pattern'] }, { required: ['digest'] }],
      },
    },
    verify: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['pattern', 'keys', 'mode'],
        properties: {
          pattern: { type: 'string', minLength: 1 },
          keys: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
          mode: { enum: ['enforce', 'warn'] },
        },
      },
    },
    registries: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: {
          endpoint: { type: 'string', pattern: '^https?://' },
          credentialsFile: { type: 'string' },
          username: { type: 'string' },
          password: { type: 'string' },
          insecure: { type: 'boolean' },
          requestsPerSecond: { type: 'number', exclusiveMinimum: 0, description: 'A fixed request rate for this registry (token bucket), on top of its adaptive concurrency gate' },
          pullLimit: {
            type: 'object',
            additionalProperties: false,
            description:
              'The pull budget ferry keeps: at most count manifest GETs per windowSeconds (HEADs and blobs do not count; the registry counts only pulls). Docker Hub default: count 100 anonymous, 200 with credentials, windowSeconds 21600 (each the default when left out); count 0 turns ferry\'s own count off. Live ratelimit-* headers always win',
            properties: { count: { type: 'integer', minimum: 0 }, windowSeconds: positiveInt },
          },
          credentialsFromPods: { type: 'boolean' },
          shareWith: strings,
        },
      },
    },
    queue: {
      type: 'object',
      additionalProperties: false,
      properties: {
        redisUrl: { type: 'string', pattern: '^(rediss?|redis\\+sentinel|rediss?\\+cluster)://' },
        prefix: { type: 'string', pattern: '^([A-Za-z0-9_.-]+|[A-Za-z0-9_.-]*\\{[A-Za-z0-9_.-]+\\}[A-Za-z0-9_.-]*)$' },
        concurrency: positiveInt,
        maxAttempts: positiveInt,
        backoff: {
          type: 'object',
          additionalProperties: false,
          properties: { initialMs: positiveInt, maxMs: { type: 'integer', minimum: 1, maximum: 600000 } },
        },
        lockMs: { type: 'integer', minimum: 5000 },
      },
    },
    copy: {
      type: 'object',
      additionalProperties: false,
      properties: {
        platforms: { type: 'array', items: { type: 'string', pattern: '^[a-z0-9_.-]+/[a-z0-9_.-]+(/[a-z0-9_.-]+)?$' } },
        layerConcurrency: positiveInt,
        requestsPerSecond: { type: 'number', minimum: 0, description: 'A fixed request rate for every upstream (token bucket) on top of its adaptive gate; 0 (default) = the adaptive gate alone' },
        timeoutMs: positiveInt,
        referrers: { type: 'boolean' },
        referrerArtifactTypes: strings,
        platformMode: { enum: ['auto', 'full', 'sparse', 'strip'] },
      },
    },
    watch: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['image', 'strategy', 'schedule'],
        properties: {
          id: { type: 'string', pattern: '^[A-Za-z0-9_.-]+$' },
          image: { type: 'string', minLength: 1 },
          tag: { type: 'string' },
          strategy: { enum: ['digest', 'semver', 'newest', 'alphabetical'] },
          constraint: { type: 'string' },
          prerelease: { type: 'boolean' },
          allowTags: { type: 'string' },
          ignoreTags: strings,
          schedule: { type: 'string', minLength: 1 },
          keep: { type: 'integer', minimum: 0 },
          cacheBy: { enum: ['tag', 'digest'] },
          alias: { type: 'string', pattern: '^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$' },
        },
      },
    },
    import: {
      type: 'object',
      additionalProperties: false,
      properties: { dir: { type: 'string' }, stableMs: { type: 'integer', minimum: 0 } },
    },
    agent: {
      type: 'object',
      additionalProperties: false,
      properties: {
        criSocket: { type: 'string', minLength: 1 },
        containerdSocket: { type: 'string' },
        namespace: { type: 'string', minLength: 1 },
        snapshotter: { type: 'string', minLength: 1 },
        prepull: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['image'],
            properties: { image: { type: 'string', minLength: 1 }, nodeSelector: { type: 'object', additionalProperties: { type: 'string' } } },
          },
        },
        pullConcurrency: positiveInt,
        prepullInUse: { type: 'boolean' },
        prepullWorkloads: { type: 'boolean' },
        importDir: { type: 'string' },
        stableMs: { type: 'integer', minimum: 0 },
        stateFile: { type: 'string' },
        startupTaint: { type: 'string' },
        backoff: {
          type: 'object',
          additionalProperties: false,
          properties: { initialMs: positiveInt, maxMs: positiveInt },
        },
        resyncMs: positiveInt,
      },
    },
    webhook: {
      type: 'object',
      additionalProperties: false,
      properties: {
        port,
        host: { type: 'string' },
        certFile: { type: 'string' },
        keyFile: { type: 'string' },
        failClosed: { type: 'boolean' },
        bodyLimit: positiveInt,
        bufferLimit: positiveInt,
      },
    },
    dashboard: {
      type: 'object',
      additionalProperties: false,
      properties: { port, host: { type: 'string' }, token: { type: 'string' } },
    },
    hooks: {
      type: 'object',
      additionalProperties: false,
      properties: { secret: { type: 'string' } },
    },
    notify: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['url'],
        properties: {
          url: { type: 'string', pattern: '^https?://' },
          events: { type: 'array', minItems: 1, items: { enum: ['tagMoved', 'drifted', 'mirrored', 'error'] } },
          secret: { type: 'string' },
        },
      },
    },
    gc: {
      type: 'object',
      additionalProperties: false,
      properties: {
        enabled: { type: 'boolean' },
        unusedFor: duration,
        schedule: { type: 'string', minLength: 1 },
        dryRun: { type: 'boolean' },
        keepUnusedFor: duration,
      },
    },
    refresh: {
      type: 'object',
      additionalProperties: false,
      properties: {
        schedule: { type: 'string' },
        inUseOnly: { type: 'boolean' },
        maxRequestsPerRegistry: positiveInt,
      },
    },
    log: {
      type: 'object',
      additionalProperties: false,
      properties: { level: { enum: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] } },
    },
    kubernetes: {
      type: 'object',
      additionalProperties: false,
      properties: { namespaceInformer: { enum: ['auto', 'off'] }, podInformer: { enum: ['auto', 'off'] }, events: { type: 'boolean' }, imageWatches: { enum: ['auto', 'off'] } },
    },
  },
} as const;

/** A config file as CONFIG_SCHEMA accepts it (every section and key optional). */
export type ConfigFile = FromSchema<typeof CONFIG_SCHEMA>;

/**
 * If tsc stops here, CONFIG_SCHEMA and FerryConfig disagree; the error names
 * each differing path (e.g. "config.queue.backoff.maxMs: in CONFIG_SCHEMA,
 * not in types.ts"). Add the key, enum value or type to the other side, and
 * its default to DEFAULTS (defaults.ts) when the key is a section's.
 */
export type SchemaMatchesTypes = NoMismatch<Mismatch<FileShape<FerryConfig>, ConfigFile>>;
