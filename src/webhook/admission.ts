/**
 * AdmissionReview admission.k8s.io/v1 in and out. Decoding validates just
 * what ferry relies on and answers bad input with a typed 400, never a throw
 * that escapes the request.
 */
import type { FerryError } from '../errors.js';
import { WEBHOOK_ERROR_TABLE } from './errors.js';

export interface Container {
  name: string;
  image?: string;
  imagePullPolicy?: string;
  [k: string]: unknown;
}

/** `spec.volumes[*]`; only image volumes (Kubernetes 1.31+) matter to ferry. */
export interface Volume {
  name: string;
  image?: { reference?: string; pullPolicy?: string; [k: string]: unknown };
  [k: string]: unknown;
}

export interface Pod {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    generateName?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [k: string]: unknown;
  };
  spec?: { containers?: Container[]; initContainers?: Container[]; ephemeralContainers?: Container[]; volumes?: Volume[]; [k: string]: unknown };
  [k: string]: unknown;
}

export interface AdmissionRequest {
  uid: string;
  kind?: { group?: string; version?: string; kind?: string };
  resource?: { group?: string; version?: string; resource?: string };
  subResource?: string;
  namespace?: string;
  name?: string;
  operation?: string;
  dryRun?: boolean;
  object?: Pod;
  oldObject?: Pod;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; message: string; reason?: string };
  patch?: string;
  patchType?: 'JSONPatch';
  warnings?: string[];
}

export interface AdmissionReviewOut {
  apiVersion: 'admission.k8s.io/v1';
  kind: 'AdmissionReview';
  response: AdmissionResponse;
}

function bad(message: string): FerryError {
  return WEBHOOK_ERROR_TABLE.create('BAD_REVIEW', message);
}

export function decodeReview(body: unknown): AdmissionRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('body is not a JSON object');
  const b = body as Record<string, unknown>;
  if (b.kind !== 'AdmissionReview') throw bad(`kind must be "AdmissionReview", got ${JSON.stringify(b.kind)}`);
  if (b.apiVersion !== 'admission.k8s.io/v1') {
    throw bad(`apiVersion must be "admission.k8s.io/v1", got ${JSON.stringify(b.apiVersion)} (set admissionReviewVersions: ["v1"])`);
  }
  const req = b.request as Record<string, unknown> | undefined;
  if (typeof req !== 'object' || req === null) throw bad('request is missing');
  if (typeof req.uid !== 'string' || req.uid === '') throw bad('request.uid must be a non-empty string');
  for (const key of ['object', 'oldObject'] as const) {
    const v = req[key];
    if (v !== undefined && v !== null && (typeof v !== 'object' || Array.isArray(v))) throw bad(`request.${key} must be an object`);
  }
  return req as unknown as AdmissionRequest;
}

export function review(response: AdmissionResponse): AdmissionReviewOut {
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response };
}

const REVIEW_HEAD = '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":';

/**
 * `review(response)` as JSON text, what the webhook sends. Written out here
 * rather than by a serializer because the patch, most of an answer's bytes,
 * is base64 (handle.ts makes it with Buffer's encoder), and base64 has no
 * character JSON escapes: it is placed as it is, and only the small rest goes
 * through JSON.stringify. fast-json-stringify scanned every patch byte for
 * escapes, ~15 us of the ~300 us an admission cost under load (bench/webhook).
 */
export function reviewJson(response: AdmissionResponse): string {
  const { patch, ...rest } = response;
  const json = JSON.stringify(rest);
  if (patch === undefined) return `${REVIEW_HEAD}${json}}`;
  return `${REVIEW_HEAD}${json.slice(0, -1)}${json.length > 2 ? ',' : ''}"patch":"${patch}"}}`;
}
