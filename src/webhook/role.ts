import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:https';
import { describeError } from '../errors.js';
import type { FastifyInstance } from 'fastify';
import { createEventRecorder, type EventRecorder } from '../kube/index.js';
import type { Role, RoleContext } from '../runtime/index.js';
import { servingCert } from './certs.js';
import { watchCertificate, type CertificateWatcher } from './cert-watch.js';
import { enqueueBuffer } from './metrics.js';
import { startNamespaceCache } from './namespaces.js';
import { DenialEvents } from './denial-event.js';
import { createWebhookServer } from './server.js';

export interface WebhookRole extends Role {
  app: FastifyInstance;
  url: string;
  caFile: string | undefined;
  /** Writes FerryDenied Events; undefined without a cluster or with kubernetes.events off. */
  events: EventRecorder | undefined;
}

/** `ferry webhook`: HTTPS admission endpoint + the producer behind it. */
export async function startWebhook(ctx: RoleContext): Promise<WebhookRole> {
  const config = ctx.config();
  const view = await ctx.stateView();
  const namespaces = await startNamespaceCache(ctx.logger, config.kubernetes.namespaceInformer);
  const tls = await servingCert(config.webhook.certFile, config.webhook.keyFile, join(tmpdir(), 'ferry', 'certs'));
  if (tls.caFile) {
    ctx.logger.warn({ caFile: tls.caFile }, 'webhook.certFile not set: serving a self-signed certificate (dev only); trust it with curl --cacert');
  }
  const events = await eventRecorder(ctx);
  ctx.addReadiness('imageStates', async () => ({ ok: view.isReady, detail: `${view.size} images known` }));
  const app = createWebhookServer({
    config: ctx.config,
    logger: ctx.logger,
    namespaces,
    lookup: (ref) => view.get(ref),
    aliases: (digest) => view.digestAliases(digest),
    enqueue: (req) => {
      view.noteQueued(req.ref);
      ctx.producer.enqueue(req);
      enqueueBuffer.set(ctx.producer.depth);
    },
    tls,
    readiness: ctx.readiness,
    ...(events ? { denialEvents: new DenialEvents(events) } : {}),
  });
  const address = await app.listen({ port: config.webhook.port, host: config.webhook.host });
  const certWatch = followCertificate(ctx, app.server as Server);
  ctx.logger.info({ url: `${address}/mutate` }, 'webhook listening');
  return {
    name: 'webhook',
    app,
    url: address,
    caFile: tls.caFile,
    events,
    async close() {
      certWatch?.close();
      await app.close();
      await events?.close();
      await namespaces.close();
    },
  };
}

/** The FerryDenied recorder, when there is a cluster and `kubernetes.events` is on (read at start). */
async function eventRecorder(ctx: RoleContext): Promise<EventRecorder | undefined> {
  if (!ctx.config().kubernetes.events) return undefined;
  try {
    const kube = await ctx.kube();
    return kube ? createEventRecorder(kube, ctx.logger) : undefined;
  } catch (e) {
    ctx.logger.warn({ err: describeError(e) }, 'cannot load the Kubernetes client: FerryDenied Events are off');
    return undefined;
  }
}

/** Reloads `webhook.certFile`/`keyFile` into the running server when either changes. */
function followCertificate(ctx: RoleContext, server: Server): CertificateWatcher | undefined {
  const { certFile, keyFile } = ctx.config().webhook;
  if (!certFile || !keyFile) return undefined;
  return watchCertificate(
    [certFile, keyFile],
    async () => {
      try {
        const tls = await servingCert(certFile, keyFile, '');
        server.setSecureContext({ key: tls.key, cert: tls.cert });
        ctx.logger.info({ certFile, keyFile }, 'webhook certificate reloaded');
      } catch (e) {
        ctx.logger.warn({ err: describeError(e) }, 'webhook certificate changed but could not be loaded; keeping the previous one');
      }
    },
    { onError: (e) => ctx.logger.debug({ err: describeError(e) }, 'webhook certificate watch error') },
  );
}
