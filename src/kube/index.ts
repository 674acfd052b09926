/** Talking to the Kubernetes API (loaded only where a cluster is configured). Public face only. */
export { connectKube, hasCluster, type KubeClient, type KubeModule } from './client.js';
