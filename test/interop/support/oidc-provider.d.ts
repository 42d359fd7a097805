// oidc-provider ships no types; this is the subset the interop tests use (a devDependency only).
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';
  import type { JWK } from 'jose';

  interface ResourceServer {
    scope: string;
    audience?: string;
    accessTokenFormat?: 'opaque' | 'jwt';
    accessTokenTTL?: number;
    jwt?: { sign?: { alg?: string; kid?: string | undefined } };
  }

  interface Configuration {
    jwks?: { keys: JWK[] };
    clients?: Record<string, unknown>[];
    scopes?: string[];
    routes?: Record<string, string>;
    ttl?: Record<string, number>;
    features?: {
      devInteractions?: { enabled: boolean };
      clientCredentials?: { enabled: boolean };
      resourceIndicators?: {
        enabled: boolean;
        defaultResource?: (ctx: unknown, client: unknown, oneOf?: string[]) => string | string[] | undefined | Promise<string | string[] | undefined>;
        useGrantedResource?: (ctx: unknown, model: unknown) => boolean | Promise<boolean>;
        getResourceServerInfo: (ctx: unknown, resourceIndicator: string, client: unknown) => ResourceServer | Promise<ResourceServer>;
      };
    };
  }

  class Provider {
    constructor(issuer: string, configuration?: Configuration);
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
  }
  export const errors: { InvalidTarget: new (description?: string) => Error };
  export default Provider;
}
