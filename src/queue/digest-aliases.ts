import type { ImageRecord } from './record.js';
import type { RecordFeed } from './record-feed.js';

/**
 * Which digests name the same image: a filtered index pushed under a new
 * digest (`copy.platformMode: strip`) leaves a record whose `digest` (what the
 * mirror serves) differs from its `sourceDigest` (what the upstream serves).
 * A block rule naming either must stop a pod naming the other, and a pod
 * naming the mirror's digest directly has no record under that key, so
 * admission asks this index (in memory, no Redis round trip).
 *
 * Edges are counted: several records (a tag and its digest reference, two
 * tags of one image) may hold the same pair, and removing one of them must
 * not drop the pair the others still hold.
 */
export class DigestAliases {
  /** digest -> other digest -> how many records hold that pair. */
  private readonly edges = new Map<string, Map<string, number>>();

  /** Rebuilt from `records` (a reload replaces every record at once). */
  reset(records: Iterable<Pick<ImageRecord, 'digest' | 'sourceDigest'>>): void {
    this.edges.clear();
    for (const r of records) this.add(r);
  }

  /** Counts the pair `record` holds, if its two digests differ. */
  add(record: Pick<ImageRecord, 'digest' | 'sourceDigest'> | undefined): void {
    const pair = pairOf(record);
    if (!pair) return;
    this.bump(pair[0], pair[1], 1);
    this.bump(pair[1], pair[0], 1);
  }

  /** Uncounts the pair `record` held (never below zero: a replayed event may remove what a reload never added). */
  remove(record: Pick<ImageRecord, 'digest' | 'sourceDigest'> | undefined): void {
    const pair = pairOf(record);
    if (!pair) return;
    this.bump(pair[0], pair[1], -1);
    this.bump(pair[1], pair[0], -1);
  }

  /** The other digests of `digest` (empty for one no filtered record names). */
  of(digest: string | null | undefined): string[] {
    const m = digest ? this.edges.get(digest) : undefined;
    return m ? [...m.keys()] : [];
  }

  get size(): number {
    return this.edges.size;
  }

  private bump(from: string, to: string, by: 1 | -1): void {
    let m = this.edges.get(from);
    if (!m) {
      if (by < 0) return;
      m = new Map();
      this.edges.set(from, m);
    }
    const n = (m.get(to) ?? 0) + by;
    if (n > 0) m.set(to, n);
    else m.delete(to);
    if (m.size === 0) this.edges.delete(from);
  }

  /** Keeps an index current from `feed`: built from what it holds now, then from its events and reloads. */
  static follow(feed: RecordFeed): DigestAliases {
    const aliases = new DigestAliases();
    aliases.reset(feed.values());
    feed.on('event', (ev, prev) => {
      // progress events change byte counts only, never digests
      if (ev.type === 'progress') return;
      aliases.remove(prev);
      if (ev.type === 'state') aliases.add(ev.record);
    });
    feed.on('reloaded', () => aliases.reset(feed.values()));
    return aliases;
  }
}

function pairOf(r: Pick<ImageRecord, 'digest' | 'sourceDigest'> | undefined): [string, string] | undefined {
  if (!r?.digest || !r.sourceDigest || r.digest === r.sourceDigest) return undefined;
  return [r.digest, r.sourceDigest];
}
