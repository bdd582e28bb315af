import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  classifyAddress,
  GuardError,
  NetworkGuard,
  parseAllowList,
  ResolveError,
  type LookupFn,
} from '../../src/delivery/network-guard.js';

function assertRefused(ip: string, reasonPart: string): void {
  const c = classifyAddress(ip);
  assert.equal(c.allowed, false, `${ip} should be refused`);
  assert.ok(c.reason?.includes(reasonPart), `${ip}: reason "${c.reason}" should mention "${reasonPart}"`);
}

function assertAllowed(ip: string): void {
  assert.deepEqual(classifyAddress(ip), { allowed: true }, `${ip} should be allowed`);
}

/** A resolver answering from a fixed table, so name tests do not depend on the machine. */
function fakeLookup(table: Record<string, string[]>): LookupFn {
  return async (hostname) => {
    const addrs = table[hostname];
    if (addrs === undefined) {
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    }
    return addrs.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
}

describe('classifyAddress: refused ranges', () => {
  test('loopback IPv4 127.0.0.0/8', () => {
    assertRefused('127.0.0.1', 'loopback 127.0.0.0/8');
    assertRefused('127.255.255.254', 'loopback');
  });
  test('loopback IPv6 ::1', () => assertRefused('::1', 'loopback'));
  test('private 10/8', () => assertRefused('10.1.2.3', 'private 10.0.0.0/8'));
  test('private 172.16/12 (and its edges)', () => {
    assertRefused('172.16.0.1', 'private 172.16.0.0/12');
    assertRefused('172.31.255.255', 'private');
    assertAllowed('172.32.0.1');
    assertAllowed('172.15.255.255');
  });
  test('private 192.168/16', () => assertRefused('192.168.1.1', 'private 192.168.0.0/16'));
  test('unique local fc00::/7', () => {
    assertRefused('fc00::1', 'uniqueLocal');
    assertRefused('fd12:3456::1', 'uniqueLocal');
  });
  test('link-local 169.254/16 (cloud metadata)', () => assertRefused('169.254.169.254', 'linkLocal 169.254.0.0/16'));
  test('link-local fe80::/10, with and without zone id', () => {
    assertRefused('fe80::1', 'linkLocal');
    assertRefused('fe80::1%eth0', 'linkLocal');
  });
  test('CGNAT 100.64/10 (and its edges)', () => {
    assertRefused('100.64.0.1', 'carrierGradeNat 100.64.0.0/10');
    assertRefused('100.127.255.255', 'carrierGradeNat');
    assertAllowed('100.128.0.1');
    assertAllowed('100.63.255.255');
  });
  test('multicast IPv4 and IPv6', () => {
    assertRefused('224.0.0.1', 'multicast');
    assertRefused('239.255.255.250', 'multicast');
    assertRefused('ff02::1', 'multicast');
  });
  test('unspecified 0.0.0.0/8 and ::', () => {
    assertRefused('0.0.0.0', 'unspecified');
    assertRefused('0.1.2.3', 'unspecified');
    assertRefused('::', 'unspecified');
  });
  test('broadcast 255.255.255.255', () => assertRefused('255.255.255.255', 'broadcast'));
  test('reserved and documentation ranges (IPv4)', () => {
    assertRefused('240.0.0.1', 'reserved');
    assertRefused('192.0.2.1', 'reserved 192.0.2.0/24');
    assertRefused('198.51.100.7', 'reserved');
    assertRefused('203.0.113.9', 'reserved');
    assertRefused('192.0.0.8', 'reserved');
  });
  test('benchmarking 198.18/15 and 2001:2::/48', () => {
    assertRefused('198.18.0.1', 'reserved 198.18.0.0/15');
    assertRefused('2001:2::1', 'benchmarking');
  });
  test('documentation 2001:db8::/32 and discard 100::/64', () => {
    assertRefused('2001:db8::1', 'reserved');
    assertRefused('100::1', 'discard');
  });
  test('IPv4-mapped ::ffff:127.0.0.1 (dotted form)', () => assertRefused('::ffff:127.0.0.1', 'loopback'));
  test('IPv4-mapped ::ffff:7f00:1 (hex form)', () => assertRefused('::ffff:7f00:1', 'loopback'));
  test('IPv4-mapped private and metadata addresses', () => {
    assertRefused('::ffff:10.0.0.1', 'private');
    assertRefused('::ffff:a9fe:a9fe', 'linkLocal');
  });
  test('IPv4-mapped public address is judged as the public IPv4', () => assertAllowed('::ffff:8.8.8.8'));
  test('NAT64 64:ff9b::7f00:1 embedding loopback', () => {
    assertRefused('64:ff9b::7f00:1', 'NAT64');
    assertRefused('64:ff9b::7f00:1', '127.0.0.1');
    assertRefused('64:ff9b::10.0.0.1', 'private');
  });
  test('NAT64 local-use 64:ff9b:1::/48 embedding loopback', () => {
    // /48 layout: bytes 6-7 and 9-10 carry 127.0 and 0.1 (byte 8 is the u-octet).
    assertRefused('64:ff9b:1:7f00:0:100::', '127.0.0.1');
  });
  test('NAT64 embedding a public address is allowed', () => assertAllowed('64:ff9b::808:808'));
  test('unassigned parts of 64:ff9b::/32 are refused', () => assertRefused('64:ff9b:2::1', 'unassigned'));
  test('6to4 2002::/16 embedding private/loopback', () => {
    assertRefused('2002:7f00:1::1', '127.0.0.1');
    assertRefused('2002:c0a8:101::1', '192.168.1.1');
    assertAllowed('2002:808:808::1');
  });
  test('IPv4-translated ::ffff:0:7f00:1 (rfc6145)', () => assertRefused('::ffff:0:7f00:1', '127.0.0.1'));
  test('IPv4-compatible ::127.0.0.1 / ::8.8.8.8 (deprecated; not misread as IPv4-mapped)', () => {
    assertRefused('::127.0.0.1', 'ipv4Compatible');
    // ipaddr.js alone would read this as ::ffff:8.8.8.8 and allow it.
    assertRefused('::8.8.8.8', 'ipv4Compatible');
    assertRefused('::808:808', 'ipv4Compatible');
  });
  test('IPv4-translated with dotted tail ::ffff:0:10.0.0.1', () => assertRefused('::ffff:0:10.0.0.1', '10.0.0.1'));
  test('Teredo 2001::/32', () => assertRefused('2001:0:4136:e378:8000:63bf:3fff:fdd2', 'teredo'));
  test('non-IP input is refused', () => {
    assertRefused('example.com', 'not an IP');
    // Odd forms are normalised by URL parsing before the guard; raw, they are not addresses.
    assertRefused('0x7f.1', 'not an IP');
    assertRefused('2130706433', 'not an IP');
  });
});

describe('classifyAddress: allowed', () => {
  test('public unicast IPv4 and IPv6', () => {
    assertAllowed('8.8.8.8');
    assertAllowed('93.184.216.34');
    assertAllowed('2606:4700:4700::1111');
    assertAllowed('[2606:4700:4700::1111]');
  });
  test('allow-list 127.0.0.0/8,::1/128 lets loopback through, nothing else', () => {
    const allow = parseAllowList('127.0.0.0/8,::1/128');
    assert.deepEqual(classifyAddress('127.0.0.1', allow), { allowed: true });
    assert.deepEqual(classifyAddress('127.9.9.9', allow), { allowed: true });
    assert.deepEqual(classifyAddress('::1', allow), { allowed: true });
    assert.deepEqual(classifyAddress('::ffff:127.0.0.1', allow), { allowed: true });
    assert.equal(classifyAddress('10.0.0.1', allow).allowed, false);
    assert.equal(classifyAddress('169.254.169.254', allow).allowed, false);
  });
});

describe('parseAllowList', () => {
  test('parses IPv4 and IPv6 CIDRs with spaces; bare addresses are single hosts', () => {
    const a = parseAllowList(' 10.0.0.0/8 , fd00::/8,192.168.1.5 ');
    assert.deepEqual(a.cidrs, ['10.0.0.0/8', 'fd00::/8', '192.168.1.5/32']);
    assert.equal(classifyAddress('192.168.1.5', a).allowed, true);
    assert.equal(classifyAddress('192.168.1.6', a).allowed, false);
    assert.equal(classifyAddress('fd00::1', a).allowed, true);
  });
  test('empty string gives an empty list', () => {
    assert.deepEqual(parseAllowList('').cidrs, []);
    assert.deepEqual(parseAllowList(' , ').cidrs, []);
  });
  for (const bad of ['garbage', '10.0.0.0/33', '::1/129', '10.0.0.0/8/1', '127.1/8', '10.0.0.0/', '10.0.0.0/x']) {
    test(`rejects "${bad}" naming the entry and an example`, () => {
      assert.throws(
        () => parseAllowList(`127.0.0.0/8,${bad}`),
        (err: unknown) =>
          err instanceof Error && err.message.includes(`"${bad}"`) && err.message.includes('127.0.0.0/8,::1/128'),
      );
    });
  }
});

describe('NetworkGuard.checkAddress', () => {
  test('throws GuardError naming the address and the range', () => {
    const g = new NetworkGuard();
    assert.throws(
      () => g.checkAddress('127.0.0.1'),
      (err: unknown) =>
        err instanceof GuardError &&
        err.code === 'blocked_target' &&
        err.message.includes('127.0.0.1') &&
        err.message.includes('loopback 127.0.0.0/8'),
    );
  });
  test('does not throw for a public address', () => {
    assert.doesNotThrow(() => new NetworkGuard().checkAddress('1.1.1.1'));
  });
});

describe('NetworkGuard.checkUrl', () => {
  const guard = new NetworkGuard(parseAllowList(''), {
    lookup: fakeLookup({
      'public.example': ['93.184.216.34', '2606:2800:220:1::1'],
      'loop.example': ['127.0.0.1'],
      'mixed.example': ['93.184.216.34', '10.0.0.5'],
      'mapped.example': ['::ffff:192.168.0.1'],
      'empty.example': [],
    }),
  });

  async function assertBlocked(url: string, addressPart: string, g: NetworkGuard = guard): Promise<void> {
    await assert.rejects(
      g.checkUrl(url),
      (err: unknown) => err instanceof GuardError && err.message.includes(addressPart),
      `${url} should be blocked`,
    );
  }

  test('IPv4 literal', () => assertBlocked('http://127.0.0.1:8080/hook', '127.0.0.1'));
  test('bracketed IPv6 literal', () => assertBlocked('http://[::1]/hook', '::1'));
  test('bracketed IPv4-mapped IPv6 literal', () => assertBlocked('https://[::ffff:127.0.0.1]/', 'loopback'));
  test('bracketed NAT64 literal', () => assertBlocked('https://[64:ff9b::a9fe:a9fe]/', '169.254.169.254'));
  test('decimal IPv4 literal http://2130706433/', () => assertBlocked('http://2130706433/', '127.0.0.1'));
  test('hex IPv4 literal http://0x7f.1/', () => assertBlocked('http://0x7f.1/', '127.0.0.1'));
  test('short IPv4 literal http://127.1/', () => assertBlocked('http://127.1/', '127.0.0.1'));
  test('octal IPv4 literal http://0177.0.0.1/', () => assertBlocked('http://0177.0.0.1/', '127.0.0.1'));
  test('hex metadata address http://0xa9fea9fe/', () => assertBlocked('http://0xa9fea9fe/', '169.254.169.254'));
  test('localhost', () => assertBlocked('http://localhost:3000/', 'localhost'));
  test('LOCALHOST. with trailing dot', () => assertBlocked('http://LOCALHOST./', 'localhost'));
  test('*.localhost', () => assertBlocked('http://shop.localhost/', 'shop.localhost'));
  test('name resolving to loopback', () => assertBlocked('https://loop.example/', '127.0.0.1'));
  test('name with ANY refused address (public + private)', () => assertBlocked('https://mixed.example/', '10.0.0.5'));
  test('name resolving to IPv4-mapped private', () => assertBlocked('https://mapped.example/', '192.168.0.1'));
  test('non-http scheme', () => assertBlocked('ftp://public.example/', 'ftp:'));

  test('name resolving to public addresses passes', async () => {
    await guard.checkUrl('https://public.example/hooks?x=1');
  });
  test('public IP literal passes', async () => {
    await guard.checkUrl('http://93.184.216.34/');
    await guard.checkUrl('http://[2606:4700:4700::1111]:8443/');
  });
  test('unresolvable name gives ResolveError (dns_error)', async () => {
    await assert.rejects(
      guard.checkUrl('https://nope.example/'),
      (err: unknown) => err instanceof ResolveError && err.code === 'dns_error' && err.message.includes('ENOTFOUND'),
    );
    await assert.rejects(guard.checkUrl('https://empty.example/'), ResolveError);
  });
  test('real resolver: localhost resolves to loopback and is refused by address too', async () => {
    // resolve() skips the localhost-name rule, so this exercises /etc/hosts + the address check.
    await assert.rejects(
      new NetworkGuard().resolve('localhost'),
      (err: unknown) => err instanceof GuardError && /127\.0\.0\.1|::1/.test(err.message),
    );
  });
  test('real resolver: nonexistent.invalid gives ResolveError', async () => {
    await assert.rejects(new NetworkGuard().checkUrl('https://nonexistent.invalid/'), ResolveError);
  });
  test('allow-list 127.0.0.0/8,::1/128 opens localhost and loopback literals', async () => {
    const open = new NetworkGuard(parseAllowList('127.0.0.0/8,::1/128'));
    await open.checkUrl('http://localhost:3000/');
    await open.checkUrl('http://127.0.0.1:3000/');
    await open.checkUrl('http://[::1]:3000/');
    await open.checkUrl('http://2130706433/');
    await assertBlocked('http://10.0.0.1/', '10.0.0.1', open);
  });
  test('invalid URL throws TypeError', async () => {
    await assert.rejects(guard.checkUrl('not a url'), TypeError);
  });
});
