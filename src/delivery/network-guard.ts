/**
 * Network guard (SPEC §4): no delivery or subscription may target loopback, private,
 * link-local, CGNAT, multicast, reserved/special ranges, IPv4-embedding IPv6 forms of those, or
 * a name resolving to them — unless an operator allow-list (CIDRs) opens the range.
 *
 * The guard is pure address policy plus a resolver; the HTTP sender applies it again at
 * connect time on the address actually dialled (see http-sender.ts).
 */
import dns from 'node:dns';
import net from 'node:net';
import ipaddr from 'ipaddr.js';

type Addr = ipaddr.IPv4 | ipaddr.IPv6;

const ALLOW_LIST_EXAMPLE = '127.0.0.0/8,::1/128';

/**
 * Parses an address exactly as the kernel would dial it. Only forms node:net accepts are
 * valid (no 0x7f.1 here: URLs are normalised before they reach us). IPv6 with a dotted tail
 * is rewritten to hex first, because ipaddr.js reads every `…:a.b.c.d` as IPv4-mapped:
 * `::127.0.0.1` (IPv4-compatible, ::7f00:1) would otherwise be judged as ::ffff:127.0.0.1.
 */
function parseIp(text: string): Addr | undefined {
  if (net.isIP(text) === 0) return undefined;
  let s = text;
  const m = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)(%.*)?$/.exec(s);
  if (m !== null) {
    const o = [m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number];
    const hi = ((o[0] << 8) | o[1]).toString(16);
    const lo = ((o[2] << 8) | o[3]).toString(16);
    s = `${m[1] ?? ''}${hi}:${lo}${m[6] ?? ''}`;
  }
  return ipaddr.parse(s);
}

export interface AllowList {
  /** The entries as given (normalised `address/prefix`), for logs and error messages. */
  readonly cidrs: readonly string[];
  /** True when `addr` lies in one of the entries of the same family. */
  contains(addr: Addr): boolean;
}

/**
 * Parses a comma-separated list of CIDRs (IPv4 and IPv6). A bare address counts as a single
 * host (/32 or /128). Empty input gives an empty list (the guard's default: nothing opened).
 */
export function parseAllowList(csv: string): AllowList {
  const entries: Array<[Addr, number]> = [];
  for (const raw of csv.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    let entry: [Addr, number];
    try {
      const [addrText = '', bitsText, extra] = item.split('/');
      const a = parseIp(addrText);
      const max = a?.kind() === 'ipv4' ? 32 : 128;
      const bits = bitsText === undefined ? max : /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : NaN;
      if (a === undefined || extra !== undefined || !(bits >= 0 && bits <= max)) throw new Error(item);
      entry = [a, bits];
    } catch {
      throw new Error(
        `invalid network allow-list entry "${item}": expected comma-separated CIDRs, e.g. ${ALLOW_LIST_EXAMPLE}`,
      );
    }
    entries.push(entry);
  }
  const cidrs = entries.map(([a, bits]) => `${a.toString()}/${bits}`);
  return {
    cidrs,
    contains(addr: Addr): boolean {
      // ipaddr's match() throws across families, so compare kinds first.
      return entries.some(([net0, bits]) => net0.kind() === addr.kind() && addr.match(net0, bits));
    },
  };
}

const EMPTY_ALLOW_LIST = parseAllowList('');

export interface Classification {
  allowed: boolean;
  /** Why the address is refused: the range name and, where known, its CIDR. */
  reason?: string;
}

type RangeTable = Record<string, [Addr, number] | Array<[Addr, number]>>;

