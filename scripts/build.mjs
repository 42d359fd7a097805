// Builds dist/esm (tsc: JavaScript + declarations) and dist/cjs (the same modules converted to
// CommonJS by esbuild, file for file, so both formats share one module graph each).
import { transformSync } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
rmSync('dist', { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
writeFileSync('dist/esm/package.json', '{ "type": "module" }\n');

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

// The `jwtguard` command (package.json "bin") runs as ESM only: a CommonJS copy would never be used.
const cli = join('dist/esm', 'cli');
for (const file of walk('dist/esm')) {
  if (file.startsWith(`${cli}/`)) continue;
  const target = join('dist/cjs', relative('dist/esm', file));
  mkdirSync(dirname(target), { recursive: true });
  if (file.endsWith('.js')) {
    const { code } = transformSync(readFileSync(file, 'utf8'), { format: 'cjs', target: 'node20', platform: 'node', sourcefile: file });
    writeFileSync(target, code);
  } else if (file.endsWith('.d.ts')) {
    cpSync(file, target);
  }
}
writeFileSync('dist/cjs/package.json', '{ "type": "commonjs" }\n');
// tsc keeps the `#!/usr/bin/env node` line; the executable bit lets `npm link` and ./dist/esm/cli/cli.js run it directly (npm sets it on install).
chmodSync(join(cli, 'cli.js'), 0o755);
console.log('built dist/esm and dist/cjs');
