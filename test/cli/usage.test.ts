// The command line itself: help, version, unknown commands and flags, and --json on usage errors.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { cli, json, root, show } from './support/cli.js';

const COMMANDS = ['decode', 'verify', 'sign', 'keygen', 'jwks'];

describe('jwtguard (no command)', () => {
  test('no arguments: the overview on stderr, exit 2', async () => {
    const run = await cli([]);
    assert.equal(run.code, 2);
    assert.equal(run.stdout, '');
    for (const command of COMMANDS) assert.match(run.stderr, new RegExp(`^ {2}${command} `, 'm'));
  });

  test('--help, -h and help: the overview on stdout, exit 0', async () => {
    for (const args of [['--help'], ['-h'], ['help']]) {
      const run = await cli(args);
      assert.equal(run.code, 0, show(run));
      assert.match(run.stdout, /^Usage: jwtguard <command>/);
      for (const command of COMMANDS) assert.match(run.stdout, new RegExp(`^ {2}${command} `, 'm'));
    }
  });

  test('--version: the package version', async () => {
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    const run = await cli(['--version']);
    assert.equal(run.code, 0);
    assert.equal(run.stdout, `${version}\n`);
  });

  test('an unknown command: exit 2, the commands listed; with --json also as JSON', async () => {
    const run = await cli(['encode', '--json']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /unknown command "encode"; the commands are decode, verify, sign, keygen, jwks/);
    assert.equal(json<{ error: { code: string } }>(run).error.code, 'usage');
  });
});

describe('per command', { concurrency: 4 }, () => {
  for (const command of COMMANDS) {
    test(`${command} --help / -h / help ${command}: usage, options, examples and exit codes, exit 0`, async () => {
      for (const args of [[command, '--help'], [command, '-h'], ['help', command]]) {
        const run = await cli(args);
        assert.equal(run.code, 0, show(run));
        assert.match(run.stdout, new RegExp(`^Usage: jwtguard ${command} `));
        assert.match(run.stdout, /\nExamples:\n {2}jwtguard /);
        assert.match(run.stdout, /\nExit codes: 0 /);
        assert.match(run.stdout, /--json/);
      }
    });

    test(`${command} with an unknown flag: exit 2 naming it`, async () => {
      const run = await cli([command, '--bogus-flag=value-not-echoed']);
      assert.equal(run.code, 2, show(run));
      assert.match(run.stderr, new RegExp(`^jwtguard ${command}: unknown option --bogus-flag\\.\\nRun "jwtguard ${command} --help" for usage\\.\\n$`));
      assert.ok(!run.stderr.includes('value-not-echoed'));
    });

    test(`${command} --json with bad usage: {"error":{"code","message"}} on stdout, exit 2`, async () => {
      const run = await cli([command, '--json', '--bogus-flag']);
      assert.equal(run.code, 2, show(run));
      assert.deepEqual(json(run), { error: { code: 'usage', message: 'unknown option --bogus-flag.' } });
    });
  }

  test('a flag missing its value: exit 2', async () => {
    const run = await cli(['verify', 'a.b.c', '--secret']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /argument missing/);
  });

  test('a value starting with "-" after a flag that takes one: exit 2, the value not echoed', async () => {
    const run = await cli(['verify', 'a.b.c', '--secret', '-dash-secret']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /ambiguous/);
    assert.ok(!run.stderr.includes('-dash-secret'));
  });
});
