// Tests of the tape: accumulation, zeroing, no-grad scopes, custom ops, second order,
// functional helpers, checkpointing and the non-finite trap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  NonFiniteError,
  Rng,
  Tensor,
  type GradAccumulator,
  add,
  backward,
  checkpoint,
  customOp,
  div,
  exp,
  gradients,
  grad,
  hvp,
  jacobian,
  log,
  matmul,
  mul,
  noGrad,
  randn,
  setDebugNonFinite,
  sin,
  sqrt,
  sum,
  tensor,
  valueAndGrad,
  vjp,
  zeroGrad,
} from './index.ts';

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-12): void => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= tol * (1 + Math.abs(b[i]!)), `index ${i}: ${a[i]} vs ${b[i]}`);
};

test('backward accumulates into .grad until zeroGrad clears it', () => {
  const x = tensor([1, 2, 3]).requireGrad();
  backward(sum(mul(x, x)));
  close(x.grad!.data, [2, 4, 6]);
  backward(sum(mul(x, 3)));
  close(x.grad!.data, [5, 7, 9]);
  zeroGrad([x]);
  assert.equal(x.grad, null);
});

test('a tensor used twice gets the sum of both paths and the inputs are not mutated', () => {
  const x = tensor([2]).requireGrad();
  const y = add(x, x); // both gradients are the same tensor object
  const z = mul(y, x); // 2x^2
  backward(z);
  close(x.grad!.data, [8]);
  close(x.data, [2]);
});

test('noGrad results do not require grad and backward on them explains why it fails', () => {
  const x = tensor([1]).requireGrad();
  const y = noGrad(() => mul(x, 2));
  assert.equal(y.requiresGrad, false);
  assert.throws(() => backward(y), /does not require grad/);
});

test('customOp joins the tape with a hand-written backward', () => {
  const x = tensor([0.3, -0.7]).requireGrad();
  const [y] = customOp(
    'cube',
    [x],
    ([a]) => [
      new Tensor(
        a!.data.map((v) => v * v * v),
        a!.shape,
      ),
    ],
    ([g], [a]) => [
      new Tensor(
        a!.data.map((v, i) => 3 * v * v * g!.data[i]!),
        a!.shape,
      ),
    ],
  );
  backward(sum(sin(y!)));
  close(
    x.grad!.data,
    [0.3, -0.7].map((v) => Math.cos(v ** 3) * 3 * v * v),
  );
});

/** y = w * x as a custom op whose backward adds dL/dw in place where the pass offers an accumulator. */
function scaleInPlace(x: Tensor, w: Tensor, seen: { into: (Float64Array | null)[]; consumed: boolean[] }): Tensor {
  return customOp(
    'scale_in_place',
    [x, w],
    ([a, b]) => [
      new Tensor(
        a!.data.map((v) => v * b!.data[0]!),
        a!.shape,
      ),
    ],
    ([g], [a, b], _outs, acc: GradAccumulator | null) => {
      const gx = new Tensor(
        g!.data.map((v) => v * b!.data[0]!),
        a!.shape,
      );
      let gw = 0;
      for (let i = 0; i < a!.size; i++) gw += g!.data[i]! * a!.data[i]!;
      const into = acc?.into(1) ?? null;
      seen.into.push(into);
      if (acc) seen.consumed.push(acc.consumed(0));
      if (!into) return [gx, new Tensor(new Float64Array([gw]), [1])];
      into[0] = into[0]! + gw;
      return [gx, null];
    },
  )[0]!;
}

