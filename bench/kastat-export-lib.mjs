// Child of kastat-export.mjs: the library export of every row of FILE to /dev/null.
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { exportStatsCsv } from '../dist/stats/export-csv.js';
import { parseStatsQuery } from '../dist/stats/query.js';

const file = process.argv[2];
await pipeline(exportStatsCsv(file, parseStatsQuery({})), createWriteStream('/dev/null'));
