// The virtual site as tests and benches drive it (the kaploy testbed commands, as functions).
export { testbedDown } from './manager/down.js';
export { testbedLayout } from './manager/layout.js';
export { testbedFault, testbedStatus } from './manager/status.js';
export { testbedUp } from './manager/up.js';
