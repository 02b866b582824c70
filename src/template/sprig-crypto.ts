/** sprig's deterministic hash and cipher functions, on Node's crypto. */
import { createDecipheriv, createHash } from 'node:crypto';
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

export function defineCrypto(def: Def): void {
  def('sha1sum', ['string'], (s: string) => createHash('sha1').update(s, 'utf8').digest('hex'));
  def('sha256sum', ['string'], (s: string) => createHash('sha256').update(s, 'utf8').digest('hex'));
  def('adler32sum', ['string'], (s: string) => String(adler32(utf8Bytes(s))));
  def('decryptAES', ['string', 'string'], (password: string, b64: string) => {
    if (b64 === '') return '';
    const key = Buffer.alloc(32);
    Buffer.from(password, 'utf8').copy(key);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) {
      const i = b64.search(/[^A-Za-z0-9+/=]/);
      throw new Error(`illegal base64 data at input byte ${i < 0 ? b64.length - (b64.length % 4) : i}`);
    }
    const crypt = Buffer.from(b64, 'base64');
    if (crypt.length < 16) throw new Error('ciphertext too short');
    const d = createDecipheriv('aes-256-cbc', key, crypt.subarray(0, 16));
    d.setAutoPadding(false);
    const body = crypt.subarray(16);
    if (body.length % 16 !== 0) throw new Error('crypto/cipher: input not full blocks');
    const plain = Buffer.concat([d.update(body), d.final()]);
    const pad = plain.length > 0 ? plain[plain.length - 1] : 0;
    const end = plain.length - pad;
    if (end < 0) throw new Error(`runtime error: slice bounds out of range [:${end}]`);
    return plain.subarray(0, end).toString('utf8');
  });
}
