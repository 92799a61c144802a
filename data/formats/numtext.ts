// Number text for the streaming converter (data/formats): a growable byte buffer that numbers are
// printed into exactly as `String(x)` prints them (the shortest decimal that reads back as x,
// ECMAScript Number::toString), without making a string in the common cases, and a test of
// whether a number token of the input is already that text (so it can be copied as it is).

const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k); // exact doubles up to 1e22
const TWO53 = 9007199254740992;

/**
 * Whether the plain decimal token `b[s, e)` (`-?digits[.digits]`, no exponent, no `+`) is exactly
 * the text `String(Number(token))` gives, so a converter may copy it instead of printing the number.
 * True when it is written canonically (no leading zeros, no trailing fractional zeros, not `-0`,
 * between 1e-6 and 2^51) and the unit of its last digit is larger than the spacing of doubles at
 * its value: then it is the only decimal of at most its length that reads back as that double,
 * i.e. the shortest, which is what Number::toString prints. `x` is the token's value.
 */
export function isCanonicalDecimal(b: Uint8Array, s: number, e: number, x: number): boolean {
  let i = s;
  if (b[i] === 45) i++; // '-'
  if (i >= e) return false;
  const first = b[i]!;
  let dot = -1;
  for (let j = i; j < e; j++) {
    const c = b[j]!;
    if (c === 46) {
      if (dot >= 0) return false;
      dot = j;
    } else if (c < 48 || c > 57) return false;
  }
  const ax = Math.abs(x);
  if (dot < 0) {
    // an integer: no leading zero (but "0" itself), not "-0", below 2^51 (its unit 1 exceeds the spacing)
    if (first === 48) return e - i === 1 && i === s;
    return ax < TWO53 / 4;
  }
  const intDigits = dot - i;
  const fracDigits = e - dot - 1;
  if (intDigits === 0 || fracDigits === 0 || b[e - 1] === 48) return false; // ".5", "5.", "0.50"
  if (first === 48 && intDigits > 1) return false; // "00.5"
  if (!(ax >= 1e-6 && ax < TWO53 / 4) || fracDigits > 22) return false; // Number::toString uses exponents below 1e-6
  return 1 / POW10[fracDigits]! > ax * 4.440892098500626e-16; // last digit's unit > 2 * 2^-52 * |x| >= the spacing
}

/** ASCII digit pairs 00..99. */
const PAIRS = Uint8Array.from({ length: 200 }, (_, i) => 48 + (i & 1 ? (i >> 1) % 10 : Math.floor(i / 20)));
const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer); // little-endian: U32[1] holds sign, exponent and the top of the mantissa
F64[0] = 1;
const LITTLE_ENDIAN = U32[1] === 0x3ff00000;
/** POW2[e] = 2^(e - 1076): half the spacing of doubles with biased exponent e (normal numbers). */
const POW2 = Float64Array.from({ length: 2048 }, (_, e) => 2 ** (Math.max(e, 1) - 1075 - 1));
const SPLIT = 134217729; // 2^27 + 1, Dekker's splitter
/** POW10 split into high and low halves of 26 bits (Dekker), for exact products. */
const POW10_HI = Float64Array.from(POW10, (b) => {
  const c = SPLIT * b;
  return c - (c - b);
});
const POW10_LO = Float64Array.from(POW10, (b, k) => b - POW10_HI[k]!);

/** A growable byte buffer that text and numbers are appended to. */
export class ByteSink {
  buf: Buffer;
  pos = 0;
  private readonly digits = new Uint8Array(24);

  constructor(size = 1 << 20) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Makes room for `n` more bytes. */
  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Appends one byte (the caller reserved room). */
  byte(c: number): void {
    this.buf[this.pos++] = c;
  }

  /** Appends `src[s, e)`. */
  copy(src: Uint8Array, s: number, e: number): void {
    this.reserve(e - s);
    if (e - s < 24) for (let j = s; j < e; j++) this.buf[this.pos++] = src[j]!;
    else {
      this.buf.set(src.subarray(s, e), this.pos);
      this.pos += e - s;
    }
  }

  /** Appends an ASCII string. */
  ascii(str: string): void {
    this.reserve(str.length);
    for (let j = 0; j < str.length; j++) this.buf[this.pos++] = str.charCodeAt(j);
  }

  /** Writes the digits of hi * 1e8 + lo (int32 parts, 0 <= lo < 1e8) right-aligned into `digits`; returns the first index. */
  private digitsOf(hi: number, lo: number): number {
    const d = this.digits;
    let k = d.length;
    if (hi === 0) {
      while (lo >= 100) {
        const q = (lo / 100) | 0;
        const r = (lo - q * 100) << 1;
        d[--k] = PAIRS[r + 1]!;
        d[--k] = PAIRS[r]!;
        lo = q;
      }
      if (lo >= 10) {
        d[--k] = PAIRS[(lo << 1) + 1]!;
        d[--k] = PAIRS[lo << 1]!;
      } else d[--k] = 48 + lo;
      return k;
    }
    for (let j = 0; j < 4; j++) {
      const q = (lo / 100) | 0;
      const r = (lo - q * 100) << 1;
      d[--k] = PAIRS[r + 1]!;
      d[--k] = PAIRS[r]!;
      lo = q;
    }
    while (hi >= 10) {
      const q = (hi / 10) | 0;
      d[--k] = 48 + hi - q * 10;
      hi = q;
    }
    d[--k] = 48 + hi;
    return k;
  }

