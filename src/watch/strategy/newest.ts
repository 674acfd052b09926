/**
 * `newest` strategy (pure): the tag whose image config says it was created
 * last (`created`, RFC 3339). Tags without a readable `created` are skipped.
 * Ties (one image under several tags) go to the tag that sorts last.
 */
import type { Selection, TagCreated } from './types.js';

export function selectNewest(items: readonly TagCreated[]): Selection {
  let best: { tag: string; t: number } | undefined;
  let dated = 0;
  for (const it of items) {
    const t = it.created ? Date.parse(it.created) : NaN;
    if (!Number.isFinite(t)) continue;
    dated++;
    if (!best || t > best.t || (t === best.t && it.tag > best.tag)) best = { tag: it.tag, t };
  }
  return best
    ? { tag: best.tag, considered: items.length, reason: `${best.tag} has the newest image (created ${new Date(best.t).toISOString()}) of ${dated} dated tags` }
    : { tag: undefined, considered: items.length, reason: `none of ${items.length} tags has an image config with a "created" time` };
}
