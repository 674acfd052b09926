/**
 * The ImageWatch CustomResourceDefinition (imagewatches.ferry.io), built from
 * the config schema's `watch:` entry so the file, the API and the CRD accept
 * the same fields (one source of truth). Pure: image-watch-crd-gen.ts writes
 * it to deploy/crds/, and test/watch/imagewatch-crd.test.ts fails when the
 * committed file is not what this builds. See docs/imagewatch.md.
 */
import { CONFIG_SCHEMA } from '../config/index.js';

export const IMAGE_WATCH_GROUP = 'ferry.io';
export const IMAGE_WATCH_VERSION = 'v1alpha1';
export const IMAGE_WATCH_KIND = 'ImageWatch';
export const IMAGE_WATCH_PLURAL = 'imagewatches';
export const IMAGE_WATCH_API_VERSION = `${IMAGE_WATCH_GROUP}/${IMAGE_WATCH_VERSION}`;

type Schema = Record<string, unknown>;

/** JSON Schema keywords a structural CRD schema takes as they are. */
const KEPT = new Set(['type', 'properties', 'items', 'required', 'enum', 'pattern', 'minLength', 'maxLength', 'minimum', 'maximum', 'exclusiveMinimum', 'minItems', 'maxItems', 'description', 'format']);

/**
 * A config-schema node as a structural schema: every node has a `type`
 * (an `enum` of strings says `string`), and `additionalProperties: false`
 * goes (the API server refuses it next to `properties`; it prunes unknown
 * fields instead, which is why `ferry check-config --resources` checks
 * files with the config schema's stricter rule).
 */
export function toStructural(node: Schema): Schema {
  const out: Schema = {};
  for (const [k, v] of Object.entries(node)) {
    if (!KEPT.has(k)) continue;
    if (k === 'properties') out.properties = Object.fromEntries(Object.entries(v as Record<string, Schema>).map(([p, s]) => [p, toStructural(s)]));
    else if (k === 'items') out.items = toStructural(v as Schema);
    else out[k] = v;
  }
  if (out.type === undefined && Array.isArray(out.enum)) {
    const kinds = new Set(out.enum.map((e) => typeof e));
    if (kinds.size === 1) out.type = [...kinds][0] === 'number' ? 'number' : [...kinds][0];
  }
  return out;
}

/** What each spec field means, for `kubectl explain imagewatch.spec`. */
const SPEC_DESCRIPTIONS: Record<string, string> = {
  image: 'Upstream image to follow, e.g. docker.io/library/nginx (a tag here is the followed tag of the digest strategy).',
  tag: 'digest strategy: the tag to follow (default: the image\'s tag, else latest).',
  strategy: 'How the tag to mirror is chosen: digest (one tag, re-mirrored when its digest moves), semver, newest, alphabetical.',
  constraint: 'semver strategy: a version constraint, e.g. "~1.25" or ">=1.2 <2".',
  prerelease: 'semver strategy: also consider prerelease versions.',
  allowTags: 'Only tags matching this (regexp:... or a glob) are considered.',
  ignoreTags: 'Tags matching any of these globs are never considered.',
  schedule: 'Cron expression of the polls (UTC), e.g. "*/15 * * * *".',
  keep: 'How many selected images the mirror keeps (older ones are deleted unless in use); absent: keep all.',
  cacheBy: 'Whether registry answers are cached per tag or per digest.',
  alias: 'A mirror tag moved to the selected digest once it is copied, e.g. stable.',
};

/** The spec: the fields of a `watch:` entry, minus `id` (an ImageWatch's id is `<namespace>.<name>`). */
export function imageWatchSpecSchema(): Schema {
  const entry = (CONFIG_SCHEMA as { properties: { watch: { items: Schema } } }).properties.watch.items;
  const s = toStructural(entry);
  const props = { ...(s.properties as Record<string, Schema>) };
  delete props.id;
  for (const [k, d] of Object.entries(SPEC_DESCRIPTIONS)) if (props[k]) props[k] = { description: d, ...props[k] };
  return {
    type: 'object',
    description: 'What to watch: the fields of a `watch:` entry of the ferry config (docs/watch.md), without id.',
    ...(Array.isArray(s.required) ? { required: (s.required as string[]).filter((r) => r !== 'id') } : {}),
    properties: props,
  };
}

const tagDigest = (what: string): Schema => ({
  type: 'object',
  description: what,
  properties: { tag: { type: 'string' }, digest: { type: 'string' } },
});

/** metav1.Condition, as `kubectl wait --for=condition=Ready` and other tools read it. */
const CONDITION: Schema = {
  type: 'object',
  required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'],
  properties: {
    type: { type: 'string', description: 'Ready, Polling or Error.' },
    status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
    reason: { type: 'string', description: 'One CamelCase word, e.g. Selected, PollFailed, InvalidSpec.' },
    message: { type: 'string' },
    lastTransitionTime: { type: 'string', format: 'date-time' },
    observedGeneration: { type: 'integer', format: 'int64', minimum: 0 },
  },
};

export function imageWatchStatusSchema(): Schema {
  return {
    type: 'object',
    description: 'Written by the ferry watch role through the status subresource.',
    properties: {
      conditions: { type: 'array', items: CONDITION, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] },
      lastPollAt: { type: 'string', format: 'date-time', description: 'When the last poll ended (refreshed at most once a minute while nothing else changes).' },
      selected: tagDigest('The tag the strategy selected and its manifest digest (mirrored, or being mirrored).'),
      alias: tagDigest('Where the alias tag in the mirror points (only with spec.alias).'),
      held: {
        type: 'array',
        description: 'Images of this watch the mirror holds, newest first.',
        items: {
          type: 'object',
          properties: { tag: { type: 'string' }, digest: { type: 'string' }, mirroredAt: { type: 'string', format: 'date-time' } },
        },
      },
      observedGeneration: { type: 'integer', format: 'int64', minimum: 0, description: 'The metadata.generation the status describes.' },
    },
  };
}

/** `kubectl get imagewatches` columns. */
export const PRINTER_COLUMNS = [
  { name: 'Image', type: 'string', jsonPath: '.spec.image' },
  { name: 'Strategy', type: 'string', jsonPath: '.spec.strategy' },
  { name: 'Selected', type: 'string', jsonPath: '.status.selected.tag' },
  { name: 'Digest', type: 'string', jsonPath: '.status.selected.digest', priority: 1 },
  { name: 'Last Poll', type: 'date', jsonPath: '.status.lastPollAt' },
  { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
] as const;

export function imageWatchCrd(): Schema {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${IMAGE_WATCH_PLURAL}.${IMAGE_WATCH_GROUP}`,
      labels: { 'app.kubernetes.io/name': 'ferry', 'app.kubernetes.io/component': 'watch' },
    },
    spec: {
      group: IMAGE_WATCH_GROUP,
      scope: 'Namespaced',
      names: { kind: IMAGE_WATCH_KIND, listKind: `${IMAGE_WATCH_KIND}List`, plural: IMAGE_WATCH_PLURAL, singular: 'imagewatch', shortNames: ['iw'], categories: ['ferry'] },
      versions: [
        {
          name: IMAGE_WATCH_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: PRINTER_COLUMNS.map((c) => ({ ...c })),
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: 'An upstream image ferry polls and mirrors (docs/imagewatch.md). The watch id is <namespace>.<name>.',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: imageWatchSpecSchema(),
                status: imageWatchStatusSchema(),
              },
            },
          },
        },
      ],
    },
  };
}
