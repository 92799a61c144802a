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
/** 1.5 * 2^52: x + RINT - RINT is x rounded to the nearest integer (ties to even) for |x| < 2^51. */
const RINT = 6755399441055744;
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

  /**
   * Appends `String(x)` where x is the value of the number token `b[s, e)` (`Number(token) === x`):
   * copied as it is when that is already the text ({@link isCanonicalDecimal}), rewritten from the
   * token when it is a plain decimal of at most 15 significant digits (see {@link decimalToken}),
   * else printed with {@link number}.
   */
  decimal(b: Uint8Array, s: number, e: number, x: number): void {
    if (this.decimalToken(b, s, e, x)) return;
    if (isCanonicalDecimal(b, s, e, x)) this.copy(b, s, e);
    else this.number(x);
  }

  /**
   * Appends `String(x)` for the plain decimal token `b[s, e)` (`-?digits[.digits]`, value x) and
   * returns true when it has at most 15 significant digits and 1e-6 <= |x| < 1e21 (or x is 0);
   * else returns false and writes nothing. Then the token's digits with leading zeros and trailing
   * fractional zeros dropped are the text: decimals of at most 15 significant digits read back as
   * distinct doubles (10^15 < 2^53 spacing argument, C's DBL_DIG), so no shorter decimal, and no
   * other of the same length, reads back as x, and Number::toString prints fixed notation there.
   */
  decimalToken(b: Uint8Array, s: number, e: number, x: number): boolean {
    let i = s;
    const neg = b[i] === 45;
    if (neg) i++;
    let dot = e;
    let first = -1; // first non-zero digit
    let last = -1; // last non-zero digit
    for (let j = i; j < e; j++) {
      const c = b[j]!;
      if (c === 46) {
        if (dot !== e) return false;
        dot = j;
      } else if (c < 48 || c > 57) return false;
      else if (c !== 48) {
        if (first < 0) first = j;
        last = j;
      }
    }
    if (e - i === (dot < e ? 1 : 0)) return false; // "", "-", "."
    this.reserve(e - s + 1);
    if (first < 0 || x === 0) {
      this.buf[this.pos++] = 48; // 0 and -0 print as "0"
      return true;
    }
    const ax = x < 0 ? -x : x;
    if (!(ax >= 1e-6 && ax < 1e21)) return false;
    // significant digits from the first to the last non-zero one (trailing integer zeros are not counted)
    if (last - first + (first < dot && last > dot ? 0 : 1) > 15) return false;
    const buf = this.buf;
    let pos = this.pos;
    if (neg) buf[pos++] = 45;
    if (first > dot)
      buf[pos++] = 48; // no integer digits: "0."
    else for (let j = first; j < dot; j++) buf[pos++] = b[j]!;
    if (last > dot) {
      buf[pos++] = 46;
      for (let j = dot + 1; j <= last; j++) buf[pos++] = b[j]!;
    }
    this.pos = pos;
    return true;
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
   *
   * One exact product X = ax * 10^p in [1e16, 1e17) (a sum of two doubles, Dekker's two-product;
   * 10^p <= 1e22 is exact) places ax on the grid of 17-significant-digit decimals. The decimals
   * that read back as ax are those within h = half the spacing of doubles at ax (times 10^p, also
   * exact) of X. For u = 100, 10, 1 (15, 16, 17 digits) the multiple M of u nearest to X is the
   * closest decimal of that length; the first u where |M - X| < h gives the answer: no shorter
   * decimal reads back (the nearest of each shorter length did not; below 15 digits at most one
   * decimal is that close, so the 15-digit one with its trailing zeros dropped is it). Cases within
   * 1e-7 of a tie between two multiples or of h, and powers of two (whose spacing below is half
   * that above), are left to String.
   */
  private shortest(ax: number, neg: boolean): boolean {
    F64[0] = ax;
    const hiWord = U32[1]!;
    const bexp = (hiWord >>> 20) & 0x7ff;
    if ((hiWord & 0xfffff) === 0 && U32[0] === 0) return false; // a power of two
    let p = 16 - (((bexp - 1023) * 78913) >> 18); // floor(log10(2) * binary exponent): X = ax * 10^p in [1e16, 1e17), possibly one off (fixed below)
    if (p > 22) p = 22;
    let hi = ax * POW10[p]!;
    if (hi >= 1e17) hi = ax * POW10[--p]!;
    else if (hi < 1e16) hi = ax * POW10[++p]!;
    if (p < 0 || p > 22 || !(hi >= 1e16 + 64 && hi < 1e17 - 64)) return false;
    const c = SPLIT * ax; // ax and 10^p split for the exact error of hi (Dekker's two-product)
    const a1 = c - (c - ax);
    const a2 = ax - a1;
    const b1 = POW10_HI[p]!;
    const b2 = POW10_LO[p]!;
    const lo = a1 * b1 - hi + a1 * b2 + a2 * b1 + a2 * b2; // X = hi + lo exactly; hi is an even integer (>= 2^53)
    let q = Math.floor(hi / 1e8);
    let rem = hi - q * 1e8; // exact: q * 1e8 = q * 390625 * 2^8 and the difference are integers below 2^53
    if (rem < 0) {
      rem += 1e8;
      q--;
    } else if (rem >= 1e8) {
      rem -= 1e8;
      q++;
    }
    const low = rem + lo; // X - q * 1e8, to about 1e-8 (only used to pick M)
    const h = POW2[bexp]! * POW10[p]!;
    // 15 digits: the multiple of 100 nearest to X (its distance |M - X|: m - rem is an exact small integer)
    let m = (low * 0.01 + RINT - RINT) * 100; // (x + RINT - RINT: x rounded to an integer, faster than Math.round)
    let dist = Math.abs(m - rem - lo);
    if (Math.abs(dist - 50) < 1e-7 || Math.abs(dist - h) < 1e-7) return false; // a tie, or on the edge
    if (dist > h) {
      m = (low * 0.1 + RINT - RINT) * 10; // 16 digits
      dist = Math.abs(m - rem - lo);
      if (Math.abs(dist - 5) < 1e-7 || Math.abs(dist - h) < 1e-7) return false;
      if (dist <= h && (m | 0) % 100 === 0) return false; // a multiple of 100 would have been found above
      if (dist > h) {
        m = low + RINT - RINT; // 17 digits: always reads back (h >= 1e16 * 2^-53 > 0.5)
        dist = Math.abs(m - rem - lo);
        if (Math.abs(dist - 0.5) < 1e-7 || Math.abs(dist - h) < 1e-7 || dist > h || (m | 0) % 10 === 0) return false;
      }
    }
    if (m >= 1e8) this.emit(q + 1, m - 1e8, p, neg);
    else if (m < 0) this.emit(q - 1, m + 1e8, p, neg);
    else this.emit(q, m, p, neg);
    return true;
  }

  /**
   * Appends the decimal (hi * 1e8 + lo) * 10^-p (0 <= lo < 1e8, 1e8 <= hi <= 1e9, 2 <= p <= 22),
   * trailing fractional zeros dropped: its 17 digits are written in place, the point put in.
   */
  private emit(hi: number, lo: number, p: number, neg: boolean): void {
    if (hi >= 1e9) {
      // 10^17 * 10^-p = 10^16 * 10^-(p - 1) (lo is 0 here)
      hi = 1e8;
      p--;
    }
    const buf = this.buf;
    let pos = this.pos;
    if (neg) buf[pos++] = 45;
    const intDigits = 17 - p; // digits before the point (<= 0: "0." and zeros first)
    let at: number; // where digit 0 goes
    if (intDigits <= 0) {
      buf[pos++] = 48;
      buf[pos++] = 46;
      for (let z = intDigits; z < 0; z++) buf[pos++] = 48;
      at = pos;
    } else at = pos + 1; // one to the right: the integer digits are moved back over the point's place
    let x = hi | 0;
    const h0 = (x / 1e8) | 0;
    buf[at] = 48 + h0;
    x -= h0 * 1e8;
    let y = lo | 0;
    for (let k = at + 7; k > at; k -= 2) {
      const q1 = (x / 100) | 0;
      const r1 = (x - q1 * 100) << 1;
      buf[k] = PAIRS[r1]!;
      buf[k + 1] = PAIRS[r1 + 1]!;
      x = q1;
      const q2 = (y / 100) | 0;
      const r2 = (y - q2 * 100) << 1;
      buf[k + 8] = PAIRS[r2]!;
      buf[k + 9] = PAIRS[r2 + 1]!;
      y = q2;
    }
    let end = at + 17;
    if (intDigits > 0) {
      for (let k = 0; k < intDigits; k++) buf[pos + k] = buf[pos + k + 1]!;
      buf[pos + intDigits] = 46;
    }
    while (buf[end - 1] === 48) end--; // trailing zeros of the fraction (there is a point: p >= 1)
    if (buf[end - 1] === 46) end--;
    this.pos = end;
  }
}
