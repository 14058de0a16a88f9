// The test images and their descriptions, for the virtual site and the tests that build them.
export { ensureTestImages, type TestImages } from './build-images.js';
export { writeEnvDescriptions } from './env-descriptions.js';
export { installTestImages } from './install-images.js';
