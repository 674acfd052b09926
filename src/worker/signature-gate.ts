/**
 * The `verify:` gate (SPEC "Supply chain"): before a copy writes anything,
 * the upstream cosign signature (`sha256-<hex>.sig` in the image's own
 * repository) is fetched through the engine and checked against the first
 * matching rule's keys. The outcome is recorded as `signature`; in `enforce`
 * an unsigned or wrongly signed image is refused (a permanent failure).
 */
import picomatch from 'picomatch';
import type { KeyObject } from 'node:crypto';
import type { FerryConfig, VerifyRule } from '../config/index.js';
import { FerryError } from '../errors.js';
import { repositoryOfRef } from '../reference/index.js';
import { parsePublicKeys, signatureTag, verifyCosignSignature } from '../verify/index.js';
import type { RegistryEngine } from '../registry/index.js';
import { WORKER_ERROR_TABLE } from './errors.js';

export type SignatureOutcome = 'verified' | 'unverified' | 'unsigned';

/** What the gate needs from the engine: ferry's own view of the upstream. */
export type SignatureEngine = Pick<RegistryEngine, 'findManifest' | 'getBlobBytes'>;

export interface GateResult {
  signature: SignatureOutcome;
  mode: VerifyRule['mode'];
  /** Why it is not `verified`. */
  reason?: string;
}

/** Signature payloads are small JSON documents; anything bigger is not one. */
const MAX_SIGNATURE_BLOB = 1024 * 1024;
const MAX_SIGNATURE_LAYERS = 16;

interface CompiledRule {
  rule: VerifyRule;
  matches: (ref: string) => boolean;
  keys: KeyObject[];
}

const compiled = new WeakMap<FerryConfig, CompiledRule[]>();

function compile(config: FerryConfig): CompiledRule[] {
  let c = compiled.get(config);
  if (!c) {
    c = (config.verify ?? []).map((rule, i) => ({ rule, matches: picomatch(rule.pattern, { dot: true }), keys: parsePublicKeys(rule.keys, `verify[${i}] key`) }));
    compiled.set(config, c);
  }
  return c;
}

/** The first `verify` rule whose pattern matches the normalized upstream ref. */
export function verifyRuleFor(config: FerryConfig, ref: string): CompiledRule | undefined {
  if (!config.verify || config.verify.length === 0) return undefined;
  return compile(config).find((r) => r.matches(ref));
}

/** Fetches and checks the signature of `digest` (the source manifest digest of `ref`). */
export async function checkSignature(engine: SignatureEngine, rule: CompiledRule, ref: string, digest: string, signal?: AbortSignal): Promise<GateResult> {
  const mode = rule.rule.mode;
  const repository = repositoryOfRef(ref);
  const sigRef = `${repository}:${signatureTag(digest)}`;
  const manifest = await engine.findManifest(sigRef, signal);
  if (!manifest) return { signature: 'unsigned', mode, reason: `no cosign signature (${signatureTag(digest)}) for ${digest} in ${repository}` };
  const layers: unknown[] = Array.isArray(manifest.json?.layers) ? manifest.json.layers : [];
  const payloads = new Map<string, Buffer>();
  for (const l of layers.slice(0, MAX_SIGNATURE_LAYERS)) {
    const d = (l as { digest?: unknown })?.digest;
    if (typeof d !== 'string' || payloads.has(d)) continue;
    payloads.set(d, await engine.getBlobBytes(repository, d, MAX_SIGNATURE_BLOB, signal));
  }
  const r = verifyCosignSignature({ manifest: manifest.json, payloads, keys: rule.keys, expectedDigest: digest });
  if (r.ok) return { signature: 'verified', mode };
  return { signature: 'unverified', mode, reason: `the cosign signature does not verify: ${r.reason}` };
}

/** Thrown from the engine's `admit` hook when an enforce rule refuses the image (a FerryError: passed through as is, never retried). */
export class SignatureRequired extends FerryError {
  constructor(readonly gate: GateResult) {
    super(
      WORKER_ERROR_TABLE.codes.SIGNATURE_REQUIRED,
      `${gate.signature === 'unsigned' ? 'unsigned' : 'wrongly signed'} image refused by verify (enforce): ${gate.reason ?? gate.signature}`,
      { hint: WORKER_ERROR_TABLE.specs.SIGNATURE_REQUIRED.hint },
    );
  }
}
