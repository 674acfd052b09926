/**
 * Where the event recorder writes: core/v1 Events through client-node's
 * generated CoreV1Api (its kubeconfig auth, TLS and serializer), over a
 * transport with a deadline. client-node's own transport (node-fetch) has
 * none and takes no AbortSignal, so against an API server that accepts and
 * never answers every write would hold a socket forever.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { createGunzip } from 'node:zlib';
import type { KubeClient, KubeModule } from './client.js';
import type { InvolvedObject, EventType } from './event-cache.js';

/** A core/v1 Event as the recorder writes it. */
export interface EventWrite {
  namespace: string;
  name: string;
  involvedObject: InvolvedObject;
  type: EventType;
  reason: string;
  message: string;
  count: number;
  firstTimestamp: Date;
  lastTimestamp: Date;
  /** `source.component` and `reportingComponent`. */
  component: string;
  /** `reportingInstance`: which ferry process. */
  instance: string;
}

/** An API answer other than 2xx; `status` absent for transport errors and timeouts. */
export interface SinkError extends Error {
  status?: number;
}

export interface EventSink {
  create(e: EventWrite): Promise<void>;
  /** Bumps `count` and `lastTimestamp` of an existing Event (404 when it expired). */
  bump(namespace: string, name: string, count: number, lastTimestamp: Date): Promise<void>;
}


const MAX_RESPONSE_BYTES = 1 << 20;

/** client-node's PromiseHttpLibrary over node's http/https with an overall deadline per request; asks for gzip as node-fetch does (the API server compresses big lists). */
function deadlineTransport(k8s: KubeModule, timeoutMs: number, maxResponseBytes: number) {
  return k8s.wrapHttpLibrary({
    send: (ctx) =>
      new Promise((resolve, reject) => {
        const url = new URL(ctx.getUrl());
        const body = ctx.getBody();
        if (body !== undefined && typeof body !== 'string') return reject(new Error('event sink: only JSON bodies are sent'));
        const request = url.protocol === 'https:' ? https.request : http.request;
        const asked = { 'accept-encoding': 'gzip', ...ctx.getHeaders() };
        const req = request(url, { method: ctx.getHttpMethod(), headers: asked, agent: ctx.getAgent() }, (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          // A destroyed request (deadline, size) fails through req's 'error'.
          const content = res.headers['content-encoding'] === 'gzip' ? res.pipe(createGunzip()) : res;
          content.on('data', (c: Buffer) => {
            size += c.length;
            if (size > maxResponseBytes) req.destroy(new Error('Kubernetes API answer too large'));
            else chunks.push(c);
          });
          res.on('error', reject);
          content.on('error', reject);
          content.on('end', () => {
            clearTimeout(timer);
            const buf = Buffer.concat(chunks);
            const headers: Record<string, string> = {};
            for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
            resolve(new k8s.ResponseContext(res.statusCode ?? 0, headers, { text: async () => buf.toString('utf8'), binary: async () => buf }));
          });
        });
        const timer = setTimeout(() => req.destroy(new Error(`Kubernetes API did not answer within ${timeoutMs} ms`)), timeoutMs);
        timer.unref();
        req.on('error', (e) => {
          clearTimeout(timer);
          reject(e);
        });
        req.end(body);
      }),
  });
}

/**
 * A CoreV1Api on the process's Kubernetes client (its auth and TLS) whose
 * every request is bounded by `timeoutMs` and destroyed past it (client-node
 * ignores a per-call transport, so this is a client of its own).
 */
export function coreApiWithDeadline(client: KubeClient, opts: { timeoutMs: number; maxResponseBytes?: number }): InstanceType<KubeModule['CoreV1Api']> {
  const { k8s, config } = client;
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  return new k8s.CoreV1Api(
    k8s.createConfiguration({
      baseServer: new k8s.ServerConfiguration(cluster.server, {}),
      authMethods: { default: config },
      httpApi: deadlineTransport(k8s, opts.timeoutMs, opts.maxResponseBytes ?? MAX_RESPONSE_BYTES),
    }),
  );
}

/** Writes core/v1 Events with the process's Kubernetes client, each request bounded by `timeoutMs`. */
export function kubeEventSink(client: KubeClient, opts: { timeoutMs: number }): EventSink {
  const { k8s } = client;
  const core = coreApiWithDeadline(client, opts);
  // The generated client prefers json-patch; a merge patch says "set these two fields" without reading first.
  const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
  return {
    async create(e) {
      const ref = { kind: e.involvedObject.kind, name: e.involvedObject.name, namespace: e.involvedObject.namespace ?? e.namespace };
      await core.createNamespacedEvent({
        namespace: e.namespace,
        body: {
          metadata: { name: e.name, namespace: e.namespace },
          involvedObject: {
            ...ref,
            ...(e.involvedObject.uid ? { uid: e.involvedObject.uid } : {}),
            ...(e.involvedObject.apiVersion ? { apiVersion: e.involvedObject.apiVersion } : {}),
          },
          type: e.type,
          reason: e.reason,
          message: e.message,
          count: e.count,
          firstTimestamp: e.firstTimestamp,
          lastTimestamp: e.lastTimestamp,
          source: { component: e.component },
          reportingComponent: e.component,
          reportingInstance: e.instance,
        },
      });
    },
    async bump(namespace, name, count, lastTimestamp) {
      await core.patchNamespacedEvent({ namespace, name, body: { count, lastTimestamp: lastTimestamp.toISOString() } }, mergePatch);
    },
  };
}
