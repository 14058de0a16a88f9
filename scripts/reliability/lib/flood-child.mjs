// A child process holding idle connections (one process holds at most its file-descriptor limit):
// node flood-child.mjs PORT COUNT HOLD_MS ADDRESS... opens COUNT connections that send nothing,
// holds them HOLD_MS, prints their summary as JSON and exits.
import { openIdle } from '../../../bench/lib/idle-flood.mjs';

const [port, n, holdMs, ...addresses] = process.argv.slice(2);
const f = await openIdle(Number(port), addresses, Number(n));
setTimeout(() => {
  process.stdout.write(`${JSON.stringify(f.summary())}\n`);
  f.close();
  process.exit(0);
}, Number(holdMs));
