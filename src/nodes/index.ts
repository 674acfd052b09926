/** What each node's `ferry agent` reports about itself, in Redis: written by the agent, read by the dashboard. Public face only. */
export * from './node-state.js';
