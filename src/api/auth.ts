// Who may call: the bearer token (REST and gRPC) or, for the dashboard, a session cookie derived
// from it. Both are compared in constant time whatever their length. The cookie holds an HMAC of
// the token, never the token, and is HttpOnly: no script of any page can read it, and it is no
// use as a bearer token.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export type TokenCheck = (authorization: string | undefined) => boolean;

export const SESSION_COOKIE = 'sibyl_session';

/** `Bearer <token>`, the scheme in any case (RFC 7235), the token without surrounding white space. */
const BEARER = /^bearer[ \t]+(.+)$/i;

const digest = (s: string) => createHash('sha256').update(s).digest();
const same = (a: string, b: Buffer) => timingSafeEqual(digest(a), b);

export class Auth {
  private readonly token: Buffer | undefined;
  private readonly secret: string | undefined;
  private readonly session: string | undefined;

  /** `token` has been checked by `checkToken`. */
  constructor(token: string | undefined) {
    this.token = token === undefined ? undefined : digest(token);
    this.secret = token;
    this.session = token === undefined ? undefined : createHmac('sha256', token).update('sibyl dashboard session').digest('base64url');
  }

  get required(): boolean {
    return this.token !== undefined;
  }

  /** An `Authorization` header's value. */
  readonly bearer: TokenCheck = (authorization) => {
    if (!this.token) return true;
    const m = BEARER.exec(authorization ?? '');
    return same(m?.[1]?.trim() ?? '', this.token) && m !== null;
  };

  /**
   * The credential a trial is launched with (SIBYL_PUSH_TOKEN): an HMAC of its name under the
   * server's token, good for pushing that trial's observations and nothing else. Undefined when
   * the server has no token (then pushes need none).
   */
  trialToken(trialName: string): string | undefined {
    return this.secret === undefined ? undefined : createHmac('sha256', this.secret).update(`sibyl trial ${trialName}`).digest('base64url');
  }

  /** An `Authorization` header carrying the push credential of this trial. */
  trialBearer(trialName: string, authorization: string | undefined): boolean {
    const expected = this.trialToken(trialName);
    if (expected === undefined) return true;
    const m = BEARER.exec(authorization ?? '');
    return same(m?.[1]?.trim() ?? '', digest(expected)) && m !== null;
  }

  /** The session cookie's value the dashboard gets for a valid token. */
  sessionFor(token: string): string | undefined {
    return this.token && same(token.trim(), this.token) ? this.session : undefined;
  }

  /** A `Cookie` header carrying a valid session. */
  cookie(header: string | undefined): boolean {
    if (!this.session || !header) return false;
    const value = header.split(';').map((c) => c.trim()).find((c) => c.startsWith(`${SESSION_COOKIE}=`))?.slice(SESSION_COOKIE.length + 1) ?? '';
    return same(value, digest(this.session));
  }
}

/** Why a configured token is unusable, or undefined: empty or white space would lock everyone out. */
export function checkToken(token: string): string | undefined {
  if (token.trim() === '') return 'the token is empty or white space';
  if (token !== token.trim()) return 'the token starts or ends with white space (clients trim it)';
  if (/[\u0000-\u001f\u007f]/.test(token)) return 'the token contains control characters';
  return undefined;
}
