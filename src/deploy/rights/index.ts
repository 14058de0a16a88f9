export { checkRights, hasRight } from './check.js';
export { type KarightsOptions, runKarights } from './karights.js';
export { addRights, listRights, removeRights } from './rights-service.js';
export { assertPartition, assertSiteNodes, PARTITION_RE } from './validate.js';
