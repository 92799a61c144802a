// Number text of the streaming converter (data/formats/numtext.ts): numbers printed into bytes
// equal String(x) for every kind of double tried (6-decimal data, rotation entries, random
// magnitudes and bit patterns, ties and boundaries), and the canonical-token test agrees with
// String(Number(token)).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteSink, isCanonicalDecimal } from './formats/numtext.ts';

/** A deterministic generator (xorshift) so a failure can be reproduced. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

function printed(xs: number[]): string[] {
  const sink = new ByteSink(64);
  for (const x of xs) {
    sink.number(x);
    sink.reserve(1);
    sink.byte(10);
  }
  return sink.buf.toString('latin1', 0, sink.pos).split('\n').slice(0, -1);
}

test('ByteSink.number prints exactly what String(x) prints', () => {
  const r = rng(7);
  const xs: number[] = [0, -0, 1, -1, 0.1, 0.2, 0.30000000000000004, 1e-6, 1e-7, 9.999999e-7, 1e15, 1e15 - 1, 999999999999999.9, 123456789012345.6];
  xs.push(5e-324, 2.2250738585072014e-308, Number.MAX_VALUE, Number.EPSILON, 2 ** 53, 2 ** 53 - 1, 2 ** 53 + 2, 0.7071067811865476, 1 / 3, 2 / 3);
  for (let i = 0; i < 20000; i++) {
    xs.push(Number((r() * 20 - 10).toFixed(Math.floor(r() * 10)))); // short decimals as files hold them
    xs.push(Math.cos(r() * 7)); // rotation entries
    xs.push((r() - 0.5) * 10 ** Math.floor(r() * 34 - 12)); // any magnitude
    const b = new DataView(new ArrayBuffer(8)); // any bit pattern (finite)
    b.setUint32(0, Math.floor(r() * 4294967296));
    b.setUint32(4, Math.floor(r() * 4294967296));
    const y = b.getFloat64(0);
    if (Number.isFinite(y)) xs.push(y);
    const d = Math.floor(r() * 1e9) / 1e9 + Math.floor(r() * 2e9); // timestamps
    xs.push(d, d + 1e-7, d * (1 + Number.EPSILON));
  }
  for (let k = -7; k <= 16; k++) for (const m of [1, 5, 9.5, 1.25, 4.35, 0.5]) xs.push(m * 10 ** k, -m * 10 ** k);
  const got = printed(xs);
  for (let i = 0; i < xs.length; i++) if (got[i] !== String(xs[i])) assert.fail(`${xs[i]}: printed '${got[i]}', String gives '${String(xs[i])}'`);
});

test('isCanonicalDecimal: a token is copied only when it is the text String(Number(token))', () => {
  const r = rng(11);
  const toks = ['0', '-0', '0.0', '00.5', '.5', '5.', '0.50', '1', '-1', '+1', '10', '1e3', '0.000001', '0.0000001', '1305031102.175304', '1305031102.1753040'];
  toks.push(
    '0.30000000000000004',
    '0.1000000000000000055511151231257827',
    '123456789012345678',
    '2251799813685247',
    '2251799813685248',
    '-12.5',
    '3.14159265358979323846',
  );
  for (let i = 0; i < 20000; i++) {
    const intPart = String(Math.floor(r() * 10 ** Math.floor(r() * 12)));
    const frac = String(Math.floor(r() * 1e9))
      .padStart(9, '0')
      .slice(0, Math.floor(r() * 10));
    toks.push((r() < 0.3 ? '-' : '') + intPart + (frac ? `.${frac}` : ''));
  }
  for (const tok of toks) {
    const b = Buffer.from(tok, 'latin1');
    const x = Number(tok);
    if (isCanonicalDecimal(b, 0, b.length, x)) assert.equal(tok, String(x), `token '${tok}' taken as canonical`);
  }
  // the common shapes are recognised (else nothing would be gained)
  for (const tok of ['1305031102.175304', '-0.012345', '4.999998', '0', '12']) assert.ok(isCanonicalDecimal(Buffer.from(tok), 0, tok.length, Number(tok)), tok);
});

test('ByteSink.number matches String on 17-digit values near every decimal exponent and on digit-boundary cases', () => {
  const r = rng(23);
  const xs: number[] = [];
  for (let i = 0; i < 60000; i++) {
    const e = Math.floor(r() * 22) - 6; // 1e-6 .. 1e15: the range printed without String
    const base = (1 + r() * 9) * 10 ** e;
    xs.push(base, -base);
    // neighbours of short decimals (one or two ulps away need 16-17 digits)
    const short = Number(base.toPrecision(1 + Math.floor(r() * 15)));
    let y = short;
    for (let k = 0; k < 3; k++) {
      y = y * (1 + Number.EPSILON);
      xs.push(y);
    }
    xs.push(short * (1 - Number.EPSILON), short);
  }
  // near the 1e16 / 1e17 grid edges and carries (9.99...)
  for (let k = -6; k < 15; k++) for (const m of [9.999999999999998, 1.0000000000000002, 9.95, 0.9999999999999999]) xs.push(m * 10 ** k);
  const got = printed(xs);
  for (let i = 0; i < xs.length; i++) if (got[i] !== String(xs[i])) assert.fail(`${xs[i]}: printed '${got[i]}', String gives '${String(xs[i])}'`);
});

test('ByteSink.decimal writes String(Number(token)) for every token shape a file holds', () => {
  const r = rng(31);
  const toks = [
    '0',
    '-0',
    '0.000000',
    '-0.000000',
    '5.000000',
    '0.000240',
    '00012.50',
    '.5',
    '5.',
    '-.25',
    '1200',
    '1200.000',
    '0.000001',
    '0.0000010',
    '0.00000099',
  ];
  toks.push(
    '123456789012345',
    '1234567890123456',
    '12345678901234567',
    '0.1234567890123456789',
    '100000000000000000000',
    '1000000000000000000000',
    '1305031102.010000',
  );
  for (let i = 0; i < 40000; i++) {
    const intPart = r() < 0.2 ? '' : '0'.repeat(Math.floor(r() * 2)) + String(Math.floor(r() * 10 ** Math.floor(r() * 16)));
    const frac = String(Math.floor(r() * 1e12))
      .padStart(12, '0')
      .slice(0, Math.floor(r() * 13));
    const tok = (r() < 0.3 ? '-' : '') + intPart + (frac || r() < 0.1 ? `.${frac}` : '');
    if (/\d/.test(tok)) toks.push(tok);
  }
  const sink = new ByteSink(64);
  for (const tok of toks) {
    const b = Buffer.from(`  ${tok} `, 'latin1');
    const x = Number(tok);
    sink.pos = 0;
    sink.decimal(b, 2, 2 + tok.length, x);
    assert.equal(sink.buf.toString('latin1', 0, sink.pos), String(x), `token '${tok}'`);
  }
  // the shapes of 6-decimal files are rewritten from their text, not printed
  for (const tok of ['5.000000', '0.000240', '1305031102.010000', '-0.000000']) {
    const s = new ByteSink(64);
    assert.ok(s.decimalToken(Buffer.from(tok), 0, tok.length, Number(tok)), tok);
  }
  for (const tok of ['1234567890123456', '1e5', '+1', '1.2.3', '-', '.'])
    assert.ok(!new ByteSink(64).decimalToken(Buffer.from(tok), 0, tok.length, Number(tok)), tok);
});
