export {
  defaultCacheDir,
  ensureTestImages,
  imageFiles,
  PROD,
  type TestImages,
  TINY,
} from './build-images.js';
export {
  keyValueDescription,
  type TestEnvironment,
  testEnvironments,
  writeEnvDescriptions,
  yamlDescription,
} from './env-descriptions.js';
export { installTestImages } from './install-images.js';
export { fakeKernel, type RootfsSpec } from './rootfs-tree.js';
