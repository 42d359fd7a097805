import { styleText } from 'node:util';
import { UsageError } from './command.js';

/** A text format `styleText` understands (`'red'`, `['bold', 'green']`, ...). */
export type Format = Parameters<typeof styleText>[0];

/** One output stream, with colour decided once for it. */
export interface Printer {
  /** Whether this stream gets ANSI colours. */
  readonly color: boolean;
  line(text?: string): void;
  /** `text` in `format` when colour is on, unchanged otherwise. */
  paint(format: Format, text: string): string;
}

/** What a command may touch of the process: its two output streams, stdin and the environment. */
export interface Io {
  readonly out: Printer;
  readonly err: Printer;
  readonly env: NodeJS.ProcessEnv;
  /** True when stdin is a terminal, i.e. `-` would wait for typing. */
  readonly stdinIsTTY: boolean;
  readStdin(): Promise<string>;
}

/**
 * Colour only where a person reads it: a terminal, unless NO_COLOR is set to anything non-empty
 * (https://no-color.org) or the terminal says it cannot show colour (`TERM=dumb`). Piped output
 * stays plain so that `grep`, `jq` and log files never see escape codes.
 */
export function colorEnabled(stream: { readonly isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

function printer(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): Printer {
  const color = colorEnabled(stream, env);
  return {
    color,
    line(text = '') {
      stream.write(`${text}\n`);
    },
    // The decision is made above, per stream; `validateStream: false` stops newer Node versions
    // from second-guessing it against process.stdout when this printer writes to stderr.
    paint: (format, text) => (color ? styleText(format, text, { validateStream: false }) : text),
  };
}

/** Largest stdin accepted: far above any token or payload, low enough not to exhaust memory. */
const STDIN_LIMIT = 16 * 1024 * 1024;

async function readAll(stream: NodeJS.ReadStream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += bytes.length;
    if (size > STDIN_LIMIT) throw new UsageError(`stdin is larger than ${STDIN_LIMIT / 1024 / 1024} MiB.`);
    chunks.push(bytes);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function processIo(): Io {
  const env = process.env;
  return {
    out: printer(process.stdout, env),
    err: printer(process.stderr, env),
    env,
    stdinIsTTY: process.stdin.isTTY === true,
    readStdin: () => readAll(process.stdin),
  };
}

/** Pretty JSON, the one format both human and `--json` output use for claims. */
export const pretty = (value: unknown): string => JSON.stringify(value, null, 2);
