// The virtual node: public API for the testbed manager (src/testbed/manager) and tests.
export type { Fault, NodeState, NodeStatus, RebootLevel, VirtualNodeOptions } from './types.js';
export { VirtualNode } from './virtual-node.js';
