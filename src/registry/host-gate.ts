/**
 * The adaptive gate of one upstream registry host (pure: no I/O, no timers;
 * the caller passes the time). It decides when a request may be sent:
 *
 *  - Concurrency, AIMD: at most `limit` requests awaiting response headers
 *    (a body being streamed does not hold a place). The limit starts at
 *    INITIAL_LIMIT and grows by 1/limit per success (about one per limit's
 *    worth of answers, TCP's congestion avoidance) while the limit is what
 *    holds requests back and latency stays near its observed floor; it
 *    halves on 429, 503, 504, timeouts and dropped connections (once per
 *    round: answers to requests sent before the last halving do not halve
 *    it again), never below 1 nor above MAX_LIMIT. A 404 or other 4xx says
 *    nothing about load and changes nothing.
 *  - Retry-After on a 429/503: no new request to the host until then.
 *  - Quota: the last `RateLimit-*` reading (rate-limit-headers.ts) less the
 *    counted requests sent since; at 0, counted requests wait for the reset.
 *    Where the registry counts only pulls (Docker Hub: manifest GETs; or a
 *    host with `pullLimit` configured), only those count and only those wait.
 *  - Pull budget: without a live reading, ferry's own log of the pulls it
 *    sent in the last window against `pullLimit` (Docker Hub's published
 *    numbers by default, see pullBudgetFor). A live reading wins: Docker has
 *    changed its numbers before.
 *
 * A wait the caller will not spend in-process becomes an error there
 * (host-gates.ts); this file only says until when.
 */
import type { FerryConfig } from '../config/types.js';
import { isDockerHub } from './credential-helper.js';
import { registryConfigFor } from './credentials.js';
import type { QuotaReading } from './rate-limit-headers.js';

/**
 * 16 in flight to start: enough for queue.concurrency (8) copies each to
 * have a manifest or blob request and a HEAD waiting at once, so latency is
 * hidden from the first image (at 50 ms RTT, 16 in flight is ~300 requests/s
 * of headroom), yet well below what public registries serve one client
 * (HTTP/1.1 browsers open 6 connections per host; registries front CDNs).
 */
export const INITIAL_LIMIT = 16;
export const MAX_LIMIT = 64;
/** "Near the floor": at most twice the fastest answer seen, plus this (scheduling noise on a loaded machine). */
const LATENCY_SLACK_MS = 20;
/** The floor is the fastest answer of the last one to two such windows (BBR's windowed min-RTT: a route change is forgotten, a busy minute is not taken for the floor). */
const FLOOR_WINDOW_MS = 30_000;
/** Docker Hub's window (6 h) and its published pull limits (docs.docker.com/docker-hub/usage/pulls). */
export const DOCKER_HUB_WINDOW_SECONDS = 6 * 3600;
export const DOCKER_HUB_ANONYMOUS_PULLS = 100;
export const DOCKER_HUB_AUTHENTICATED_PULLS = 200;
/** A reading without reset or window is trusted this long before counted requests are tried again. */
const UNKNOWN_RESET_MS = 60_000;

export interface PullBudget {
  count: number;
  windowMs: number;
}

export interface GateSettings {
  /** Only pulls count against the quota (Docker Hub, or `pullLimit` configured); otherwise every request does. */
  pullsOnly: boolean;
  /** Ferry's own count of pulls per window, used while no live reading is known. */
  pullBudget?: PullBudget | undefined;
}

/** Why a request must wait, and until when (epoch ms). */
export interface Hold {
  until: number;
  /** retry-after: the registry asked for a pause; quota: RateLimit-Remaining is 0; pulls: the pull budget is used up. */
  why: 'retry-after' | 'quota' | 'pulls';
  /** The allowance behind a quota or pulls hold, for the message. */
  limit?: number;
}

export type Admission = { go: true } | { go: false; hold: Hold } | { go: false; slot: true };

/** One request between admission and its response headers. */
export interface Ticket {
  startedAt: number;
  counted: boolean;
  /** Was the limit what held it back (it waited, or took the last place)? Only then may success grow the limit. */
  contended: boolean;
}

