/**
 * The states an image moves through (SPEC "Image states") and the small view
 * of a record that admission decides on. Pure and tiny on purpose: the queue
 * stores records in these states, the policy judges pods by them, and
 * neither has to import the other.
 */
export type ImageState = 'queued' | 'copying' | 'mirrored' | 'retrying' | 'error' | 'blocked';
export const IMAGE_STATES: readonly ImageState[] = ['queued', 'copying', 'mirrored', 'retrying', 'error', 'blocked'];

/** What admission needs to know of an image's record. */
export interface ImageView {
  state: ImageState;
  digest: string | null;
  mirroredAt: string | null;
  blockedReason: string | null;
}

/** Whether the mirror can serve this image now (used by `mirrored`/`enforce`): mirrored once, and not blocked. */
export function isAvailable(r: Pick<ImageView, 'state' | 'mirroredAt'> | undefined): boolean {
  if (!r || r.state === 'blocked') return false;
  return r.state === 'mirrored' || r.mirroredAt !== null;
}
