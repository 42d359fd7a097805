// Resolves the package's own name to its sources, so the browser suite runs examples/spa exactly
// as written (`import { jwtGuard } from 'jwtguard/express'`) against the code under test, never
// against a stale or half-rebuilt dist/. Loaded with `node --import tsx --import <this file>`.
import { register } from 'node:module';

register('./source-resolve.mjs', import.meta.url);