export interface Outcome {
  /** HTTP status, when an answer came. */
  status?: number;
  /** No answer: congestion (timeout, dropped connection) or not about load (cancelled, refused, TLS). */
  failure?: 'congestion' | 'neutral';
  latencyMs?: number;
  /** Retry-After of a 429/503, milliseconds from `now`. */
  retryAfterMs?: number;
  quota?: QuotaReading;
}

export interface GateSnapshot {
  limit: number;
  inFlight: number;
  pausedUntil?: number;
  /** Last live reading, less what was counted since. */
  remaining?: number;
  quotaLimit?: number;
}

const CONGESTION_STATUSES: ReadonlySet<number> = new Set([429, 503, 504]);

interface LiveQuota {
  remaining: number;
  limit?: number;
  windowMs?: number;
  resetAt?: number;
  seenAt: number;
  /** Counted requests sent after the reading. */
  countedSince: number;
}

export class HostGate {
  private limitValue = INITIAL_LIMIT;
  private inFlightCount = 0;
  private floorNow = Infinity;
  private floorBefore = Infinity;
  private floorSince = -Infinity;
  private pausedUntil = 0;
  private lastDecrease = -Infinity;
  private live: LiveQuota | undefined;
  /** Send times of the pulls of the last window, oldest first (the pull budget). */
  private pulls: number[] = [];

  constructor(private settings: GateSettings) {}

  /** Hot reload: new budget settings; what was learnt is kept. */
  configure(settings: GateSettings): void {
    this.settings = settings;
  }

  get limit(): number {
    return Math.floor(this.limitValue);
  }

  get inFlight(): number {
    return this.inFlightCount;
  }

  /** Does a request (`pull`: a manifest GET) count against the quota of this host? */
  counts(pull: boolean): boolean {
    return this.settings.pullsOnly ? pull : true;
  }

  admit(now: number, pull: boolean): Admission {
    if (now < this.pausedUntil) return { go: false, hold: { until: this.pausedUntil, why: 'retry-after' } };
    if (this.counts(pull)) {
      const hold = this.quotaHold(now, pull);
      if (hold) return { go: false, hold };
    }
    if (this.inFlightCount >= this.limit) return { go: false, slot: true };
    return { go: true };
  }

  /** The request is sent now (after `admit` said go). `waited`: it queued for a place first. */
  start(now: number, pull: boolean, waited: boolean): Ticket {
    this.inFlightCount++;
    const counted = this.counts(pull);
    if (counted && this.live) this.live.countedSince++;
    const budget = this.settings.pullBudget;
    if (pull && this.settings.pullsOnly && budget) {
      // kept for the budget's window only (trimmed here too: a live quota reading skips quotaHold's trim)
      this.pulls.push(now);
      while (this.pulls.length > budget.count || (this.pulls.length && this.pulls[0]! <= now - budget.windowMs)) this.pulls.shift();
    }
    return { startedAt: now, counted, contended: waited || this.inFlightCount >= this.limit };
  }

  /** The response headers came (or the request failed): learn from it. */
  finish(now: number, ticket: Ticket, outcome: Outcome): void {
    this.inFlightCount = Math.max(0, this.inFlightCount - 1);
    if (outcome.quota) this.learnQuota(now, outcome.quota);
    const congested = outcome.failure === 'congestion' || (outcome.status !== undefined && CONGESTION_STATUSES.has(outcome.status));
    if (congested) {
      if (ticket.startedAt >= this.lastDecrease) {
        this.limitValue = Math.max(1, Math.floor(this.limitValue / 2));
        this.lastDecrease = now;
      }
      if (outcome.retryAfterMs !== undefined && (outcome.status === 429 || outcome.status === 503)) {
        this.pausedUntil = Math.max(this.pausedUntil, now + outcome.retryAfterMs);
      }
      return;
    }
    if (outcome.status === undefined || outcome.status >= 400 || outcome.latencyMs === undefined) return;
    const ms = outcome.latencyMs;
    if (now - this.floorSince >= FLOOR_WINDOW_MS) {
      this.floorBefore = this.floorNow;
      this.floorNow = Infinity;
      this.floorSince = now;
    }
    this.floorNow = Math.min(this.floorNow, ms);
    const floor = Math.min(this.floorNow, this.floorBefore);
    if (ticket.contended && ms <= 2 * floor + LATENCY_SLACK_MS) {
      this.limitValue = Math.min(MAX_LIMIT, this.limitValue + 1 / this.limitValue);
    }
  }

