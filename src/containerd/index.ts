/** Image archives straight into a node's containerd (docs/agent-import.md). Public face only. */
export { connectContainerd, type ContainerdImages } from './client.js';
export type { ImportedNodeImage } from './import-archive.js';
export { CONTAINERD_ERROR_TABLE, CONTAINERD_ERROR_CODES } from './errors.js';
