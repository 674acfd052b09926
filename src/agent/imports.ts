/**
 * The node's import folder (agent.importDir): every image archive dropped
 * there lands in the node's containerd (agent.namespace, unpacked into
 * agent.snapshotter), with the k3s folder semantics of src/import's
 * FolderWatcher. State across restarts is a JSON file on the node
 * (agent.stateFile), not Redis: the images live on this node only, and an
 * import must work while Redis and the mirror are away. A removed file is
 * forgotten; its images stay in containerd (as with k3s).
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { AgentConfig } from '../config/types.js';
import { describeError, isFerryError } from '../errors.js';
import { FolderWatcher, jsonFileStates, type FileState, type FolderImportOutcome } from '../folder-watch/index.js';
import { CONTAINERD_ERROR_TABLE } from '../containerd/index.js';
import type { NodeImportState } from '../nodes/index.js';

/** One image an archive put into containerd (what src/containerd's importArchive answers). */
export interface NodeImportedImage {
  name: string;
  digest: string;
  bytes: number;
  unpacked: boolean;
}

/** The part of src/containerd's client the folder needs. */
export interface NodeImageImporter {
  importArchive(path: string, opts?: { signal?: AbortSignal }): Promise<NodeImportedImage[]>;
}

export interface AgentImportResult {
  file: string;
  ok: boolean;
  images: NodeImportedImage[];
  error?: { code: string; message: string; hint?: string; transient: boolean };
  durationMs: number;
}

/** agent.stateFile, or `<importDir>/.ferry-agent-state.json` (a dotfile: the folder ignores it). */
export function stateFileOf(agent: Pick<AgentConfig, 'importDir' | 'stateFile'>): string {
  return agent.stateFile || join(agent.importDir, '.ferry-agent-state.json');
}

function outcomeOf(r: AgentImportResult): FolderImportOutcome {
  return { ok: r.ok, digests: r.images.map((i) => i.digest), refs: r.images.map((i) => i.name), ...(r.error ? { error: r.error } : {}) };
}

function asError(e: unknown): NonNullable<AgentImportResult['error']> {
  if (isFerryError(e)) return { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}), transient: e.transient };
  // Not one of containerd's typed answers: most likely the runtime went away mid-import; try again.
  const w = CONTAINERD_ERROR_TABLE.create('IMPORT_FAILED', describeError(e));
  return { code: w.code, message: w.message, ...(w.hint ? { hint: w.hint } : {}), transient: true };
}

export interface NodeImportsOptions {
  importer: NodeImageImporter;
  agent(): AgentConfig;
  logger: Logger;
  rescanMs?: number;
  /** Something in `states()` changed. */
  onChange(): void;
}

/** The folder watcher plus what NodeState.imports shows of it. */
export class NodeImports {
  readonly watcher: FolderWatcher<AgentImportResult>;
  private readonly files = new Map<string, NodeImportState>();

  constructor(private readonly o: NodeImportsOptions) {
    const stateFile = stateFileOf(o.agent());
    this.watcher = new FolderWatcher<AgentImportResult>({
      name: 'agent import',
      logger: o.logger,
      settings: () => ({ dir: o.agent().importDir, stableMs: o.agent().stableMs }),
      state: jsonFileStates(stateFile, (why) => o.logger.warn({ stateFile }, `agent import: ${why}`)),
      rescanMs: o.rescanMs,
      retry: () => o.agent().backoff,
      importFile: (path, run) => this.importOne(path, run.signal),
      outcomeOf,
      summaryOf: (r) => ({ fields: { file: r.file, images: r.images, ms: r.durationMs } }),
    });
    const w = this.watcher;
    w.on('pending', (e) => this.set(e.file, { status: 'pending', size: e.size }));
    w.on('start', (e) => this.set(e.file, { status: 'importing', at: new Date().toISOString() }));
    w.on('imported', (r) => this.set(r.file, { status: 'imported', images: r.images.map((i) => i.name), digests: r.images.map((i) => i.digest), bytes: r.images.reduce((n, i) => n + i.bytes, 0), error: undefined }));
    w.on('failed', (r) => this.set(r.file, { status: 'error', images: [], digests: [], error: r.error ? `[${r.error.code}] ${r.error.message}` : 'failed' }));
    w.on('renamed', (e) => {
      const prev = this.files.get(e.from);
      if (!e.alias) this.drop(e.from);
      this.fromState(e.to, prev);
    });
    w.on('forgotten', (e) => this.drop(e.file));
  }

  async start(): Promise<void> {
    await this.watcher.start();
    // What earlier runs imported (the state file), for files the first scan did not touch.
    for (const path of this.watcher.trackedFiles()) if (!this.files.has(path)) this.fromState(path);
    this.o.onChange();
  }

  states(): NodeImportState[] {
    return [...this.files.values()].sort((a, b) => a.file.localeCompare(b.file)).map((s) => ({ ...s }));
  }

  settingsChanged(): void {
    this.watcher.settingsChanged();
  }

  close(): Promise<void> {
    return this.watcher.close();
  }

  private async importOne(file: string, signal: AbortSignal): Promise<AgentImportResult> {
    const started = Date.now();
    try {
      const images = await this.o.importer.importArchive(file, { signal });
      return { file, ok: true, images, durationMs: Date.now() - started };
    } catch (e) {
      return { file, ok: false, images: [], error: asError(e), durationMs: Date.now() - started };
    }
  }

  private fromState(path: string, prev?: NodeImportState): void {
    const s: FileState | undefined = this.watcher.fileState(path);
    if (!s) return;
    this.files.set(path, {
      file: this.nameOf(path),
      status: s.result === 'imported' ? 'imported' : 'error',
      size: s.size,
      images: s.refs,
      digests: s.digests,
      ...(prev?.bytes !== undefined ? { bytes: prev.bytes } : {}),
      ...(s.error ? { error: s.error } : {}),
      at: s.at,
    });
    this.o.onChange();
  }

  private nameOf(path: string): string {
    const dir = this.watcher.directory;
    return path.startsWith(dir + '/') ? path.slice(dir.length + 1) : path;
  }

  private set(path: string, patch: Partial<NodeImportState>): void {
    const prev = this.files.get(path) ?? { file: this.nameOf(path), status: 'pending', size: 0, images: [], digests: [] };
    const next: NodeImportState = { ...prev, ...patch };
    for (const k of Object.keys(patch) as (keyof NodeImportState)[]) if (patch[k] === undefined) delete next[k];
    if (patch.status && patch.status !== 'importing' && patch.status !== 'pending') next.at = new Date().toISOString();
    if (patch.status === 'imported' || patch.status === 'error') next.size = this.watcher.fileState(path)?.size ?? next.size;
    this.files.set(path, next);
    this.o.onChange();
  }

  private drop(path: string): void {
    if (this.files.delete(path)) this.o.onChange();
  }
}
