/**
 * What the in-use index knows: which pods run which image (SPEC "Cluster
 * awareness"). Shared by the pod tracker that writes it (watch role), the
 * dashboard that reads it, retention, GC and drift refresh.
 */
import type { ImageList } from '../policy/index.js';

/** One image one pod names, as the in-use index keeps it. */
export interface PodImage {
  namespace: string;
  pod: string;
  /** The container's name, or `volume/<name>` for an image volume. */
  container: string;
  list: ImageList;
  /** `spec.nodeName`, once scheduled. */
  node: string | null;
  /** The image string in the pod spec (maybe the mirror's). */
  image: string;
  /** Normalized upstream reference: a mirror reference is mapped back (`ferry.io/original-images`, else the mirror path). */
  ref: string;
  /** Manifest digest the container runs (`status.*ContainerStatuses[].imageID`), else the spec's digest; null until known. */
  digest: string | null;
  /** The pod was rewritten by ferry (`ferry.io/original-images` names this image). */
  rewritten: boolean;
}

/** A pod running `ref` (`GET /api/images/:ref/pods`). */
export interface PodRun {
  namespace: string;
  pod: string;
  container: string;
  node: string | null;
  digest: string | null;
  firstSeenAt: string;
  lastSeenAt: string;
}

/** The record field `usedBy` (SPEC "Record fields"). */
export interface UsedBy {
  /** Pods naming the image now. */
  pods: number;
  /** Their namespaces, sorted. */
  namespaces: string[];
  /** Now while pods run it; else when the last one was seen. Null: never seen. */
  lastSeenAt: string | null;
}

/** When a mirror digest was last run (retention and GC protect recent ones). */
export interface DigestUse {
  /** Pods running it now. */
  running: number;
  /** Now while running; else when last seen. */
  lastSeenAt: string;
}
