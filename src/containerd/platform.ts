/**
 * Which manifest of an image is this node's: `os/architecture[/variant]`
 * matching as containerd's default platform matcher does for the common
 * cases (arm64 without a variant is arm64/v8; arm without one is arm/v7).
 * Pure: no I/O.
 */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

const NODE_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', loong64: 'loong64' };

/** This process's platform in OCI terms, e.g. `linux/amd64`. */
export function hostPlatform(): string {
  return `linux/${NODE_ARCH[process.arch] ?? process.arch}`;
}

/** `linux/arm64/v8` -> { os, architecture, variant }; undefined when it is not os/arch[/variant]. */
export function parsePlatform(s: string): Platform | undefined {
  const parts = s.trim().toLowerCase().split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9_.-]+$/.test(p))) return undefined;
  const [os, architecture, variant] = parts as [string, string, string?];
  return { os, architecture, ...(variant ? { variant } : {}) };
}

function defaultVariant(arch: string): string | undefined {
  return arch === 'arm64' ? 'v8' : arch === 'arm' ? 'v7' : undefined;
}

/** Does an image's platform (a manifest descriptor's, or a config's os/architecture/variant) run on `want`? */
export function platformMatches(want: Platform, got: { os?: unknown; architecture?: unknown; variant?: unknown } | undefined): boolean {
  if (!got || typeof got.os !== 'string' || typeof got.architecture !== 'string') return false;
  if (got.os.toLowerCase() !== want.os || got.architecture.toLowerCase() !== want.architecture) return false;
  const gv = typeof got.variant === 'string' && got.variant ? got.variant.toLowerCase() : defaultVariant(want.architecture);
  const wv = want.variant ?? defaultVariant(want.architecture);
  return gv === wv;
}
