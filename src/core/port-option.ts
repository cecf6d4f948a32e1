/**
 * The one port validator of the command lines (`npm start`'s server options and `npm run stack`):
 * a TCP port is a whole number from 1 to 65535, written in decimal digits only (no "0x10", "1e3",
 * " 80" or "" that Number() would quietly accept).
 */
export class PortOptionError extends Error {}

export function parsePortOption(flag: string, value: string | undefined): number {
  const n = value !== undefined && /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new PortOptionError(`${flag} must be a port number from 1 to 65535, got "${value ?? ''}"`);
  return n;
}
