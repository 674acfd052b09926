/**
 * Reads an image's config blob for the config diff, best effort: each
 * candidate reference (mirror or upstream, `repo@digest`) in turn; an index
 * is read through its representative child. Never throws: undefined + why.
 */
import { describeError } from '../errors.js';
import { repositoryOfRef } from '../reference/index.js';
import { representativeChild, diffImageConfigs } from './config-diff.js';
import type { NotifyData } from './event.js';
import { hasDigestPair } from './event.js';
import { NOTIFY_ERROR_CODES } from './errors.js';

/** What the notify consumer needs from the registry engine (RegistryEngine implements it). */
export interface ConfigEngine {
  getManifest(ref: string, signal?: AbortSignal): Promise<{ digest: string; mediaType: string; json: any }>;
  getBlobJson(repository: string, digest: string, signal?: AbortSignal): Promise<any>;
}

async function readConfig(engine: ConfigEngine, repository: string, digest: string, signal?: AbortSignal): Promise<unknown> {
  let m = await engine.getManifest(`${repository}@${digest}`, signal);
  if (Array.isArray(m.json?.manifests)) {
    const child = representativeChild(m.json.manifests);
    if (!child) throw new Error('the index lists no image');
    m = await engine.getManifest(`${repository}@${child.digest}`, signal);
  }
  const cfg = m.json?.config?.digest;
  if (typeof cfg !== 'string') throw new Error('the manifest names no config blob');
  return engine.getBlobJson(repository, cfg, signal);
}

/** The config of `digest` from the first of `repositories` that has it. */
export async function fetchConfig(engine: ConfigEngine, repositories: string[], digest: string, signal?: AbortSignal): Promise<{ config?: unknown; reason?: string }> {
  const problems: string[] = [];
  for (const repo of repositories) {
    try {
      return { config: await readConfig(engine, repo, digest, signal) };
    } catch (e) {
      problems.push(`${repo}@${digest}: ${describeError(e)}`);
    }
  }
  return { reason: problems.join('; ') };
}

/**
 * Fills `configDiff` (or `configDiffReason`) of an event's data. Both
 * digests are looked for in the mirror first (the old manifest stays there
 * after the tag moved; the new one is there once its copy landed), then
 * upstream: a manifest GET upstream can count against a pull limit (Docker
 * Hub's), one in the mirror costs nothing.
 */
export async function withConfigDiff(engine: ConfigEngine, data: NotifyData, signal?: AbortSignal): Promise<NotifyData> {
  if (!hasDigestPair(data)) return data;
  const up = repositoryOfRef(data.ref);
  const mirror = repositoryOfRef(data.mirrorRef);
  const [a, b] = await Promise.all([fetchConfig(engine, [mirror, up], data.oldDigest!, signal), fetchConfig(engine, [mirror, up], data.newDigest!, signal)]);
  if (a.config === undefined || b.config === undefined) {
    const { configDiff: _drop, ...rest } = data;
    return { ...rest, configDiff: null, configDiffReason: `${NOTIFY_ERROR_CODES.CONFIG_UNREADABLE}: ${[a.reason, b.reason].filter(Boolean).join('; ')}` };
  }
  const { configDiffReason: _none, ...rest } = data;
  return { ...rest, configDiff: diffImageConfigs(a.config, b.config) };
}
