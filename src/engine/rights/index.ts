export { type KarightsOptions, runKarights } from '../../client/rights/karights.js';
export { checkRights, hasRight } from './check.js';
export { addRights, listRights, removeRights } from './rights-service.js';
export { assertPartition, assertSiteNodes, PARTITION_RE } from './validate.js';
