import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { notFound } from '../server/http-errors.js';

/** The dashboard's own files (copied beside the compiled code by the build) and uPlot's. */
const STATIC_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'static');
// uPlot's main file is in its dist/, beside the browser builds.
const UPLOT_DIR = path.dirname(fileURLToPath(import.meta.resolve('uplot')));

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** The files served, by name: a fixed list, so no request names a path of the engine's disk. */
const FILES: Record<string, string> = {
  'ui.css': path.join(STATIC_DIR, 'ui.css'),
  'live.js': path.join(STATIC_DIR, 'live.js'),
  'stats.js': path.join(STATIC_DIR, 'stats.js'),
  'uPlot.iife.min.js': path.join(UPLOT_DIR, 'uPlot.iife.min.js'),
  'uPlot.min.css': path.join(UPLOT_DIR, 'uPlot.min.css'),
};

/** GET /ui/static/:file, read once (they ship with the package and are small: about 60 kB in all). */
export function staticRoutes(app: FastifyInstance): void {
  const cache = new Map<string, Buffer>();
  app.get<{ Params: { file: string } }>(
    '/ui/static/:file',
    {
      schema: {
        hide: true,
        params: { type: 'object', properties: { file: { type: 'string', maxLength: 64 } } },
      },
    },
    async (request, reply) => {
      const name = request.params.file;
      const file = Object.hasOwn(FILES, name) ? FILES[name] : undefined;
      if (!file) throw notFound('KAPLOY_NOT_FOUND', 'no such dashboard file');
      let body = cache.get(name);
      if (!body) {
        body = readFileSync(file);
        cache.set(name, body);
      }
      return reply
        .type(TYPES[path.extname(name)] ?? 'application/octet-stream')
        .header('cache-control', 'max-age=3600')
        .send(body);
    },
  );
}