/** Finds the CIDR of ipaddr's special range `name` containing `addr`, for readable reasons. */
function rangeCidr(addr: Addr, name: string): string | undefined {
  // SpecialRanges is public at runtime but missing from ipaddr's typings.
  const table = (addr as unknown as { SpecialRanges?: RangeTable }).SpecialRanges;
  const entry = table?.[name];
  if (entry === undefined) return undefined;
  const list: Array<[Addr, number]> = Array.isArray(entry[0])
    ? (entry as Array<[Addr, number]>)
    : [entry as [Addr, number]];
  for (const [base, bits] of list) {
    if (base.kind() === addr.kind() && addr.match(base, bits)) return `${base.toString()}/${bits}`;
  }
  return undefined;
}

function refused(addr: Addr, name: string): Classification {
  const cidr = rangeCidr(addr, name);
  return { allowed: false, reason: cidr === undefined ? name : `${name} ${cidr}` };
}

function v4FromBytes(b: number[], idx: readonly number[]): ipaddr.IPv4 {
  return new ipaddr.IPv4(idx.map((i) => b[i] ?? 0));
}

/** Classifies an embedded IPv4 address; a refusal names both the outer and inner form. */
function classifyEmbedded(
  outer: string,
  inner: ipaddr.IPv4,
  allow: AllowList,
): Classification | undefined {
  const c = classifyParsed(inner, allow);
  if (c.allowed) return undefined;
  return { allowed: false, reason: `${outer} embedding ${inner.toString()} (${c.reason ?? 'refused'})` };
}

function classifyParsed(input: Addr, allow: AllowList): Classification {
  let addr: Addr = input;
  // ::ffff:a.b.c.d is dialled as a.b.c.d by dual-stack sockets: judge the inner address.
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
    addr = (addr as ipaddr.IPv6).toIPv4Address();
  }
  if (allow.contains(addr)) return { allowed: true };

  if (addr.kind() === 'ipv4') {
    const range = (addr as ipaddr.IPv4).range();
    return range === 'unicast' ? { allowed: true } : refused(addr, range);
  }

  const v6 = addr as ipaddr.IPv6;
  const p = v6.parts;
  const b = v6.toByteArray();
  const range = v6.range();
  switch (range) {
    case 'unicast': {
      // Deprecated IPv4-compatible ::a.b.c.d: never a legitimate target.
      if (p.slice(0, 6).every((x) => x === 0)) return { allowed: false, reason: 'ipv4Compatible ::/96' };
      // 64:ff9b::/32 outside the two assigned NAT64 prefixes is unassigned: refuse.
      if (p[0] === 0x64 && p[1] === 0xff9b) return { allowed: false, reason: 'rfc6052 64:ff9b::/32 (unassigned)' };
      return { allowed: true };
    }
    case 'rfc6145': // ::ffff:0:a.b.c.d (IPv4-translated)
      return classifyEmbedded('rfc6145 ::ffff:0:0/96', v4FromBytes(b, [12, 13, 14, 15]), allow) ?? { allowed: true };
    case '6to4':
      return classifyEmbedded('6to4 2002::/16', v4FromBytes(b, [2, 3, 4, 5]), allow) ?? { allowed: true };
    case 'rfc6052': {
      if (p[2] === 0) {
        return classifyEmbedded('NAT64 64:ff9b::/96', v4FromBytes(b, [12, 13, 14, 15]), allow) ?? { allowed: true };
      }
      // 64:ff9b:1::/48 is local-use: the operator's prefix length (48..96) decides where the
      // IPv4 sits (RFC 6052 §2.2, skipping the u-octet), so every candidate must pass.
      const candidates: ReadonlyArray<readonly number[]> = [
        [6, 7, 9, 10],
        [7, 9, 10, 11],
        [9, 10, 11, 12],
        [12, 13, 14, 15],
      ];
      for (const idx of candidates) {
        const c = classifyEmbedded('NAT64 64:ff9b:1::/48', v4FromBytes(b, idx), allow);
        if (c !== undefined) return c;
      }
      return { allowed: true };
    }
    default:
      // Everything else ipaddr names (loopback, uniqueLocal, linkLocal, multicast, teredo,
      // reserved, benchmarking, orchid, discard, …) is not a public unicast target.
      return refused(v6, range);
  }
}

