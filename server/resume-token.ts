// The secret a client resumes its broadcast with: random, and compared in constant time.
import { randomBytes, timingSafeEqual } from 'node:crypto';

export function newResumeToken(): string {
  return randomBytes(24).toString('base64url');
}

/** Whether `given` is the token, compared in constant time. */
export function isToken(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
