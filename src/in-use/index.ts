/** The in-use index: which pods run which image (SPEC "Cluster awareness"). Public face only. */
export * from './types.js';
export { InUseStore } from './store.js';
