import { parseArgs } from 'node:util';
import type { Io } from './io.js';

/** Exit codes, the same for every command. */
export const EXIT = {
  /** The command did what was asked (a token verified, a key written, ...). */
  ok: 0,
  /** The token was refused or could not be decoded. */
  refused: 1,
  /** Bad usage: unknown flag, unreadable file, invalid JSON, options the library rejects. */
  usage: 2,
} as const;

/**
 * Bad usage, answered with exit code 2. Messages name flags and files, never the values of
 * `--secret` or the contents of key files.
 */
export class UsageError extends Error {
  /** A stable code for `--json` output: `usage`, or the library's `invalid_options`. */
  readonly code: string;
  constructor(message: string, code = 'usage') {
    super(message);
    this.code = code;
  }
}
Object.defineProperty(UsageError.prototype, 'name', { value: 'UsageError' });

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
}

export type Values = Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;

export interface Parsed {
  readonly values: Values;
  readonly positionals: readonly string[];
  /** `--json`: machine-readable output on stdout, for success and for failure. */
  readonly json: boolean;
}

export interface Command {
  readonly name: string;
  /** One line for `jwtguard --help`. */
  readonly summary: string;
  /** The full `--help` text: usage, options, examples, exit codes. */
  readonly help: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  run(parsed: Parsed, io: Io): Promise<number>;
}

/** Options every command takes. */
export const GLOBAL_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

/**
 * Strict parsing: an unknown or misspelt flag is an error, never silently ignored (a misspelt
 * `--aud` would otherwise verify without the audience check). Node's messages name the flag
 * only, never a value, so a secret typed after a misspelt flag is not echoed.
 */
export function parse(command: Command, args: readonly string[]): Parsed {
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      options: { ...command.options, ...GLOBAL_OPTIONS },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Values, positionals, json: values.json === true };
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const name = /'([^']*)'/.exec(message)?.[1] ?? '';
      throw new UsageError(`unknown option ${name}.`);
    }
    throw new UsageError(message.replace(/\n/g, ' '));
  }
}

export const str = (values: Values, name: string): string | undefined => {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
};

export const list = (values: Values, name: string): string[] => {
  const value = values[name];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
};

export const flag = (values: Values, name: string): boolean => values[name] === true;

/** The one positional a command takes, or `undefined`; more than one is a usage error that does not echo them (one may be a token). */
export function singlePositional(positionals: readonly string[], what: string): string | undefined {
  if (positionals.length > 1) throw new UsageError(`expected one ${what} argument, got ${positionals.length}. Quote a value that contains spaces.`);
  return positionals[0];
}
