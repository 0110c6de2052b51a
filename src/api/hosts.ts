// Which `Host` (and `Origin`) values the HTTP server answers: a page on another site that
// re-points its own name at 127.0.0.1 (DNS rebinding) sends its own name as Host, and is refused.
// Patterns: exact names or addresses, `*.example.com` for subdomains, `*` for any.

/** A Host header's or URL's host without its port, lower-case, IPv6 without brackets. */
export function hostName(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined);
  const colon = h.lastIndexOf(':');
  const name = colon > 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h;
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];
const isLoopback = (name: string) => LOOPBACK_NAMES.includes(name) || /^127\.\d+\.\d+\.\d+$/.test(name) || name.endsWith('.localhost');
const WILDCARD_ADDRESSES = ['0.0.0.0', '::', ''];

export class HostAllowList {
  private readonly exact = new Set<string>();
  private readonly suffixes: string[] = [];
  private readonly any: boolean;

  constructor(readonly patterns: readonly string[]) {
    this.any = patterns.includes('*');
    for (const p of patterns) {
      const name = hostName(p);
      if (name.startsWith('*.')) this.suffixes.push(name.slice(1));
      else if (name !== '*') this.exact.add(name);
    }
  }

  /** Loopback names, and the address the server listens on when it is a specific one. */
  static defaults(listenHost: string): HostAllowList {
    const host = hostName(listenHost);
    return new HostAllowList([...LOOPBACK_NAMES, ...(WILDCARD_ADDRESSES.includes(host) || isLoopback(host) ? [] : [host])]);
  }

  /** Comma-separated patterns (--allowed-hosts, SIBYL_ALLOWED_HOSTS). */
  static parse(text: string): HostAllowList {
    return new HostAllowList(text.split(',').map((s) => s.trim()).filter(Boolean));
  }

  allows(host: string | undefined): boolean {
    if (this.any) return true;
    if (!host) return false;
    const name = hostName(host);
    if (this.exact.has(name)) return true;
    if (this.exact.has('localhost') && isLoopback(name)) return true;
    return this.suffixes.some((s) => name.endsWith(s) && name.length > s.length);
  }
}

/**
 * Whether an `Origin` header names the site the request was sent to (its Host): state changes
 * come only from the dashboard's own pages or from clients that send no Origin at all. `null`
 * (a sandboxed page, a file) never matches.
 */
export function sameOrigin(origin: string, host: string | undefined): boolean {
  if (!host) return false;
  try {
    return new URL(origin).host.toLowerCase() === host.trim().toLowerCase();
  } catch {
    return false;
  }
}
