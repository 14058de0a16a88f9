/**
 * CSV (formula) injection: a spreadsheet opening the CSV runs a cell that starts with = + - @
 * (and, for some, tab or carriage return) as a formula. An error message is free text from a
 * node, so such a value is prefixed with a single quote, as OWASP advises; spreadsheets show the
 * quote-prefixed text as text. Plain numbers (including negative ones) are left alone.
 */
const NUMBER_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

export function neutraliseFormula(value: string): string {
  if (value === '') return value;
  const c = value.charCodeAt(0);
  // = + - @ TAB CR
  if (c !== 61 && c !== 43 && c !== 45 && c !== 64 && c !== 9 && c !== 13) return value;
  return NUMBER_RE.test(value) ? value : `'${value}`;
}
