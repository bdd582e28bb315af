/**
 * API keys: 160+ random bits, shown once, stored only as a SHA-256 hash. A fast hash is right
 * here (unlike for passwords): the key is random, so there is nothing to brute-force.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const KEY_BYTES = 24; // 192 bits

/** A new key such as `shk_3f9a…` (48 hex chars after the prefix). */
export function generateApiKey(): string {
  return `shk_${randomBytes(KEY_BYTES).toString('hex')}`;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** The start of a key, safe to show in listings and logs. */
export function keyPrefix(key: string): string {
  return key.slice(0, 8);
}

/** Constant-time comparison of a presented key against a stored hash. */
export function apiKeyMatches(presented: string, storedHash: string): boolean {
  const a = Buffer.from(hashApiKey(presented), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
