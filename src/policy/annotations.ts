/** Annotation keys (SPEC "Annotations"), on a Pod or on its Namespace. */
export const ANNOTATION_SKIP = 'ferry.io/skip';
export const ANNOTATION_MODE = 'ferry.io/mode';
export const ANNOTATION_PULL_POLICY = 'ferry.io/pull-policy';
export const ANNOTATION_ORIGINAL_IMAGES = 'ferry.io/original-images';
