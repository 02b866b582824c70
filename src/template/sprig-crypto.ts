/** sprig's deterministic hash and cipher functions, on Node's crypto. */
import { createDecipheriv, createHash, createHmac, scryptSync } from 'node:crypto';
import type { FuncSpec } from './exec.js';
import { utf8Bytes } from './values.js';

type Def = (name: string, params: string[], fn: FuncSpec['fn'], variadic?: string) => void;

/** hash/adler32 */
function adler32(b: Uint8Array): number {
  let a = 1;
  let s = 0;
  for (const x of b) {
    a = (a + x) % 65521;
    s = (s + a) % 65521;
  }
  return ((s << 16) | a) >>> 0;
}

/** The Master Password algorithm's templates and character classes, as sprig uses them. */
const PASSWORD_TEMPLATES: Record<string, string[]> = {
  maximum: ['anoxxxxxxxxxxxxxxxxx', 'axxxxxxxxxxxxxxxxxno'],
  long: [
    'CvcvnoCvcvCvcv',
    'CvcvCvcvnoCvcv',
    'CvcvCvcvCvcvno',
    'CvccnoCvcvCvcv',
    'CvccCvcvnoCvcv',
    'CvccCvcvCvcvno',
    'CvcvnoCvccCvcv',
    'CvcvCvccnoCvcv',
    'CvcvCvccCvcvno',
    'CvcvnoCvcvCvcc',
    'CvcvCvcvnoCvcc',
    'CvcvCvcvCvccno',
    'CvccnoCvccCvcv',
    'CvccCvccnoCvcv',
    'CvccCvccCvcvno',
    'CvcvnoCvccCvcc',
    'CvcvCvccnoCvcc',
    'CvcvCvccCvccno',
    'CvccnoCvcvCvcc',
    'CvccCvcvnoCvcc',
    'CvccCvcvCvccno',
  ],
  medium: ['CvcnoCvc', 'CvcCvcno'],
  short: ['Cvcn'],
  basic: ['aaanaaan', 'aannaaan', 'aaannaaa'],
  pin: ['nnnn'],
};

const TEMPLATE_CHARS: Record<string, string> = {
  V: 'AEIOU',
  C: 'BCDFGHJKLMNPQRSTVWXYZ',
  v: 'aeiou',
  c: 'bcdfghjklmnpqrstvwxyz',
  A: 'AEIOUBCDFGHJKLMNPQRSTVWXYZ',
  a: 'AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz',
  n: '0123456789',
  o: "@&%?,=[]_:-+*$#!'^~;()/.",
  x: 'AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()',
};

const SEED = 'com.lyndir.masterpassword';

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/** The Master Password algorithm (scrypt key, HMAC-SHA256 seed, template), as sprig implements it. */
function derivePassword(counter: number, type: string, password: string, user: string, site: string): string {
  const templates = PASSWORD_TEMPLATES[type];
  if (!templates) return `cannot find password template ${type}`;
  const userB = Buffer.from(user, 'utf8');
  const salt = Buffer.concat([Buffer.from(SEED), u32(userB.length), userB]);
  const key = scryptSync(Buffer.from(password, 'utf8'), salt, 64, {
    N: 32768,
    r: 8,
    p: 2,
    maxmem: 64 * 1024 * 1024,
  });
  const siteB = Buffer.from(site, 'utf8');
  const seed = createHmac('sha256', key)
    .update(Buffer.concat([Buffer.from(SEED), u32(siteB.length), siteB, u32(counter)]))
    .digest();
  const tpl = templates[seed[0] % templates.length];
  let out = '';
  for (let i = 0; i < tpl.length; i++) {
    const chars = TEMPLATE_CHARS[tpl[i]];
    out += chars[seed[i + 1] % chars.length];
  }
  return out;
}

export function defineCrypto(def: Def): void {
  // Go takes a uint32 counter; tend accepts any int and wraps it the same way.
  def('derivePassword', ['int', 'string', 'string', 'string', 'string'], derivePassword);
  def('sha1sum', ['string'], (s: string) => createHash('sha1').update(s, 'utf8').digest('hex'));
  def('sha256sum', ['string'], (s: string) => createHash('sha256').update(s, 'utf8').digest('hex'));
  def('adler32sum', ['string'], (s: string) => String(adler32(utf8Bytes(s))));
  def('decryptAES', ['string', 'string'], (password: string, text: string) => {
    if (text === '') return '';
    // encoding/base64 skips line breaks; the buffer it decodes into is sized from the whole text.
    const b64 = text.replace(/[\r\n]/g, '');
    const key = Buffer.alloc(32);
    Buffer.from(password, 'utf8').copy(key);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) {
      const i = b64.search(/[^A-Za-z0-9+/=]/);
      throw new Error(`illegal base64 data at input byte ${i < 0 ? b64.length - (b64.length % 4) : i}`);
    }
    const crypt = Buffer.from(b64, 'base64');
    // Go slices the IV out of a buffer of capacity DecodedLen.
    if (crypt.length < 16) {
      throw new Error(
        `runtime error: slice bounds out of range [:16] with capacity ${Math.floor(text.length / 4) * 3}`,
      );
    }
    const d = createDecipheriv('aes-256-cbc', key, crypt.subarray(0, 16));
    d.setAutoPadding(false);
    const body = crypt.subarray(16);
    if (body.length % 16 !== 0) throw new Error('crypto/cipher: input not full blocks');
    const plain = Buffer.concat([d.update(body), d.final()]);
    if (plain.length === 0) throw new Error('runtime error: index out of range [-1]');
    const pad = plain.length > 0 ? plain[plain.length - 1] : 0;
    const end = plain.length - pad;
    if (end < 0) throw new Error(`runtime error: slice bounds out of range [:${end}]`);
    return plain.subarray(0, end).toString('utf8');
  });
}
