export { decodeReview, review, reviewJson, type AdmissionRequest, type AdmissionResponse, type AdmissionReviewOut, type Pod } from './admission.js';
export { handleAdmission, type HandleDeps, type HandleResult } from './handle.js';
export { buildPatch } from './patch.js';
export { createWebhookServer, type WebhookDeps } from './server.js';
export { startWebhook, type WebhookRole } from './role.js';
export { servingCert } from './certs.js';
export { startNamespaceCache, configOnlyNamespaces, type NamespaceCache } from './namespaces.js';
