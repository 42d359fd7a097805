import { EXIT, UsageError, singlePositional, str, type Command } from '../support/command.js';
import { pretty, type Io } from '../support/io.js';
import { parseNow, toSeconds } from '../support/time.js';
import { inspectToken, readToken, timeClaims, warningsFor, type Inspection, type TimeClaim, type Warning } from '../support/token.js';

const HELP = `Usage: jwtguard decode [TOKEN | -] [options]

Shows a token's header and payload, its time claims as dates and relative to now, and what a
reviewer should notice (alg none, no exp, long lifetimes, embedded keys, huge tokens). A pasted
"Bearer " or "Authorization: Bearer " prefix and surrounding whitespace are stripped.

Decoding checks nothing: it never says a token is valid. Use \`jwtguard verify\` with the key.

Options:
  --now DATE     judge times against DATE (ISO 8601 or seconds since the epoch) instead of now
  --json         machine-readable output
  -h, --help     this help

Examples:
  jwtguard decode eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEifQ.c2ln...
  pbpaste | jwtguard decode -            # "Bearer ..." pasted from a request is fine
  jwtguard decode - --json < token.txt | jq .payload.sub

Exit codes: 0 decoded (warnings or not), 1 not decodable (the middleware's token_malformed), 2 bad usage.
`;

interface Decoded {
  readonly inspection: Inspection;
  readonly times: Record<string, TimeClaim>;
  readonly warnings: Warning[];
  readonly readable: boolean;
}

function printHuman(io: Io, { inspection, times, warnings, readable }: Decoded, removed: readonly string[]): void {
  const { out } = io;
  const heading = (text: string): string => out.paint('bold', text);
  if (removed.length > 0) out.line(out.paint('dim', `(stripped: ${removed.join(', ')})`));
  if (inspection.header !== undefined) {
    out.line(heading('Header'));
    out.line(pretty(inspection.header));
  }
  if (inspection.encrypted) {
    out.line(heading('Payload'));
    out.line(out.paint('yellow', 'encrypted (JWE): only the holder of the decryption key can read it.'));
  } else if (inspection.payload !== undefined || inspection.payloadText !== undefined) {
    out.line(heading('Payload'));
    out.line(inspection.payload !== undefined ? pretty(inspection.payload) : inspection.payloadText);
  }
  const claims = Object.entries(times);
  if (claims.length > 0) {
    out.line(heading('Times'));
    for (const [claim, time] of claims) {
      const expired = claim === 'exp' && time.relative.startsWith('expired');
      const notYet = claim === 'nbf' && !time.relative.startsWith('valid since');
      const relative = expired || notYet ? out.paint('red', time.relative) : out.paint('dim', time.relative);
      out.line(`  ${claim.padEnd(9)} ${String(time.value).padEnd(12)} ${(time.date ?? 'out of range').padEnd(24)}  ${relative}`);
    }
  }
  if (readable && !inspection.encrypted && inspection.segments.length === 3) {
    const alg = typeof inspection.header?.alg === 'string' ? inspection.header.alg : 'no alg';
    const bytes = Buffer.from(inspection.segments[2] as string, 'base64url').length;
    out.line(heading('Signature'));
    out.line(`  ${alg}, ${bytes} bytes`);
  }
  if (warnings.length > 0) {
    out.line(heading('Warnings'));
    for (const warning of warnings) out.line(`  ${out.paint('yellow', '!')} ${warning.message}`);
  }
  // Said every time: a decoded token looks trustworthy, and nothing here checked it.
  out.line(out.paint('dim', 'Not verified: decoding checks nothing. Run `jwtguard verify` with the key to check the signature and claims.'));
}

export const decode: Command = {
  name: 'decode',
  summary: 'show header, payload, times and warnings of a token (checks nothing)',
  help: HELP,
  options: { now: { type: 'string' } },
  async run({ values, positionals, json }, io) {
    const now = toSeconds(parseNow(str(values, 'now')) ?? new Date());
    const input = await readToken(singlePositional(positionals, 'token'), io);
    if (input.token === '') throw new UsageError('the token is empty.');
    const inspection = inspectToken(input.token);
    const times = timeClaims(inspection.payload, now);
    const warnings = warningsFor(inspection, now);
    // Readable: both header and payload could be shown. A JWE's payload never can.
    const readable = inspection.header !== undefined && !inspection.encrypted && (inspection.payload !== undefined || inspection.payloadText !== undefined);
    const decoded: Decoded = { inspection, times, warnings, readable };
    if (json) {
      io.out.line(
        pretty({
          header: inspection.header ?? null,
          payload: inspection.payload ?? inspection.payloadText ?? null,
          ...(inspection.segments.length === 3 && { signature: inspection.segments[2] }),
          times,
          warnings,
          ...(inspection.encrypted && { encrypted: true }),
          ...(!readable && { error: { code: 'token_malformed', message: `cannot decode the token: ${inspection.problems[0] ?? 'unknown format'}.` } }),
          length: input.token.length,
          stripped: input.removed,
          verified: false,
        }),
      );
    } else {
      printHuman(io, decoded, input.removed);
      if (!readable) io.err.line(`${io.err.paint('red', '✖ token_malformed')}  cannot decode the token: ${inspection.problems[0] ?? 'unknown format'}.`);
    }
    return readable ? EXIT.ok : EXIT.refused;
  },
};
