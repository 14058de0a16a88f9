export type { Fault, NodeState, NodeStatus, RebootLevel, VirtualNodeOptions } from './types.js';
export { VirtualNode } from './virtual-node.js';