/** Decides whether `ip` may be dialled. Non-IP input is refused. */
export function classifyAddress(ip: string, allow: AllowList = EMPTY_ALLOW_LIST): Classification {
  const addr = parseIp(stripBrackets(ip));
  if (addr === undefined) return { allowed: false, reason: 'not an IP address' };
  return classifyParsed(addr, allow);
}

export class GuardError extends Error {
  readonly code = 'blocked_target' as const;
  constructor(
    readonly address: string,
    readonly reason: string,
  ) {
    super(
      `blocked_target: ${address} is refused by the network guard (${reason}); ` +
        `open it with the network allow-list only if intended`,
    );
    this.name = 'GuardError';
  }
}

/** A name that could not be resolved (or resolved to nothing). */
export class ResolveError extends Error {
  readonly code = 'dns_error' as const;
  constructor(
    readonly hostname: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`dns_error: cannot resolve ${hostname}: ${message}`, options);
    this.name = 'ResolveError';
  }
}

export interface ResolvedAddress {
  address: string;
  family: number;
}

export type LookupFn = (hostname: string) => Promise<ResolvedAddress[]>;

const systemLookup: LookupFn = (hostname) => dns.promises.lookup(hostname, { all: true });

export interface NetworkGuardOptions {
  /** Replaces the system resolver (tests, or a custom resolver). */
  lookup?: LookupFn;
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function isLocalhostName(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return h === 'localhost' || h.endsWith('.localhost');
}

export class NetworkGuard {
  readonly allow: AllowList;
  private readonly lookupFn: LookupFn;

  constructor(allow: AllowList = EMPTY_ALLOW_LIST, options: NetworkGuardOptions = {}) {
    this.allow = allow;
    this.lookupFn = options.lookup ?? systemLookup;
  }

  classify(ip: string): Classification {
    return classifyAddress(ip, this.allow);
  }

  /** Throws GuardError if `ip` may not be dialled. */
  checkAddress(ip: string): void {
    const c = this.classify(ip);
    if (!c.allowed) throw new GuardError(ip, c.reason ?? 'refused');
  }

  /**
   * Resolves `hostname` (every address) and throws GuardError if ANY address is refused:
   * a resolver that mixes a public and a private answer must not get a chance to pick the
   * private one. Throws ResolveError on DNS failure. Returns the checked addresses.
   */
  async resolve(hostname: string): Promise<ResolvedAddress[]> {
    let addrs: ResolvedAddress[];
    try {
      addrs = await this.lookupFn(hostname);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      throw new ResolveError(hostname, typeof code === 'string' ? code : String(err), { cause: err });
    }
    if (addrs.length === 0) throw new ResolveError(hostname, 'no addresses');
    for (const a of addrs) {
      const c = this.classify(a.address);
      if (!c.allowed) throw new GuardError(`${hostname} (${a.address})`, c.reason ?? 'refused');
    }
    return addrs;
  }

  /**
   * Subscribe-time validation of a target URL. Throws TypeError for an unparsable URL,
   * GuardError for a refused target and ResolveError when the name does not resolve.
   */
  async checkUrl(url: string): Promise<void> {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      throw new GuardError(u.protocol, 'only http: and https: targets are allowed');
    }
    // WHATWG URL has already normalised odd IPv4 forms (2130706433, 0x7f.1, 127.1).
    const host = stripBrackets(u.hostname);
    if (net.isIP(host) !== 0) {
      this.checkAddress(host);
      return;
    }
    // RFC 6761: localhost names are loopback whatever a resolver says.
    if (isLocalhostName(host)) {
      const c = this.classify('127.0.0.1');
      if (!c.allowed) throw new GuardError(host, `localhost name (${c.reason ?? 'loopback'})`);
    }
    await this.resolve(host);
  }
}
