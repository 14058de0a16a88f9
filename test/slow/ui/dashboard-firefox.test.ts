import { launchFirefox } from './helpers/browser-driver.js';
import { describeDashboard } from './helpers/dashboard-scenarios.js';

// The dashboard's scenarios (helpers/dashboard-scenarios.ts) in Debian's Firefox ESR, headless, over WebDriver BiDi.
describeDashboard(launchFirefox, { name: 'Firefox', scriptsOff: false });
