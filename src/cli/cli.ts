#!/usr/bin/env node
/**
 * `jwtguard`: a local jwt.io for the terminal. Decodes tokens, verifies them with the
 * middleware's own rules (so "why was this token refused?" gets the same error code the
 * middleware sends), signs them, and makes keys and key sets. Every rule comes from the library
 * (verifyToken, signToken, normalizeOptions); this file only dispatches.
 *
 * @packageDocumentation
 */
import { readFileSync } from 'node:fs';
import { JwtGuardError } from '../core/errors/jwt-guard-error.js';
import { decode } from './commands/decode.js';
import { jwks } from './commands/jwks.js';
import { keygen } from './commands/keygen.js';
import { sign } from './commands/sign.js';
import { verify } from './commands/verify.js';
import { EXIT, UsageError, parse, type Command } from './support/command.js';
import { pretty, processIo, type Io } from './support/io.js';

const COMMANDS: readonly Command[] = [decode, verify, sign, keygen, jwks];

function version(): string {
  try {
    // dist/esm/cli/cli.js → the package's package.json.
    return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

const HELP = `Usage: jwtguard <command> [options]

A local jwt.io: tokens and keys stay on this machine, and verification applies the middleware's own rules.

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(8)} ${c.summary}`).join('\n')}

Every command takes --json (machine-readable output) and --help (options and examples).
Tokens and payloads can be read from stdin with "-".

Examples:
  pbpaste | jwtguard decode -
  jwtguard verify "$TOKEN" --secret env:JWT_SECRET --alg HS512
  jwtguard keygen --alg ES256 --out es256 && jwtguard jwks es256.pub.pem > jwks.json

Exit codes: 0 success, 1 token refused or undecodable, 2 bad usage.
More: docs/cli.md in the package (node_modules/jwtguard/docs/cli.md).
`;

function usageFailure(io: Io, command: string, error: UsageError, json: boolean): number {
  if (json) io.out.line(pretty({ error: { code: error.code, message: error.message } }));
  io.err.line(`${io.err.paint('red', `jwtguard${command === '' ? '' : ` ${command}`}:`)} ${error.message}`);
  io.err.line(io.err.paint('dim', `Run "jwtguard${command === '' ? '' : ` ${command}`} --help" for usage.`));
  return EXIT.usage;
}

/** Runs one command line and returns the exit code. Never throws. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined) {
    io.err.line(HELP);
    return EXIT.usage;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    const topic = COMMANDS.find((c) => c.name === args[0]);
    io.out.line(topic?.help ?? HELP);
    return EXIT.ok;
  }
  if (name === '--version' || name === '-v') {
    io.out.line(version());
    return EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  const json = args.includes('--json');
  if (command === undefined) {
    return usageFailure(io, '', new UsageError(`unknown command ${JSON.stringify(name)}; the commands are ${COMMANDS.map((c) => c.name).join(', ')}.`), json);
  }
  try {
    const parsed = parse(command, args);
    if (parsed.values.help === true) {
      io.out.line(command.help);
      return EXIT.ok;
    }
    return await command.run(parsed, io);
  } catch (error) {
    if (error instanceof UsageError) return usageFailure(io, command.name, error, json);
    // The library's errors carry a code and a message that never holds a key or a token.
    if (error instanceof JwtGuardError) {
      if (json) io.out.line(pretty({ error: { code: error.code, message: error.message } }));
      io.err.line(`${io.err.paint(['bold', 'red'], `✖ ${error.code}`)}  ${error.message}`);
      return EXIT.refused;
    }
    // Anything else is a bug; its message is shown without a stack. Key material is only ever
    // handed to the library and jose, whose messages do not quote it.
    io.err.line(`${io.err.paint('red', `jwtguard ${command.name}: unexpected error:`)} ${error instanceof Error ? error.message : String(error)}`);
    return EXIT.refused;
  }
}

/** Exits once stdout and stderr have flushed, so piped output is never cut short. */
function exit(code: number): void {
  let pending = 2;
  const done = (): void => {
    pending -= 1;
    if (pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}

// Top-level await is avoided so the module also loads where it is converted to CommonJS.
main(process.argv.slice(2), processIo()).then(exit, (error: unknown) => {
  process.stderr.write(`jwtguard: ${error instanceof Error ? error.message : String(error)}\n`);
  exit(EXIT.refused);
});
