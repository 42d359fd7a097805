// Colours on a terminal, and only there: the CLI runs under a pseudo-terminal made by `script`
// (util-linux), the way a person runs it. Without util-linux's `script` these tests are skipped
// with the reason, except under JWTGUARD_REQUIRE_PTY=1 (CI), where that is a failure.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { SignJWT } from 'jose';
import { STRONG_SECRET } from '../support/tokens.js';
import { cli, cliPath } from './support/cli.js';

const ESC = '\u001b[';
const ESC_PATTERN = '\\u001b\\[';
const version = spawnSync('script', ['--version'], { encoding: 'utf8' });
const missing = version.error !== undefined || !/util-linux/.test(version.stdout ?? '') ? 'needs `script` from util-linux (a pseudo-terminal); install util-linux' : false;
// CI sets JWTGUARD_REQUIRE_PTY=1: there a missing pseudo-terminal is a failure, never a skip.
if (missing !== false && process.env.JWTGUARD_REQUIRE_PTY === '1') throw new Error(`JWTGUARD_REQUIRE_PTY=1 but the terminal tests cannot run: ${missing}`);
const skip = missing;

const quote = (arg: string): string => `'${arg.replace(/'/g, `'\\''`)}'`;

interface TtyRun {
  code: number | null;
  output: string;
}

/** Runs the CLI with stdin, stdout and stderr on one pseudo-terminal; `input` is typed into it. */
function onTerminal(args: string[], env: Record<string, string | undefined> = {}, input = ''): Promise<TtyRun> {
  const command = [process.execPath, cliPath(), ...args].map(quote).join(' ');
  const childEnv: Record<string, string | undefined> = { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, TERM: 'xterm-256color', ...env };
  for (const key of Object.keys(childEnv)) if (childEnv[key] === undefined) delete childEnv[key];
  return new Promise((resolve, reject) => {
    // -q: no "Script started" banner; -e: exit with the command's code; /dev/null: no typescript file.
    const child = spawn('script', ['-qec', command, '/dev/null'], { env: childEnv as NodeJS.ProcessEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output: Buffer.concat(chunks).toString('utf8') }));
    child.stdin.end(input);
  });
}

const expired = (): Promise<string> => new SignJWT({ sub: 'u', exp: 1000 }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(STRONG_SECRET));

describe('colours on a terminal', { skip }, () => {
  test('decode: bold headings and a red "expired" on a TTY', async () => {
    const run = await onTerminal(['decode', await expired()]);
    assert.equal(run.code, 0, run.output);
    assert.ok(run.output.includes(`${ESC}1mHeader${ESC}22m`), JSON.stringify(run.output));
    assert.match(run.output, new RegExp(`${ESC_PATTERN}31mexpired \\d+ y ago${ESC_PATTERN}39m`));
  });

  test('verify: a red "✖ code" (stderr) on a TTY, exit 1 kept', async () => {
    const run = await onTerminal(['verify', await expired(), '--secret', 'env:JWT_TTY_SECRET'], { JWT_TTY_SECRET: STRONG_SECRET });
    assert.equal(run.code, 1, run.output);
    assert.ok(run.output.includes(`${ESC}1m${ESC}31m✖ token_expired`), JSON.stringify(run.output));
    assert.ok(!run.output.includes(STRONG_SECRET));
  });

  test('NO_COLOR (any non-empty value) turns colour off on a TTY', async () => {
    for (const value of ['1', 'true']) {
      const run = await onTerminal(['decode', await expired()], { NO_COLOR: value });
      assert.equal(run.code, 0, run.output);
      assert.match(run.output, /Header/);
      assert.ok(!run.output.includes(ESC), `NO_COLOR=${value}: ${JSON.stringify(run.output)}`);
    }
    const empty = await onTerminal(['decode', await expired()], { NO_COLOR: '' });
    assert.ok(empty.output.includes(ESC), 'an empty NO_COLOR does not count (no-color.org)');
  });

  test('TERM=dumb turns colour off', async () => {
    const run = await onTerminal(['decode', await expired()], { TERM: 'dumb' });
    assert.equal(run.code, 0, run.output);
    assert.ok(!run.output.includes(ESC), JSON.stringify(run.output));
  });

  test('"-" on a terminal: a prompt to end with Ctrl-D, then the typed token is read', async () => {
    const run = await onTerminal(['decode', '-'], {}, `Bearer ${await expired()}\n\u0004`);
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /Reading the token from stdin; end with Ctrl-D/);
    assert.match(run.output, /"sub": "u"/);
  });
});

describe('no colour when not on a terminal', () => {
  test('piped stdout and stderr stay plain for every command, success and failure', async () => {
    const token = await expired();
    for (const args of [['decode', token], ['verify', token, '-S', 'env:S'], ['sign', '-S', 'env:S'], ['keygen', '--alg', 'ES256'], ['keygen'], ['verify', token]]) {
      const run = await cli(args, { env: { S: STRONG_SECRET, TERM: 'xterm-256color' } });
      assert.ok(!run.stdout.includes(ESC) && !run.stderr.includes(ESC), `${args[0]}: ${JSON.stringify(run)}`);
    }
  });
});
