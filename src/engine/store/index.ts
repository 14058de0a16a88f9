export type { EnvironmentsRepo, StoredEnvironment } from './environments-repo.js';
export { MIGRATIONS, type Migration, runMigrations } from './migrations.js';
export type { NodeRow, NodeUpdate } from './nodes-repo.js';
export type { RightRow } from './rights-repo.js';
export { openStore, STORE_FILE, type Store, storePath } from './store.js';
export type { WorkflowRow } from './workflows-repo.js';
