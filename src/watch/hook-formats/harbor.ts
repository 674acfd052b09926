/**
 * Harbor project webhooks, both payload formats:
 * - Default: `{type: "PUSH_ARTIFACT", occur_at, operator, event_data:
 *   {resources: [{digest, tag, resource_url: "harbor.example/lib/app:1.0"}],
 *   repository: {name, namespace, repo_full_name, repo_type}}}`
 * - CloudEvents (Harbor 2.10+): `{specversion: "1.0", type:
 *   "harbor.artifact.pushed", id, source, time, data: {resources, repository}}`
 *   as structured JSON, or binary mode (`ce-type` header, the data as body).
 * The registry host is the one in resource_url (Harbor's external URL).
 */
import { watchError } from '../errors.js';
import { header, isObj, splitImageUrl, str, type HookRequest, type RegistryEvent } from './types.js';

export const CLOUDEVENTS_MEDIA_TYPE = 'application/cloudevents+json';
const CE_PUSHED = 'harbor.artifact.pushed';

export function isHarbor(req: HookRequest): boolean {
  return isObj(req.body) && str(req.body.type) !== undefined && isObj(req.body.event_data);
}

export function isHarborCloudEvent(req: HookRequest): boolean {
  const b = req.body;
  const structured = isObj(b) && str(b.specversion) !== undefined && (str(b.type) ?? '').startsWith('harbor.');
  return structured || (header(req.headers, 'ce-type') ?? '').startsWith('harbor.');
}

export function parseHarbor(body: unknown): RegistryEvent[] {
  const b = isObj(body) ? body : {};
  const type = str(b.type) ?? '';
  return resources(b.event_data, type === 'PUSH_ARTIFACT' ? 'push' : type.toLowerCase());
}

export function parseHarborCloudEvent(req: HookRequest): RegistryEvent[] {
  const b = isObj(req.body) ? req.body : {};
  const structured = str(b.specversion) !== undefined;
  const type = (structured ? str(b.type) : header(req.headers, 'ce-type')) ?? '';
  return resources(structured ? b.data : b, type === CE_PUSHED ? 'push' : type);
}

function resources(data: unknown, action: string): RegistryEvent[] {
  if (!isObj(data) || !Array.isArray(data.resources)) throw watchError('HOOK_INVALID', 'a Harbor webhook without event data resources');
  const repo = isObj(data.repository) ? data.repository : {};
  const fullName = str(repo.repo_full_name) ?? (str(repo.namespace) && str(repo.name) ? `${str(repo.namespace)}/${str(repo.name)}` : undefined);
  return data.resources.flatMap((r): RegistryEvent[] => {
    if (!isObj(r)) return [];
    const at = splitImageUrl(str(r.resource_url) ?? '');
    const repository = at?.repository ?? fullName;
    if (!repository) return [];
    return [{ action, repository, tag: str(r.tag), digest: str(r.digest), host: at?.host }];
  });
}
