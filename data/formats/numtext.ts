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

const SPLIT = 134217729; // 2^27 + 1, Dekker's splitter
let prodHi = 0;
let prodLo = 0;
/** ax * 10^p (p <= 22) exactly, as prodHi + prodLo (Dekker's two-product; no overflow in this range). */
function exactProduct(ax: number, p: number): void {
  const b = POW10[p]!;
  const h = ax * b;
  let c = SPLIT * ax;
  const a1 = c - (c - ax);
  const a2 = ax - a1;
  c = SPLIT * b;
  const b1 = c - (c - b);
  const b2 = b - b1;
  prodHi = h;
  prodLo = a1 * b1 - h + a1 * b2 + a2 * b1 + a2 * b2;
}

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
      do {
        const q = (lo / 10) | 0;
        d[--k] = 48 + lo - q * 10;
        lo = q;
      } while (lo > 0);
      return k;
    }
    for (let j = 0; j < 8; j++) {
      const q = (lo / 10) | 0;
      d[--k] = 48 + lo - q * 10;
      lo = q;
    }
    do {
      const q = (hi / 10) | 0;
      d[--k] = 48 + hi - q * 10;
      hi = q;
    } while (hi > 0);
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
    if (ax >= 1e-6 && ax < 1e15 && this.shortest(ax, x < 0)) return;
    this.ascii(String(x));
  }

  /**
   * Appends `String(ax)` (with a '-' when `neg`) for 1e-6 <= ax < 1e15, or returns false (nothing
   * written) in the rare cases it cannot settle (then the caller uses String). Number::toString
   * prints the shortest decimal that reads back as ax, the one closest to ax among several:
   * - 15 digits or fewer: a candidate m * 10^-p (m < 2^53, p <= 22) reads back as ax exactly when
   *   m / 10^p === ax (one correctly rounded division of exact doubles, which is how the decimal
   *   itself reads), and a decimal of at most 15 significant digits that reads back as ax is the
   *   only one of its length or shorter (15 digits always survive a round trip through float64);
   * - else 16, then 17 digits: the decimal nearest to ax of that length, from the exact product
   *   ax * 10^p as a sum of two doubles (Dekker); at 16 digits it must read back as ax (checked as
   *   above), at 17 it always does.
   */
  private shortest(ax: number, neg: boolean): boolean {
    let e10 = Math.floor(Math.log10(ax)); // decimal exponent, possibly off by one (fixed below)
    if (e10 < -6) e10 = -6;
    let p = 14 - e10; // 15 significant digits: m = ax * 10^p in [1e14, 1e15)
    if (p < 0 || p > 20) return false;
    let approx = ax * POW10[p]!;
    if (approx >= 1e15) approx = ax * POW10[--p]!;
    else if (approx < 1e14) approx = ax * POW10[++p]!;
    if (p < 0 || p > 20) return false;
    const div = POW10[p]!;
    let m = Math.round(approx);
    if (m / div !== ax) {
      if ((m - 1) / div === ax) m -= 1;
      else if ((m + 1) / div === ax) m += 1;
      else m = -1;
    }
    if (m >= 0) {
      this.emit(Math.floor(m / 1e8), m - Math.floor(m / 1e8) * 1e8, p, neg);
      return true;
    }
    // 16 digits: the nearest 16-digit decimal, if it reads back as ax
    exactProduct(ax, p + 1);
    let hi = prodHi;
    let lo = prodLo;
    const r = Math.round(hi);
    const f = hi - r + lo;
    let rf = Math.round(f);
    if (Math.abs(Math.abs(f - rf) - 0.5) < 1e-6) return false; // (nearly) halfway: leave it to String
    const n16 = r + rf;
    if (n16 >= TWO53) return false;
    if (n16 / POW10[p + 1]! === ax) {
      const q = Math.floor(n16 / 1e8);
      const rem = n16 - q * 1e8;
      if (rem % 10 === 0) return false; // would have been found with 15 digits
      this.emit(q, rem, p + 1, neg);
      return true;
    }
    // 17 digits: the nearest 17-digit decimal (ax * 10^p >= 1e16 > 2^53, so hi is an integer)
    exactProduct(ax, p + 2);
    hi = prodHi;
    lo = prodLo;
    if (hi < 1e16 || hi >= 1e17) return false;
    rf = Math.round(lo);
    if (Math.abs(Math.abs(lo - rf) - 0.5) < 1e-6) return false;
    let q = Math.floor(hi / 1e8);
    let rem = hi - q * 1e8; // exact: q * 1e8 and the difference are exact doubles
    rem += rf;
    while (rem < 0) {
      rem += 1e8;
      q--;
    }
    while (rem >= 1e8) {
      rem -= 1e8;
      q++;
    }
    if (rem % 10 === 0) return false;
    this.emit(q, rem, p + 2, neg);
    return true;
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
    if (neg) buf[this.pos++] = 45;
    if (p === 0) {
      for (; k < te; k++) buf[this.pos++] = d[k]!;
    } else if (p >= nd) {
      buf[this.pos++] = 48;
      buf[this.pos++] = 46;
      for (let z = 0; z < p - nd; z++) buf[this.pos++] = 48;
      for (; k < te; k++) buf[this.pos++] = d[k]!;
    } else {
      const intEnd = te - p;
      for (; k < intEnd; k++) buf[this.pos++] = d[k]!;
      buf[this.pos++] = 46;
      for (; k < te; k++) buf[this.pos++] = d[k]!;
    }
  }
}
