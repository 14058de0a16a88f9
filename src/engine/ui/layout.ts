import { type Html, html } from './html.js';
import type { UiSession } from './sessions.js';

const NAV: ReadonlyArray<[string, string, boolean]> = [
  ['/ui/nodes', 'Nodes', false],
  ['/ui/operations', 'Operations', false],
  ['/ui/environments', 'Environments', false],
  ['/ui/stats', 'Statistics', false],
  ['/ui/restores', 'OAR restores', true],
];

export interface PageParts {
  title: string;
  site: string;
  body: Html;
  /** The logged-in user (no session: the login page). */
  who?: { session: UiSession; admin: boolean };
  /** Module scripts from /ui/static. */
  scripts?: readonly string[];
  /** Classic scripts (uPlot's, which defines a global), run before the modules. */
  classic?: readonly string[];
  styles?: readonly string[];
}

/** The page around every view: readable as it is, scripts only add live updates and charts. */
export function page(p: PageParts): string {
  const nav = p.who
    ? html`<nav>${NAV.filter(([, , admin]) => !admin || p.who?.admin).map(
        ([href, label]) => html`<a href="${href}">${label}</a>`,
      )}<form method="post" action="/ui/logout" class="logout"><input type="hidden" name="csrf" value="${p.who.session.csrf}"><span>${p.who.session.user}${p.who.admin ? ' (admin)' : ''}</span> <button type="submit">Log out</button></form></nav>`
    : html``;
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${p.title} - kaploy ${p.site}</title>
<link rel="stylesheet" href="/ui/static/ui.css">${(p.styles ?? []).map((s) => html`<link rel="stylesheet" href="${s}">`)}
${(p.classic ?? []).map((s) => html`<script src="${s}" defer></script>`)}${(p.scripts ?? []).map((s) => html`<script src="${s}" type="module"></script>`)}
</head><body><header><h1><a href="/ui/nodes">kaploy</a> <span class="site">${p.site}</span></h1>${nav}</header>
<main><h2>${p.title}</h2>${p.body}</main></body></html>
`.text;
}

/** A date of the engine (ms) as the pages show it: UTC, to the second. */
export function when(ms: number | null | undefined): string {
  if (!ms) return '';
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
}

/** A CSS class for a node or operation state: known names only, so a value never makes a class. */
export function stateClass(state: string): string {
  return /^[a-z_]{1,32}$/.test(state) ? `st-${state}` : 'st-other';
}
