import { BlockList, isIP, isIPv4 } from 'node:net';

/**
 * The proxies in front of the gateway (GATEWAY_TRUSTED_PROXIES, addresses or CIDR blocks) whose
 * forwarding headers it believes: `X-Forwarded-Proto` for HSTS (client-protocol.ts) and
 * `X-Forwarded-For` for the address rate limits charge (rate-limits/client-address.ts).
 */
export class TrustedProxies {
  private readonly blocks = new BlockList();

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const [address = '', prefix] = entry.split('/');
      const family = isIPv4(address) ? 'ipv4' : 'ipv6';
      if (prefix === undefined) this.blocks.addAddress(address, family);
      else this.blocks.addSubnet(address, Number(prefix), family);
    }
  }

  includes(address: string | undefined): boolean {
    const version = address ? isIP(address) : 0;
    return version !== 0 && this.blocks.check(address!, version === 4 ? 'ipv4' : 'ipv6');
  }
}

/** A dual-stack socket reports IPv4 peers as `::ffff:a.b.c.d`; zone ids are not part of a host. */
export function unmappedAddress(address: string): string {
  const bare = address.split('%')[0] ?? address;
  return bare.toLowerCase().startsWith('::ffff:') && isIPv4(bare.slice(7)) ? bare.slice(7) : bare;
}
