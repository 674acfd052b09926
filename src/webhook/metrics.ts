import { Counter, Gauge, Histogram } from 'prom-client';

export const admissions = new Counter({
  name: 'ferry_webhook_admissions_total',
  help: 'AdmissionReviews answered, by webhook (mutate, validate) and outcome (patched, allowed, denied, static, ignored, invalid, error).',
  labelNames: ['webhook', 'outcome'],
});
export const rewrites = new Counter({
  name: 'ferry_webhook_rewrites_total',
  help: 'Images (containers and image volumes) rewritten to the mirror.',
});
export const admissionSeconds = new Histogram({
  name: 'ferry_webhook_admission_seconds',
  help: 'Time spent deciding an admission (parse to answer), seconds, by webhook (mutate, validate).',
  labelNames: ['webhook'],
  buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25],
});
export const enqueueBuffer = new Gauge({
  name: 'ferry_webhook_enqueue_buffer_depth',
  help: 'Images waiting in memory to be enqueued (grows while Redis is unreachable).',
});
export const enqueueDropped = new Counter({
  name: 'ferry_webhook_enqueue_dropped_total',
  help: 'Images dropped from a full enqueue buffer (re-enqueued on their next admission).',
});
