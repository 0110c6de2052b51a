// What a store target looks like, without loading a database client: a PostgreSQL URL
// (postgres:// or postgresql://) names the shared backend; anything else is a data directory.
export const isPostgresUrl = (target: string): boolean => /^postgres(ql)?:\/\//i.test(target);

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/^(\w+:\/\/[^:/@]+):[^@]*@/, '$1:***@');
}