test('a custom op may add a gradient in place into the pass accumulator (one buffer for all its uses)', () => {
  const x0 = tensor([0.5, -1.5, 2]).requireGrad();
  const w = tensor([0.9]).requireGrad();
  const seen = { into: [] as (Float64Array | null)[], consumed: [] as boolean[] };
  const xs = [x0];
  for (let k = 0; k < 4; k++) xs.push(scaleInPlace(xs[k]!, w, seen));
  backward(sum(mul(xs[4]!, xs[4]!)));
  // L = sum((w^4 x0)^2) = w^8 |x0|^2: dL/dw = 8 w^7 |x0|^2, dL/dx0 = 2 w^8 x0
  const n2 = 0.25 + 2.25 + 4;
  close(w.grad!.data, [8 * 0.9 ** 7 * n2]);
  close(
    x0.grad!.data,
    [0.5, -1.5, 2].map((v) => 2 * 0.9 ** 8 * v),
  );
  assert.equal(seen.into.length, 4);
  for (const b of seen.into) assert.equal(b, w.grad!.data, 'every use adds into the one accumulator that becomes .grad');
  assert.deepEqual(seen.consumed, [true, true, true, true], 'intermediate gradients are let go of after use');
  // createGraph: no accumulator is offered, the op returns its gradient, the result is the same
  const seen2 = { into: [] as (Float64Array | null)[], consumed: [] as boolean[] };
  let y = x0;
  for (let k = 0; k < 4; k++) y = scaleInPlace(y, w, seen2);
  const [gw2] = gradients(sum(mul(y, y)), [w], undefined, { createGraph: true });
  close(gw2!.data, [8 * 0.9 ** 7 * n2]);
  assert.deepEqual(seen2.into, [null, null, null, null]);
  // an intermediate the caller asked for is kept: not consumed
  const seen3 = { into: [] as (Float64Array | null)[], consumed: [] as boolean[] };
  const y1 = scaleInPlace(x0, w, seen3);
  const y2 = scaleInPlace(y1, w, seen3);
  const [gy1, gw3] = gradients(sum(y2), [y1, w]);
  close(gy1!.data, [0.9, 0.9, 0.9]);
  close(gw3!.data, [0.9 * (0.5 - 1.5 + 2) + 0.9 * (0.5 - 1.5 + 2)]);
  assert.deepEqual(seen3.consumed, [true, false], "y2's gradient is let go of, y1's is returned to the caller");
});

test('the non-finite trap checks gradients added in place and names the op', () => {
  const x = tensor([1, 2]).requireGrad();
  const w = tensor([3]).requireGrad();
  const [y] = customOp(
    'bad_in_place',
    [x, w],
    ([a]) => [a!],
    ([g], _ins, _outs, acc) => {
      const into = acc?.into(1);
      if (into) into[0] = NaN;
      return [g, into ? null : tensor([NaN])];
    },
  );
  setDebugNonFinite(true);
  try {
    assert.throws(
      () => backward(sum(y!)),
      (e: unknown) => e instanceof NonFiniteError && /bad_in_place \(backward\): gradient of input 1 \(accumulated\) has NaN/.test(e.message),
    );
  } finally {
    setDebugNonFinite(false);
  }
});

test('createGraph lets a gradient be differentiated again (d2/dx2 of x^3 = 6x)', () => {
  const x = tensor([1.5]).requireGrad();
  const [g] = gradients(mul(mul(x, x), x), [x], undefined, { createGraph: true });
  assert.ok(g!.requiresGrad);
  const [h] = gradients(g!, [x]);
  close(h!.data, [9]);
});

test('grad of grad nests through the functional helpers', () => {
  const f = (x: Tensor): Tensor => sum(mul(exp(x), x));
  const d1 = (x: Tensor): Tensor => sum(grad(f)(x)[0]!);
  const [d2] = grad(d1)(tensor([0.5]));
  // f' = e^x (1 + x), f'' = e^x (2 + x)
  close(d2!.data, [Math.exp(0.5) * 2.5], 1e-12);
});

test('valueAndGrad, vjp, jacobian and hvp agree with closed forms', () => {
  const [v, [g]] = valueAndGrad((x) => sum(mul(x, x)))(tensor([1, -2]));
  assert.equal(v.item(), 5);
  close(g!.data, [2, -4]);
  const [, [gv]] = vjp((x) => mul(x, x), [tensor([1, 2])], tensor([1, 10]));
  close(gv!.data, [2, 40]);
  const J = jacobian(
    (x) =>
      matmul(
        tensor([
          [1, 2],
          [3, 4],
          [5, 6],
        ]),
        sin(x),
      ),
    tensor([0.1, 0.2]),
  );
  assert.deepEqual(J.shape, [3, 2]);
  close(J.data, [Math.cos(0.1), 2 * Math.cos(0.2), 3 * Math.cos(0.1), 4 * Math.cos(0.2), 5 * Math.cos(0.1), 6 * Math.cos(0.2)]);
  const Hv = hvp((x) => sum(mul(mul(x, x), x)), tensor([1, 2]), tensor([1, 1]));
  close(Hv.data, [6, 12]);
});

