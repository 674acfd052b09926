/** `ferry_import_*` metrics (prom-client's global registry, module singletons). */
import { Counter, Gauge, Histogram, register } from 'prom-client';

function once<T>(name: string, make: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? make();
}

import type { FileResult } from '../folder-watch/index.js';

export const importFiles = once(
  'ferry_import_files_total',
  () => new Counter({ name: 'ferry_import_files_total', help: 'Archive files handled by the importer, by result', labelNames: ['result'] as const }),
);

export const importBytes = once(
  'ferry_import_bytes_pushed_total',
  () => new Counter({ name: 'ferry_import_bytes_pushed_total', help: 'Blob bytes uploaded to the mirror by the importer (skipped blobs not counted)' }),
);

export const importBlobs = once(
  'ferry_import_blobs_total',
  () => new Counter({ name: 'ferry_import_blobs_total', help: 'Blobs handled by the importer: pushed, or skipped because the mirror had them', labelNames: ['result'] as const }),
);

export const importDuration = once(
  'ferry_import_duration_seconds',
  () =>
    new Histogram({
      name: 'ferry_import_duration_seconds',
      help: 'Time to import one archive (both passes and all uploads)',
      labelNames: ['format'] as const,
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 1200],
    }),
);

export const importTracked = once(
  'ferry_import_files_tracked',
  () => new Gauge({ name: 'ferry_import_files_tracked', help: 'Files in import.dir the importer remembers (imported or failed)' }),
);

export const importPending = once(
  'ferry_import_files_pending',
  () => new Gauge({ name: 'ferry_import_files_pending', help: 'Files waiting to be stable or queued for import' }),
);
