// Loaded with `--require` into the virtual site's engine and node daemon by
// `bench/deploy-scale.mjs --profile DIR` (NODE_OPTIONS refuses --cpu-prof). The first SIGUSR2
// starts the V8 sampling profiler, the second stops it and writes DIR/<role>-<pid>.cpuprofile, so
// the profile covers the deployment and not the site's start.
const { Session } = require('node:inspector');
const { writeFileSync } = require('node:fs');
const path = require('node:path');

const dir = process.env.KAPLOY_BENCH_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  let running = false;
  const role = process.argv.some((a) => a.endsWith('daemon-main.js')) ? 'daemon' : 'engine';
  process.on('SIGUSR2', () => {
    if (!running) {
      running = true;
      session.post('Profiler.enable', () =>
        session.post('Profiler.setSamplingInterval', { interval: 1000 }, () =>
          session.post('Profiler.start'),
        ),
      );
      return;
    }
    running = false;
    session.post('Profiler.stop', (err, res) => {
      if (!err)
        writeFileSync(path.join(dir, `${role}-${process.pid}.cpuprofile`), JSON.stringify(res.profile));
    });
  });
}