test('checkpoint keeps no intermediates and recomputes them in the backward pass', () => {
  let calls = 0;
  const f = (z: Tensor): Tensor => {
    calls++;
    return sin(mul(z, z));
  };
  const x = tensor([0.4, 0.9]).requireGrad();
  const [y] = checkpoint(f, x);
  assert.equal(y!.node!.op, 'checkpoint');
  assert.equal(y!.node!.inputs[0], x); // one node straight back to the input
  backward(sum(y!));
  assert.equal(calls, 2);
  close(
    x.grad!.data,
    [0.4, 0.9].map((v) => Math.cos(v * v) * 2 * v),
  );
});

test('the non-finite trap names the op and the first bad index', () => {
  setDebugNonFinite(true);
  try {
    const x = tensor([4, -1, 9]).requireGrad();
    assert.throws(
      () => sqrt(x),
      (e: unknown) => e instanceof NonFiniteError && e.op === 'sqrt' && e.index === 1 && e.phase === 'forward',
    );
    const y = tensor([1, 0]).requireGrad();
    const l = sum(mul(log(add(y, 1)), 1)); // finite forward
    assert.ok(Number.isFinite(l.item()));
    const z = tensor([0, 1]).requireGrad();
    const s = sum(sqrt(z)); // forward fine, backward has 1/(2*0) = Inf
    assert.throws(
      () => backward(s),
      (e: unknown) => e instanceof NonFiniteError && e.phase === 'backward' && e.op === 'sqrt' && e.index === 0,
    );
  } finally {
    setDebugNonFinite(false);
  }
});

test('gradients of a non-scalar output require its gradient and name the shape', () => {
  const x = tensor([1, 2]).requireGrad();
  assert.throws(() => gradients(mul(x, 2), [x]), /output 0 of shape \[2\] is not a scalar/);
});

test('a deep chain of 100k ops back-propagates without recursion limits', () => {
  let x = tensor([1.0001]).requireGrad();
  const x0 = x;
  for (let i = 0; i < 100000; i++) x = mul(x, 1);
  backward(sum(div(x, 1)));
  close(x0.grad!.data, [1]);
});

test('gradients reach only the requested inputs and skip unrelated branches', () => {
  const rng = new Rng(1);
  const a = randn([3], rng).requireGrad();
  const b = randn([3], rng).requireGrad();
  const y = sum(add(mul(a, 2), exp(b)));
  const [ga] = gradients(y, [a]);
  close(ga!.data, [2, 2, 2]);
  assert.equal(b.grad, null);
});

test('IMPULSE_DEBUG_NONFINITE=1 turns the non-finite trap on from the start of a process', async () => {
  const { spawnSync } = await import('node:child_process');
  const script = [
    "import { tensor, sqrt, sum, isDebugNonFinite } from './sim/core/index.ts';",
    'console.log(isDebugNonFinite());',
    'try { sum(sqrt(tensor([1, -1]).requireGrad())); console.log("no error"); } catch (e) { console.log(e.name, e.op, e.index); }',
  ].join('\n');
  const root = new URL('../..', import.meta.url).pathname;
  const run = (env: Record<string, string>) =>
    spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env } });
  const on = run({ IMPULSE_DEBUG_NONFINITE: '1' });
  assert.equal(on.stdout.trim(), 'true\nNonFiniteError sqrt 1', on.stderr);
  const off = run({ IMPULSE_DEBUG_NONFINITE: '' });
  assert.equal(off.stdout.trim(), 'false\nno error', off.stderr);
});
