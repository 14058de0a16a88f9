#!/usr/bin/env node
// Part of `npm run build`: the dashboard's static files (plain CSS and ES modules, no build step of
// their own) are copied beside the compiled code, so the package ships them in dist/.
import { cpSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
cpSync(path.join(root, 'src/engine/ui/static'), path.join(root, 'dist/engine/ui/static'), { recursive: true });
