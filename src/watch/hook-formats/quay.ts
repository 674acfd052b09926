/**
 * Quay (quay.io and Red Hat Quay) "Repository Push" notifications, webhook
 * method: `{repository: "ns/repo", namespace, name, docker_url:
 * "quay.io/ns/repo", updated_tags: ["latest"]}`. Older Quay sent
 * updated_tags as an object tag -> image id. No signature, no headers.
 */
import { watchError } from '../errors.js';
import { isObj, splitImageUrl, str, type HookRequest, type RegistryEvent } from './types.js';

export function isQuay(req: HookRequest): boolean {
  return isObj(req.body) && str(req.body.docker_url) !== undefined && 'updated_tags' in req.body;
}

export function parseQuay(body: unknown): RegistryEvent[] {
  const b = isObj(body) ? body : {};
  const at = splitImageUrl(str(b.docker_url) ?? '');
  const repository = str(b.repository) ?? at?.repository;
  if (!repository) throw watchError('HOOK_INVALID', 'a Quay notification without repository or docker_url');
  const host = at?.host ?? 'quay.io';
  const u = b.updated_tags;
  const tags = Array.isArray(u) ? u.filter((t): t is string => typeof t === 'string' && t !== '') : isObj(u) ? Object.keys(u) : [];
  return tags.map((tag) => ({ action: 'push', repository, tag, host }));
}
