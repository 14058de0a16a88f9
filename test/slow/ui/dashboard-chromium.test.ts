import { launchChromium } from './helpers/browser-driver.js';
import { describeDashboard } from './helpers/dashboard-scenarios.js';

// The dashboard's scenarios (helpers/dashboard-scenarios.ts) in Debian's Chromium, headless.
describeDashboard(launchChromium, { name: 'Chromium', scriptsOff: true });
