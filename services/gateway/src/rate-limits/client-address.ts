import { isIP } from 'node:net';
import { TrustedProxies, unmappedAddress as unmapped } from '../security/trusted-proxies.js';

/** What the decision reads of a request. */
interface IncomingRequest {
  /** The socket's peer: the gateway's Fastify trusts no proxy for `request.ip`. */
  readonly ip: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/**
 * The address a rate limit is charged to. Behind a load balancer every request comes from the
 * balancer, so for a peer in GATEWAY_TRUSTED_PROXIES the client is the nearest `X-Forwarded-For`
 * hop that is not itself a trusted proxy; anyone else's header is ignored (a caller could claim
 * a fresh address per request). IPv6 clients are charged per /64: a single host is routinely given
 * a whole /64, and per-address keys would let it mint 2^64 fresh quotas.
 */
export class ClientAddress {
  private readonly trusted: TrustedProxies;

  constructor(trustedProxies: readonly string[]) {
    this.trusted = new TrustedProxies(trustedProxies);
  }

  /** The rate-limit identity of the caller: an IPv4 address or an IPv6 /64. */
  of(request: IncomingRequest): string {
    return chargeable(this.client(request));
  }

  private client(request: IncomingRequest): string {
    const peer = unmapped(request.ip);
    if (!this.trusted.includes(peer)) return peer;
    const header = request.headers['x-forwarded-for'];
    const hops = (Array.isArray(header) ? header.join(',') : (header ?? ''))
      .split(',')
      .map((hop) => unmapped(hop.trim()))
      .filter(Boolean);
    let client = peer;
    // Walk from the nearest hop outwards; each trusted proxy vouches for the hop before it.
    for (const hop of hops.reverse()) {
      if (isIP(hop) === 0) break;
      client = hop;
      if (!this.trusted.includes(hop)) break;
    }
    return client;
  }
}

function chargeable(address: string): string {
  return isIP(address) === 6 ? ipv6Prefix64(address) : address;
}

/** `2001:db8:1:2:3:4:5:6` and `2001:db8:1:2::9` -> `2001:db8:1:2::/64`. */
export function ipv6Prefix64(address: string): string {
  const [head = '', tail] = address.split('::');
  const headGroups = head ? head.split(':') : [];
  let groups = headGroups;
  if (tail !== undefined) {
    const tailGroups = tail ? tail.split(':') : [];
    // An embedded IPv4 address (`64:ff9b::192.0.2.1`) fills the last two groups.
    const tailLength = tailGroups.reduce((sum, group) => sum + (group.includes('.') ? 2 : 1), 0);
    const zeros = Array<string>(Math.max(0, 8 - headGroups.length - tailLength)).fill('0');
    groups = [...headGroups, ...zeros, ...tailGroups];
  }
  const prefix = groups.slice(0, 4).map((group) => Number.parseInt(group, 16).toString(16));
  return `${prefix.join(':')}::/64`;
}
