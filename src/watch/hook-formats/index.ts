/**
 * POST /hooks/registry: which sender a delivery comes from, recognized by
 * its headers and shape, parsed into RegistryEvents by that sender's own
 * module. Pure: no I/O. Anything unrecognized is FERRY_ERR_WATCH_HOOK_INVALID
 * with the accepted formats listed.
 */
import { watchError } from '../errors.js';
import { isDistribution, isGitlab, parseDistribution } from './distribution.js';
import { isDockerHub, parseDockerHub } from './docker-hub.js';
import { isGithub, parseGithub } from './github.js';
import { isHarbor, isHarborCloudEvent, parseHarbor, parseHarborCloudEvent } from './harbor.js';
import { isQuay, parseQuay } from './quay.js';
import { header, HookDelivery, type HookFormat, type HookRequest } from './types.js';

export { EVENTS_MEDIA_TYPE, parseDistribution } from './distribution.js';
export { CLOUDEVENTS_MEDIA_TYPE } from './harbor.js';
export { HOOK_FORMATS, HookDelivery, splitImageUrl, type HookFormat, type HookRequest, type RegistryEvent } from './types.js';

interface FormatSpec {
  format: HookFormat;
  /** For the 400 and docs: what it is and how it is recognized. */
  describe: string;
  detect(req: HookRequest): boolean;
  parse(req: HookRequest): HookDelivery;
}

/** In detection order: headers first (GitHub), then the most specific shapes. */
const FORMATS: readonly FormatSpec[] = [
  {
    format: 'github',
    describe: 'GitHub package / registry_package events (X-GitHub-Event header)',
    detect: isGithub,
    parse: (req) => {
      const { events, note } = parseGithub(req);
      return new HookDelivery('github', events, note);
    },
  },
  {
    format: 'harbor-cloudevents',
    describe: 'Harbor webhooks in CloudEvents format (type harbor.artifact.pushed)',
    detect: isHarborCloudEvent,
    parse: (req) => new HookDelivery('harbor-cloudevents', parseHarborCloudEvent(req)),
  },
  {
    format: 'harbor',
    describe: 'Harbor webhooks in Default format ({"type": "PUSH_ARTIFACT", "event_data": {...}})',
    detect: isHarbor,
    parse: (req) => new HookDelivery('harbor', parseHarbor(req.body)),
  },
  {
    format: 'dockerhub',
    describe: 'Docker Hub webhooks ({"push_data": {...}, "repository": {"repo_name": ...}})',
    detect: isDockerHub,
    parse: (req) => new HookDelivery('dockerhub', parseDockerHub(req.body)),
  },
  {
    format: 'quay',
    describe: 'Quay repository push notifications ({"docker_url": ..., "updated_tags": [...]})',
    detect: isQuay,
    parse: (req) => new HookDelivery('quay', parseQuay(req.body)),
  },
  {
    format: 'distribution',
    describe: 'docker-registry / distribution notification envelopes ({"events": [...]}), also from GitLab\'s container registry',
    detect: isDistribution,
    parse: (req) => new HookDelivery(isGitlab(req) ? 'gitlab' : 'distribution', parseDistribution(req.body)),
  },
];

/** One line per accepted format, for the 400's hint and docs/hooks.md. */
export const ACCEPTED_FORMATS: readonly string[] = FORMATS.map((f) => f.describe);

const HINT = `POST /hooks/registry accepts: ${ACCEPTED_FORMATS.join('; ')}. See docs/hooks.md for how to configure each sender`;

/** Recognizes and parses one delivery. Throws FERRY_ERR_WATCH_HOOK_INVALID (hint: the accepted formats). */
export function parseHookRequest(req: HookRequest): HookDelivery {
  const spec = FORMATS.find((f) => f.detect(req));
  if (!spec) {
    const gitlabEvent = header(req.headers, 'x-gitlab-event');
    const why = gitlabEvent
      ? `a GitLab project webhook ("${gitlabEvent}"): GitLab has no webhook event for its container registry; configure the registry's own notifications (registry['notifications'] in gitlab.rb, or the chart's registry.notifications) to POST here`
      : 'the body is not a registry webhook ferry recognizes';
    throw watchError('HOOK_INVALID', why, { accepted: FORMATS.map((f) => f.format) }, HINT);
  }
  try {
    return spec.parse(req);
  } catch (e) {
    // A recognized sender with a malformed payload: the same code, the list of formats as the hint.
    const message = e instanceof Error ? e.message : String(e);
    throw watchError('HOOK_INVALID', `${spec.format}: ${message}`, { format: spec.format, accepted: FORMATS.map((f) => f.format) }, HINT);
  }
}
