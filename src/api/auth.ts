// Bearer-token check shared by REST and gRPC: constant time whatever the token's length.
import { createHash, timingSafeEqual } from 'node:crypto';

export type TokenCheck = (authorization: string | undefined) => boolean;

export function bearerCheck(token: string | undefined): TokenCheck {
  if (!token) return () => true;
  const expected = createHash('sha256').update(token).digest();
  return (authorization) => {
    const m = /^Bearer (.+)$/.exec(authorization ?? '');
    const given = createHash('sha256').update(m?.[1] ?? '').digest();
    return timingSafeEqual(given, expected) && m !== null;
  };
}
