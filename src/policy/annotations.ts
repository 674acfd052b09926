/** Annotation keys (SPEC "Annotations"), on a Pod or on its Namespace. */
export const ANNOTATION_SKIP = 'ferry.io/skip';
export const ANNOTATION_MODE = 'ferry.io/mode';
export const ANNOTATION_PULL_POLICY = 'ferry.io/pull-policy';
export const ANNOTATION_ORIGINAL_IMAGES = 'ferry.io/original-images';
/**
 * Set by the kubelet on the API server's mirror of a static pod. The kubelet
 * runs the pod from its manifest file whatever the API object says, and
 * recreates a mirror that differs, so ferry never patches or denies one.
 */
export const ANNOTATION_STATIC_MIRROR = 'kubernetes.io/config.mirror';
