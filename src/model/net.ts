/** Small, strict parsers for the values Calico reads from annotations and specs. */

/**
 * True when `s` is a bare dotted-quad IPv4 address (`244.0.0.1`), the only form Calico accepts as a
 * route-reflector cluster ID. Leading zeros, CIDRs, IPv6 and surrounding spaces are rejected, as Go's
 * `net.ParseIP` plus Calico's IPv4 check do (libcalico-go node.go drops anything else silently).
 */
export function isStrictIPv4(s: string): boolean {
  // one pass over the characters (every node's address is checked, often several times): four octets of
  // 1-3 digits, no leading zero, each at most 255; the same answers as a
  // regular expression per part (test/unit/model/parse.test.ts)
  let octets = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 46; // the end closes the last octet like a dot
    if (c === 46) {
      if (digits === 0 || value > 255 || ++octets > 4) return false;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits === 1 && value === 0) return false; // a leading zero
      if (++digits > 3) return false;
      value = value * 10 + (c - 48);
    } else return false;
  }
  return octets === 4;
}

/** Why a cluster ID is invalid, or undefined when it is valid. */
export function clusterIdProblem(s: string): string | undefined {
  if (isStrictIPv4(s)) return undefined;
  if (s.trim() !== s) return 'has surrounding whitespace';
  if (s.includes('/')) return 'is a CIDR, not an address';
  if (s.includes(':')) return 'is IPv6; Calico only accepts IPv4 cluster IDs';
  const parts = s.split('.');
  if (parts.length !== 4) return 'is not a dotted-quad IPv4 address';
  if (parts.some((p) => /^\d+$/.test(p) && Number(p) > 255)) return 'has an octet above 255';
  if (parts.some((p) => /^0\d/.test(p))) return 'has an octet with a leading zero';
  return 'is not a dotted-quad IPv4 address';
}

/**
 * True when `s` is a masked IPv4 network (`10.0.0.0/24`, `244.0.0.1/32`): libcalico-go checks the cluster-ID
 * annotation with ValidateIPv4Network, which accepts one (lib/validator/v3), so Calico keeps it; confd then
 * renders `rr cluster id 10.0.0.0/24;`, which BIRD refuses as a syntax error.
 */
export function isMaskedIPv4Network(s: string): boolean {
  const slash = s.indexOf('/');
  if (slash < 0) return false;
  const c = parseIPv4Cidr(s);
  return !!c && ipv4Network(c.addr, c.prefix) === s;
}

/** IPv4 address to a 32-bit unsigned number, or undefined. */
export function ipv4ToInt(s: string): number | undefined {
  if (!isStrictIPv4(s)) return undefined;
  // the octets are checked: accumulate them without splitting (once per node in status)
  let acc = 0;
  let octet = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      acc = acc * 256 + octet;
      octet = 0;
    } else octet = octet * 10 + (c - 48);
  }
  return acc * 256 + octet;
}

/** Parses `10.0.0.5/24` (or a bare address, as /32) into address and prefix length. */
export function parseIPv4Cidr(s: string): { addr: number; prefix: number; ip: string } | undefined {
  const [ip, len] = s.split('/');
  if (ip === undefined) return undefined;
  const addr = ipv4ToInt(ip);
  if (addr === undefined) return undefined;
  const prefix = len === undefined ? 32 : Number(len);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32 || (len !== undefined && !/^\d+$/.test(len))) {
    return undefined;
  }
  return { addr, prefix, ip };
}

/** The network (as `a.b.c.d/n`) containing an address with the given prefix. */
export function ipv4Network(addr: number, prefix: number): string {
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const net = (addr & mask) >>> 0;
  return `${net >>> 24}.${(net >>> 16) & 255}.${(net >>> 8) & 255}.${net & 255}/${prefix}`;
}

/**
 * The network of an IPv6 address with its prefix (`fd00:aa::5/64` -> `fd00:aa::/64`), or undefined when the text
 * is not an IPv6 address with a prefix. Written in the compressed form (the longest run of zero groups as `::`).
 */
export function ipv6Network(cidr: string): string | undefined {
  const slash = cidr.indexOf('/');
  if (slash < 0) return undefined;
  const prefix = Number(cidr.slice(slash + 1));
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 128) return undefined;
  const text = cidr.slice(0, slash);
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const part = (h: string): string[] => (h === '' ? [] : h.split(':'));
  const head = part(halves[0]!);
  const tail = halves.length === 2 ? part(halves[1]!) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(parseInt(g, 16));
  const mask = prefix === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - prefix)) - 1n);
  v &= mask;
  const out = Array.from({ length: 8 }, (_, i) => Number((v >> BigInt(16 * (7 - i))) & 0xffffn).toString(16));
  // the longest run of two or more zero groups becomes ::
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (out[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && out[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const body =
    best < 0 ? out.join(':') : `${out.slice(0, best).join(':')}::${out.slice(best + bestLen).join(':')}`;
  return `${body}/${prefix}`;
}

/**
 * Parses a BGP AS number as Calico does (`numorstring.ASNumberFromString`): plain (`64512`) or asdot
 * (`1.10` = 65546). Returns undefined when invalid.
 */
export function parseASNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 && v <= 4294967295 ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  if (/^\d+$/.test(s)) return parseASNumber(Number(s));
  const m = /^(\d+)\.(\d+)$/.exec(s);
  if (m) {
    const hi = Number(m[1]);
    const lo = Number(m[2]);
    if (hi <= 65535 && lo <= 65535) return hi * 65536 + lo;
  }
  return undefined;
}
