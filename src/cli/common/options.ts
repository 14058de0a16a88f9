import { InvalidArgumentError } from 'commander';

/** Shared commander option parsers. */
export const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

export function intInRange(min: number, max: number) {
  return (v: string): number => {
    if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    const n = Number(v);
    if (n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    return n;
  };
}
