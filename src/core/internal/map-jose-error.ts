import { errors } from 'jose';
import { JwtGuardError } from '../errors/jwt-guard-error.js';

/** Translates jose's verification errors into jwtguard's stable codes, dropping jose's payload copy. */
export function mapJoseError(error: unknown): JwtGuardError {
  if (error instanceof JwtGuardError) return error;
  if (error instanceof errors.JWTExpired) {
    // exp in the past, or (maxTokenAge) an iat too far in the past.
    return new JwtGuardError('token_expired', 'The token has expired.', { claim: error.claim });
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    // Only a failed time check means "not yet"; an nbf that is not a number is an invalid claim.
    if (error.claim === 'nbf' && error.reason === 'check_failed') {
      return new JwtGuardError('token_not_yet_valid', 'The token is not valid yet.', { claim: 'nbf' });
    }
    return new JwtGuardError('claim_invalid', `The "${error.claim}" claim is invalid.`, { claim: error.claim });
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return new JwtGuardError('algorithm_not_allowed', 'The token is signed with an algorithm that is not allowed.');
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new JwtGuardError('signature_invalid', 'The token signature is invalid.');
  }
  if (error instanceof errors.JOSEError) {
    return new JwtGuardError('token_malformed', 'The token is malformed.');
  }
  // jose throws TypeError when the resolved key cannot be used for the token's algorithm.
  if (error instanceof TypeError || (typeof DOMException !== 'undefined' && error instanceof DOMException)) {
    return new JwtGuardError('key_not_found', 'No usable key for this token.');
  }
  throw error;
}
