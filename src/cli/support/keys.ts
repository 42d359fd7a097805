import { readFile } from 'node:fs/promises';
import type { JWK } from 'jose';
import { UsageError } from './command.js';
import { isObject } from './token.js';

/** The library's option names and the flags that set them, so its messages point at the flag to change. */
const FLAGS: Readonly<Record<string, string>> = {
  secret: '--secret',
  publicKey: '--public-key',
  privateKey: '--private-key',
  jwks: '--jwks',
  issuerBaseURL: '--issuer-base-url',
  algorithm: '--alg',
  algorithms: '--algorithms',
  issuer: '--iss',
  audience: '--aud',
  subject: '--sub',
  typ: '--typ',
  maxTokenAge: '--max-age',
  clockTolerance: '--clock-tolerance',
  currentDate: '--now',
  expiresIn: '--exp',
  notBefore: '--nbf',
  kid: '--kid',
};

/**
 * A library `invalid_options` message, with the flag named next to each option (`maxTokenAge`
 * → `maxTokenAge` (--max-age)). The library's messages never contain key material, so they are
 * safe to show as they are.
 */
export function withFlags(message: string): string {
  return message.replace(/^jwtguard: /, '').replace(/`([A-Za-z]+)(?::[^`]*)?`/g, (match: string, name: string) => (FLAGS[name] === undefined ? match : `${match} (${FLAGS[name]})`));
}

async function readBytes(path: string, flag: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'unreadable';
    throw new UsageError(`cannot read the ${flag} file ${JSON.stringify(path)} (${code}).`);
  }
}

/** The bytes as text when they are UTF-8 without control characters other than line ends, else `undefined`. */
function asText(bytes: Buffer): string | undefined {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    // eslint-disable-next-line no-control-regex -- exactly what is being looked for
    return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text) ? undefined : text;
  } catch {
    return undefined;
  }
}

/** JSON text parsed, with an error that never quotes the file (it may hold a private key). */
function parseKeyJson(text: string, flag: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`the ${flag} file ${JSON.stringify(path)} starts like JSON but is not valid JSON.`);
  }
}

/**
 * `--secret` in the forms jwt-cli users know, plus environment variables:
 * - `env:NAME`: the variable's value (keeps the secret out of shell history and `ps`);
 * - `@FILE`: the file: an `oct` JWK when it holds one, else its text without one trailing line
 *   break (what `echo secret > file` and `jwtguard keygen` write), else its raw bytes;
 * - `b64:...`: base64 or base64url bytes (jwt.io's "secret base64 encoded");
 * - anything else: the text itself, as `secret: process.env.JWT_SECRET` would pass it.
 * Errors name the form and the file or variable, never the value.
 */
export async function readSecret(spec: string, env: NodeJS.ProcessEnv): Promise<string | Uint8Array | JWK> {
  if (spec.startsWith('env:')) {
    const name = spec.slice(4);
    const value = env[name];
    if (name === '' || value === undefined || value === '') throw new UsageError(`--secret env:${name}: the environment variable ${JSON.stringify(name)} is not set or empty.`);
    return value;
  }
  if (spec.startsWith('b64:')) {
    const encoded = spec.slice(4).trim();
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(encoded)) throw new UsageError('--secret b64:...: the value is not base64 or base64url.');
    return new Uint8Array(Buffer.from(encoded, 'base64'));
  }
  if (spec.startsWith('@')) {
    const path = spec.slice(1);
    const bytes = await readBytes(path, '--secret');
    const text = asText(bytes);
    if (text === undefined) return new Uint8Array(bytes);
    if (text.trimStart().startsWith('{')) {
      const jwk = parseKeyJson(text, '--secret', path);
      if (isObject(jwk) && typeof jwk.kty === 'string') return jwk as JWK;
    }
    return text.replace(/\r?\n$/, '');
  }
  return spec;
}

/**
 * `--public-key` / `--private-key FILE`: a PEM (passed to the library as text) or a JWK JSON file.
 * A key set is refused with a pointer to `--jwks`, which is where sets go.
 */
export async function readKeyFile(path: string, flag: string): Promise<string | JWK> {
  const text = asText(await readBytes(path, flag));
  if (text === undefined) throw new UsageError(`the ${flag} file ${JSON.stringify(path)} is binary: pass a PEM or a JWK (JSON) file (convert DER with \`openssl pkey -inform der\`).`);
  if (!text.trimStart().startsWith('{')) return text;
  const json = parseKeyJson(text, flag, path);
  if (isObject(json) && Array.isArray(json.keys)) throw new UsageError(`the ${flag} file ${JSON.stringify(path)} holds a key set (JWKS): pass it with --jwks.`);
  if (!isObject(json) || typeof json.kty !== 'string') throw new UsageError(`the ${flag} file ${JSON.stringify(path)} is JSON but not a JWK (no "kty").`);
  return json as JWK;
}

/** `--jwks`: an http(s) URL is passed on for the library to fetch (and to refuse plain http beyond localhost); anything else is a file. */
export async function readJwks(spec: string): Promise<string | { keys: JWK[] }> {
  if (/^https?:\/\//i.test(spec)) return spec;
  const text = asText(await readBytes(spec, '--jwks'));
  const json = text === undefined ? undefined : parseKeyJson(text, '--jwks', spec);
  if (!isObject(json) || !Array.isArray(json.keys)) throw new UsageError(`the --jwks file ${JSON.stringify(spec)} is not a JSON Web Key Set ({ "keys": [...] }); pass a single key with --public-key.`);
  return json as { keys: JWK[] };
}

/** A URL fit to print: without user:password, which would be a credential. */
export function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return '(invalid URL)';
  }
}
