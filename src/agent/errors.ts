/**
 * The node agent's error table (`FERRY_ERR_AGENT_<WHAT>`), docs/agent.md.
 * The runtime's own errors keep their areas (src/cri: CRI, src/containerd);
 * these are the agent's dealings with its Node object and its own setup.
 */
import { defineErrors } from '../errors.js';

export const AGENT_ERROR_TABLE = defineErrors('AGENT', {
  NODE_NOT_FOUND: {
    meaning: "the agent's Node object does not exist (or the name it was given is not a node's)",
    hint: 'set NODE_NAME from the downward API (env valueFrom fieldRef spec.nodeName), as deploy/components/agent does; the agent must run on the node it names',
    status: 404,
  },
  NODE_UNREADABLE: {
    meaning: "the agent could not read its Node object (API unreachable, forbidden, or timed out), so it cannot match agent.prepull nodeSelectors or see the startup taint",
    hint: 'give the agent ServiceAccount `get` on nodes (ClusterRole ferry-agent in deploy/components/agent) and check the pod reaches the API server; the agent retries on its next resync',
    status: 502,
    transient: true,
  },
  TAINT_FAILED: {
    meaning: 'the agent could not remove agent.startupTaint from its node (forbidden, API unreachable, or the taints kept changing under it): the node stays tainted',
    hint: 'give the agent ServiceAccount `patch` on nodes (ClusterRole ferry-agent in deploy/components/agent); remove it by hand meanwhile: kubectl taint node <node> <key>-',
    status: 502,
    transient: true,
  },
});

export const AGENT_ERROR_CODES = AGENT_ERROR_TABLE.codes;
