/**
 * The watch API's operations, behind routes.ts: views of every watch (list,
 * get, history) and edits of the API-defined ones (put, remove), stored in
 * Redis. Config-file watches are read-only here: the file is their source.
 */
import { nextCronRun, type WatchConfig } from '../config/index.js';
import { validateApiWatch, type ResolvedWatch, type WatchResource, type WatchSource } from './definition.js';
import { watchError } from './errors.js';
import { EMPTY_STATUS, type ChangeEvent, type HeldEntry, type WatchState, type WatchStatus } from './state.js';

export interface WatchView extends WatchStatus {
  id: string;
  source: WatchSource;
  config: WatchConfig;
  /** `resource` watches: the ImageWatch object. */
  resource?: WatchResource;
  nextPollAt: string | null;
}

/** What the API needs from the watcher. */
export interface WatchApiDeps {
  state: WatchState;
  /** Config-file watches merged with API-defined ones. */
  watches(): Promise<ResolvedWatch[]>;
  find(id: string): Promise<ResolvedWatch | undefined>;
  /** Brings schedules in line with the watches and polls the never-polled ones (a new watch at once). */
  sync(): Promise<void>;
  /** Polls `id` in the background (a replaced watch is polled again). */
  pollSoon(id: string): void;
  cancelRetry(id: string): Promise<void>;
}

export class WatchApi {
  constructor(private readonly d: WatchApiDeps) {}

  async list(): Promise<WatchView[]> {
    const [watches, statuses] = await Promise.all([this.d.watches(), this.d.state.allStatuses()]);
    return watches.map((w) => this.view(w, statuses.get(w.id)));
  }

  async get(id: string): Promise<WatchView> {
    const w = await this.d.find(id);
    if (!w) throw watchError('NOT_FOUND', `no watch "${id}"`);
    return this.view(w, await this.d.state.status(id));
  }

  private view(w: ResolvedWatch, s: WatchStatus | undefined): WatchView {
    let nextPollAt: string | null = null;
    try {
      nextPollAt = nextCronRun(w.config.schedule).toISOString();
    } catch {
      /* validated at load; never here */
    }
    return { id: w.id, source: w.source, config: w.config, ...(w.resource ? { resource: w.resource } : {}), nextPollAt, ...(s ?? EMPTY_STATUS) };
  }

  /** Kept after the watch is deleted, for audit. */
  async history(id: string): Promise<{ id: string; events: ChangeEvent[]; held: HeldEntry[] }> {
    const w = await this.d.find(id);
    const [events, held] = await Promise.all([this.d.state.events(id), this.d.state.held(id)]);
    if (!w && events.length === 0 && held.length === 0) throw watchError('NOT_FOUND', `no watch "${id}"`);
    return { id, events, held: held.sort((a, b) => b.seq - a.seq) };
  }

  /** Creates or replaces an API-defined watch. */
  async put(id: string, body: unknown): Promise<{ created: boolean; watch: WatchView }> {
    const existing = await this.d.find(id);
    if (existing?.source === 'config') throw watchError('READ_ONLY', `watch "${id}" is defined in the config file`);
    if (existing?.source === 'resource') throw watchError('READ_ONLY', `watch "${id}" is defined by ImageWatch ${existing.resource?.namespace}/${existing.resource?.name}: edit that object`);
    const config = validateApiWatch(id, body);
    const created = await this.d.state.putApiWatch({ ...config, id });
    await this.d.sync(); // polls a new watch at once
    if (!created) this.d.pollSoon(id);
    return { created, watch: await this.get(id) };
  }

  /** Deletes an API-defined watch, its status, cache, schedule and pending retry; events and holdings stay. */
  async remove(id: string): Promise<void> {
    const existing = await this.d.find(id);
    if (!existing) throw watchError('NOT_FOUND', `no watch "${id}"`);
    if (existing.source === 'config') throw watchError('READ_ONLY', `watch "${id}" is defined in the config file`);
    if (existing.source === 'resource') throw watchError('READ_ONLY', `watch "${id}" is defined by ImageWatch ${existing.resource?.namespace}/${existing.resource?.name}: delete that object`);
    await this.d.state.deleteApiWatch(id);
    await this.d.state.forget(id);
    await this.d.cancelRetry(id);
    await this.d.sync();
  }
}