  /** Appends the digits of the integer 0 <= m < 2^53. */
  uint(m: number): void {
    const d = this.digits;
    const hi = Math.floor(m / 1e8);
    let k = this.digitsOf(hi, m - hi * 1e8);
    this.reserve(d.length - k);
    for (; k < d.length; k++) this.buf[this.pos++] = d[k]!;
  }

  /** Appends `String(x)` for a finite x. */
  number(x: number): void {
    this.reserve(26);
    if (x === 0) {
      this.buf[this.pos++] = 48; // 0 and -0
      return;
    }
    const ax = x < 0 ? -x : x;
    if (ax >= 1e-6 && ax < 1e15 && LITTLE_ENDIAN && this.shortest(ax, x < 0)) return;
    this.ascii(String(x));
  }

  /**
   * Appends `String(ax)` (with a '-' when `neg`) for 1e-6 <= ax < 1e15, or returns false (nothing
   * written) in the rare cases it cannot settle (then the caller uses String). Number::toString
   * prints the shortest decimal that reads back as ax, and of several such, the one closest to ax.
   * For D = 15, 16, 17 significant digits: the D-digit decimal nearest to ax is N * 10^-p, N the
   * integer nearest to the exact product ax * 10^p (a sum of two doubles, Dekker); it reads back
   * as ax when |N - ax * 10^p| is below half the spacing of doubles at ax, scaled by 10^p (exact:
   * a power of two times 10^p <= 1e22). The first D where it does gives the answer: no shorter
   * decimal reads back (the nearest of each shorter length did not), and it is the closest of its
   * length. Values within 1e-9 of a tie or of the half spacing, and powers of two (whose spacing
   * below is half that above), are left to String.
   */
  private shortest(ax: number, neg: boolean): boolean {
    F64[0] = ax;
    const hiWord = U32[1]!;
    const bexp = (hiWord >>> 20) & 0x7ff;
    if ((hiWord & 0xfffff) === 0 && U32[0] === 0) return false; // a power of two
    const halfUlp = POW2[bexp]!; // half the spacing of doubles at ax
    let e10 = Math.floor((bexp - 1023) * 0.3010299956639812); // decimal exponent from the binary one, possibly one too low (fixed below)
    if (e10 < -6) e10 = -6;
    let p = 14 - e10; // 15 significant digits: ax * 10^p in [1e14, 1e15)
    if (p < 0 || p > 20) return false;
    const approx = ax * POW10[p]!;
    if (approx >= 1e15) p--;
    else if (approx < 1e14) p++;
    if (p < 0 || p > 20) return false;
    const c = SPLIT * ax; // ax split for the exact products ax * 10^p = hi + lo (Dekker's two-product)
    const a1 = c - (c - ax);
    const a2 = ax - a1;
    for (let D = 15; D <= 17; D++, p++) {
      const b1 = POW10_HI[p]!;
      const b2 = POW10_LO[p]!;
      const hi = ax * POW10[p]!;
      const lo = a1 * b1 - hi + a1 * b2 + a2 * b1 + a2 * b2;
      const r = Math.round(hi);
      const f = hi - r + lo; // ax * 10^p - r (hi - r is exact)
      const rf = Math.round(f);
      const dist = Math.abs(rf - f); // |N - ax * 10^p|, N = r + rf
      if (Math.abs(dist - 0.5) < 1e-9) return false;
      const h = halfUlp * POW10[p]!;
      if (Math.abs(dist - h) < 1e-9) return false;
      if (dist > h) continue; // the nearest D-digit decimal does not read back: none does
      let q = Math.floor(r / 1e8);
      let rem = r - q * 1e8 + rf; // exact: q * 1e8, the difference and the sum are integers below 2^53
      while (rem < 0) {
        rem += 1e8;
        q--;
      }
      while (rem >= 1e8) {
        rem -= 1e8;
        q++;
      }
      if (D > 15 && rem % 10 === 0) return false; // would have been found shorter
      this.emit(q, rem, p, neg);
      return true;
    }
    return false;
  }

  /** Appends the decimal (hi * 1e8 + lo) * 10^-p (0 <= lo < 1e8, hi < 2^31), trailing fractional zeros dropped. */
  private emit(hi: number, lo: number, p: number, neg: boolean): void {
    const d = this.digits;
    let k = this.digitsOf(hi | 0, lo | 0);
    let te = d.length;
    while (p > 0 && te - 1 > k && d[te - 1] === 48) {
      te--;
      p--;
    }
    const nd = te - k;
    const buf = this.buf;
    let pos = this.pos;
    if (neg) buf[pos++] = 45;
    if (p === 0) {
      for (; k < te; k++) buf[pos++] = d[k]!;
    } else if (p >= nd) {
      buf[pos++] = 48;
      buf[pos++] = 46;
      for (let z = 0; z < p - nd; z++) buf[pos++] = 48;
      for (; k < te; k++) buf[pos++] = d[k]!;
    } else {
      const intEnd = te - p;
      for (; k < intEnd; k++) buf[pos++] = d[k]!;
      buf[pos++] = 46;
      for (; k < te; k++) buf[pos++] = d[k]!;
    }
    this.pos = pos;
  }
}