  snapshot(now: number): GateSnapshot {
    const live = this.freshLive(now);
    return {
      limit: this.limit,
      inFlight: this.inFlightCount,
      ...(now < this.pausedUntil ? { pausedUntil: this.pausedUntil } : {}),
      ...(live ? { remaining: Math.max(0, live.remaining - live.countedSince) } : {}),
      ...(live?.limit !== undefined ? { quotaLimit: live.limit } : this.settings.pullBudget ? { quotaLimit: this.settings.pullBudget.count } : {}),
    };
  }

  private learnQuota(now: number, q: QuotaReading): void {
    this.live = {
      remaining: q.remaining,
      seenAt: now,
      countedSince: 0,
      ...(q.limit !== undefined ? { limit: q.limit } : {}),
      ...(q.windowMs !== undefined ? { windowMs: q.windowMs } : {}),
      ...(q.resetMs !== undefined ? { resetAt: now + q.resetMs } : {}),
    };
  }

  /** The live reading while it can still be true: before its reset, within its window. */
  private freshLive(now: number): LiveQuota | undefined {
    const l = this.live;
    if (!l) return undefined;
    if (l.resetAt !== undefined ? now >= l.resetAt : now >= l.seenAt + (l.windowMs ?? UNKNOWN_RESET_MS)) {
      this.live = undefined;
      return undefined;
    }
    return l;
  }

  private quotaHold(now: number, pull: boolean): Hold | undefined {
    const why = this.settings.pullsOnly ? 'pulls' : 'quota';
    const live = this.freshLive(now);
    if (live) {
      if (live.remaining - live.countedSince > 0) return undefined;
      return { until: this.liveResetAt(live), why, ...(live.limit !== undefined ? { limit: live.limit } : {}) };
    }
    const budget = this.settings.pullBudget;
    if (!budget || !pull) return undefined;
    while (this.pulls.length && this.pulls[0]! <= now - budget.windowMs) this.pulls.shift();
    if (this.pulls.length < budget.count) return undefined;
    return { until: this.pulls[this.pulls.length - budget.count]! + budget.windowMs, why: 'pulls', limit: budget.count };
  }

  /**
   * When a used-up allowance is back: the reset it announced; else (Docker
   * Hub's rolling window) when, on average, one request leaves the window
   * (w / limit after the reading: 216 s for 100 per 6 h), when a fresher
   * reading, from any HEAD, may lift the hold sooner.
   */
  private liveResetAt(l: LiveQuota): number {
    if (l.resetAt !== undefined) return l.resetAt;
    if (l.windowMs !== undefined && l.limit) return l.seenAt + l.windowMs / l.limit;
    return l.seenAt + (l.windowMs ?? UNKNOWN_RESET_MS);
  }
}

/**
 * The pull budget of `host`: `registries.<host>.pullLimit`, each field left
 * out taken from Docker Hub's published limits (200 pulls per 6 h with
 * credentials configured, 100 anonymous; the count only for docker.io);
 * count 0 or no count: none. "With credentials" is read from the config
 * (a credentials file that lacks docker.io still counts): the live headers
 * correct it after the first answer.
 */
export function pullBudgetFor(config: FerryConfig, host: string): PullBudget | undefined {
  const rc = registryConfigFor(config, host);
  const authenticated = !!(rc?.username || rc?.credentialsFile || rc?.credentialsFromPods);
  const hubCount = isDockerHub(host) ? (authenticated ? DOCKER_HUB_AUTHENTICATED_PULLS : DOCKER_HUB_ANONYMOUS_PULLS) : undefined;
  const count = rc?.pullLimit?.count ?? hubCount;
  if (!count) return undefined;
  return { count, windowMs: (rc?.pullLimit?.windowSeconds ?? DOCKER_HUB_WINDOW_SECONDS) * 1000 };
}

/** The gate settings of `host` under `config`. */
export function gateSettingsFor(config: FerryConfig, host: string): GateSettings {
  const pullBudget = pullBudgetFor(config, host);
  return { pullsOnly: isDockerHub(host) || registryConfigFor(config, host)?.pullLimit !== undefined, pullBudget };
}
