// The tape of the float64 core: grad mode, op recording, the reverse pass and custom ops.
// The tape is dynamic (as in PyTorch): every result records the Node that produced it, and
// a reverse pass walks those nodes in reverse topological order. With `createGraph` the
// reverse pass itself is recorded, so gradients can be differentiated again (HVPs, argmin).
import { NonFiniteError, ShapeError, fmtShape } from './errors.ts';
import { sameShape } from './shape.ts';
import { Tensor, type GradAccumulator, type Node } from './tensor.ts';
import { add } from './ops/elementwise.ts';

let gradEnabled = true;
// IMPULSE_DEBUG_NONFINITE=1 in the environment switches the debug mode on from the start
let trapNonFinite = typeof process !== 'undefined' && process.env?.IMPULSE_DEBUG_NONFINITE === '1';

/** Whether ops are currently recorded. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs `fn` without recording ops (results do not require grad). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Runs `fn` with recording on or off. */
export function withGradMode<T>(enabled: boolean, fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = enabled;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/**
 * Debug mode: every op recorded on the tape checks its outputs (forward) and its input
 * gradients (backward) for NaN or Inf and throws a NonFiniteError naming the first op and
 * index. Costs a pass over every result; off by default, on from the start with the
 * environment variable IMPULSE_DEBUG_NONFINITE=1.
 */
export function setDebugNonFinite(on: boolean): void {
  trapNonFinite = on;
}

/** Whether the non-finite debug mode is on (see `setDebugNonFinite`). */
export function isDebugNonFinite(): boolean {
  return trapNonFinite;
}

function checkFinite(t: Tensor, op: string, phase: 'forward' | 'backward', what: string): void {
  const d = t.data;
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i]!)) {
      throw new NonFiniteError(`${op} (${phase}): ${what} has ${d[i]} at flat index ${i} (shape ${fmtShape(t.shape)})`, op, phase, i);
    }
  }
}

/** A single-output node (the common case), with its backward on the prototype. */
class Node1 implements Node {
  readonly outputs: readonly Tensor[];
  constructor(
    readonly op: string,
    readonly inputs: readonly Tensor[],
    out: Tensor,
    private readonly bw: (g: Tensor) => readonly (Tensor | null | undefined)[],
  ) {
    this.outputs = [out];
  }
  backward(gs: readonly (Tensor | null)[]): readonly (Tensor | null | undefined)[] {
    return this.bw(gs[0]!);
  }
}

/** True when an op on these inputs must be recorded. */
export function needsGrad(a: Tensor, b?: Tensor, c?: Tensor): boolean {
  return gradEnabled && (a.requiresGrad || (b !== undefined && b.requiresGrad) || (c !== undefined && c.requiresGrad));
}

/** True when any of the tensors requires grad and recording is on. */
export function anyNeedsGrad(ts: readonly Tensor[]): boolean {
  if (!gradEnabled) return false;
  for (const t of ts) if (t.requiresGrad) return true;
  return false;
}

/**
 * Records a single-output op. `backward(g)` returns one gradient per input (null for
 * inputs without one). Call only after computing `out`; cheap when nothing requires grad.
 */
export function record1(op: string, inputs: readonly Tensor[], out: Tensor, backward: (g: Tensor) => readonly (Tensor | null | undefined)[]): Tensor {
  if (trapNonFinite) checkFinite(out, op, 'forward', 'output');
  if (!anyNeedsGrad(inputs)) return out;
  out.requiresGrad = true;
  out.node = new Node1(op, inputs, out, backward);
  return out;
}

/** Records a multi-output op; see `customOp` for the user-facing form. */
export function recordN(op: string, inputs: readonly Tensor[], outputs: readonly Tensor[], backward: Node['backward']): readonly Tensor[] {
  if (trapNonFinite) outputs.forEach((o, i) => checkFinite(o, op, 'forward', `output ${i}`));
  if (!anyNeedsGrad(inputs)) return outputs;
  const node: Node = { op, inputs, outputs, backward };
  for (const o of outputs) {
    o.requiresGrad = true;
    o.node = node;
  }
  return outputs;
}

/**
 * A custom op with a hand-written backward: how physics kernels and implicit layers join
 * the tape. `forward` computes the outputs from the inputs' data (not recorded);
 * `backward` maps output gradients to input gradients. A backward written with plain
 * arrays is first order only; one written with the core's ops supports `createGraph`.
 * A first-order backward may add an input's gradient in place into `acc.into(i)` (when not
 * null) and return null for that input: a parameter shared by many recorded steps then
 * has one accumulator instead of one fresh gradient array per step (see GradAccumulator).
 *
 * @example
 * const [y] = customOp('square', [x], ([x]) => [mul(x, x)], ([g], [x]) => [mul(g, mul(2, x))]);
 */
export function customOp(
  name: string,
  inputs: readonly Tensor[],
  forward: (inputs: readonly Tensor[]) => readonly Tensor[],
  backward: (
    gradOutputs: readonly (Tensor | null)[],
    inputs: readonly Tensor[],
    outputs: readonly Tensor[],
    acc: GradAccumulator | null,
  ) => readonly (Tensor | null | undefined)[],
): Tensor[] {
  const detached = inputs.map((t) => (t.requiresGrad ? t.detach() : t));
  const outs = noGrad(() => forward(detached)).map((o) => (o.node || inputs.includes(o) ? o.detach() : o));
  recordN(name, inputs, outs, (gs, acc) => backward(gs, inputs, outs, acc ?? null));
  return outs;
}

/** Options of the reverse pass. */
export interface GradOptions {
  /** Record the reverse pass so its results can be differentiated again. */
  createGraph?: boolean;
  /** Return null (instead of throwing) for inputs the outputs do not depend on. */
  allowUnused?: boolean;
}

/**
 * Nodes reachable from `roots`, inputs before outputs. With `wanted`, only nodes through
 * which a gradient can reach a wanted tensor are kept.
 */
function topoOrder(roots: readonly Tensor[], wanted?: (t: Tensor) => boolean): Node[] {
  const order: Node[] = [];
  const relevant = new Set<Node>();
  const seen = new Set<Node>();
  const nodes: Node[] = [];
  const next: number[] = [];
  for (const r of roots) {
    if (!r.node || seen.has(r.node)) continue;
    seen.add(r.node);
    nodes.push(r.node);
    next.push(0);
    while (nodes.length) {
      const top = nodes.length - 1;
      const node = nodes[top]!;
      const i = next[top]!;
      if (i < node.inputs.length) {
        next[top] = i + 1;
        const nx = node.inputs[i]!.node;
        if (nx && !seen.has(nx)) {
          seen.add(nx);
          nodes.push(nx);
          next.push(0);
        }
      } else {
        nodes.pop();
        next.pop();
        if (wanted) {
          let rel = false;
          for (const inp of node.inputs) {
            if (wanted(inp) || (inp.node !== null && relevant.has(inp.node))) {
              rel = true;
              break;
            }
          }
          if (!rel) continue;
          relevant.add(node);
        }
        order.push(node);
      }
    }
  }
  return order; // inputs before outputs
}

// `owned` maps a key to the gradient buffer this pass allocated for it (safe to add into in place).
function accumulate(map: Map<Tensor, Tensor>, owned: Map<Tensor, Tensor>, key: Tensor, g: Tensor, createGraph: boolean): void {
  const prev = map.get(key);
  if (prev === undefined) {
    map.set(key, g);
    return;
  }
  if (createGraph) {
    map.set(key, add(prev, g));
    return;
  }
  const d = ownedGrad(map, owned, key);
  const e = g.data;
  for (let i = 0; i < d.length; i++) d[i]! += e[i]!;
}

/**
 * The buffer in which the pass sums `key`'s gradient, owned by the pass (created zero, or a
 * copy of a gradient it did not allocate, so adding into it in place is safe).
 */
function ownedGrad(map: Map<Tensor, Tensor>, owned: Map<Tensor, Tensor>, key: Tensor): Float64Array {
  const prev = map.get(key);
  if (prev !== undefined && owned.get(key) === prev) return prev.data;
  const t = new Tensor(prev === undefined ? new Float64Array(key.size) : new Float64Array(prev.data), key.shape);
  owned.set(key, t);
  map.set(key, t);
  return t.data;
}

/** What a first-order pass offers a node's backward: its inputs' owned accumulators (one instance per pass, `at` each node). */
class NodeAccumulator implements GradAccumulator {
  /** Inputs of the current node whose accumulator was handed out (checked by the non-finite trap). */
  readonly used: number[] = [];
  private node: Node | null = null;
  constructor(
    private readonly map: Map<Tensor, Tensor>,
    private readonly owned: Map<Tensor, Tensor>,
    private readonly keep: (t: Tensor) => boolean,
  ) {}
  at(node: Node): this {
    this.node = node;
    this.used.length = 0;
    return this;
  }
  into(i: number): Float64Array | null {
    const inp = this.node?.inputs[i];
    if (!inp || !inp.requiresGrad) return null;
    this.used.push(i);
    return ownedGrad(this.map, this.owned, inp);
  }
  consumed(j: number): boolean {
    const out = this.node?.outputs[j];
    return out !== undefined && !this.keep(out);
  }
}

function runReverse(
  outputs: readonly Tensor[],
  gradOutputs: readonly (Tensor | null)[],
  keep: (t: Tensor) => boolean,
  createGraph: boolean,
  wanted?: (t: Tensor) => boolean,
): Map<Tensor, Tensor> {
  const map = new Map<Tensor, Tensor>();
  const owned = new Map<Tensor, Tensor>();
  outputs.forEach((o, i) => {
    const g = gradOutputs[i];
    if (g) accumulate(map, owned, o, g, createGraph);
  });
  const order = topoOrder(outputs, wanted);
  const accumulator = createGraph ? null : new NodeAccumulator(map, owned, keep);
  withGradMode(createGraph, () => {
    for (let k = order.length - 1; k >= 0; k--) {
      const node = order[k]!;
      let gOuts: (Tensor | null)[];
      if (node.outputs.length === 1) {
        const o = node.outputs[0]!;
        const g = map.get(o);
        if (g === undefined) continue;
        if (!keep(o)) map.delete(o);
        gOuts = [g];
      } else {
        let any = false;
        gOuts = node.outputs.map((o) => {
          const g = map.get(o) ?? null;
          if (g) any = true;
          return g;
        });
        if (!any) continue;
        for (const o of node.outputs) if (!keep(o)) map.delete(o);
      }
      const acc = accumulator ? accumulator.at(node) : null;
      const gIns = node.backward(gOuts, acc);
      if (acc && trapNonFinite) for (const i of acc.used) checkFinite(map.get(node.inputs[i]!)!, node.op, 'backward', `gradient of input ${i} (accumulated)`);
      for (let i = 0; i < node.inputs.length; i++) {
        const inp = node.inputs[i]!;
        const g = gIns[i];
        if (!g || !inp.requiresGrad) continue;
        if (!sameShape(g.shape, inp.shape)) {
          throw new ShapeError(`backward of ${node.op}: gradient of input ${i} has shape ${fmtShape(g.shape)}, input has ${fmtShape(inp.shape)}`);
        }
        if (trapNonFinite) checkFinite(g, node.op, 'backward', `gradient of input ${i}`);
        accumulate(map, owned, inp, g, createGraph);
      }
    }
  });
  return map;
}

function seedGrads(outputs: readonly Tensor[], gradOutputs: readonly (Tensor | null | undefined)[] | undefined): (Tensor | null)[] {
  return outputs.map((o, i) => {
    const g = gradOutputs?.[i];
    if (g) {
      if (!sameShape(g.shape, o.shape)) throw new ShapeError(`grad: gradient for output ${i} has shape ${fmtShape(g.shape)}, output has ${fmtShape(o.shape)}`);
      return g;
    }
    if (o.size !== 1) throw new ShapeError(`grad: output ${i} of shape ${fmtShape(o.shape)} is not a scalar; pass its gradient`);
    return new Tensor(new Float64Array(1).fill(1), o.shape);
  });
}

/**
 * Gradients of `outputs` with respect to `inputs` (any tensors on the graph, leaves or
 * not), without touching `.grad`. Like torch.autograd.grad.
 */
export function gradients(
  outputs: Tensor | readonly Tensor[],
  inputs: readonly Tensor[],
  gradOutputs?: readonly (Tensor | null | undefined)[],
  opts: GradOptions = {},
): (Tensor | null)[] {
  const outs = outputs instanceof Tensor ? [outputs] : outputs;
  const wanted = new Set(inputs);
  const isWanted = (t: Tensor): boolean => wanted.has(t);
  const map = runReverse(outs, seedGrads(outs, gradOutputs), isWanted, opts.createGraph ?? false, isWanted);
  return inputs.map((t, i) => {
    const g = map.get(t) ?? null;
    if (!g && !opts.allowUnused && !outs.includes(t)) {
      if (!t.requiresGrad) throw new Error(`grad: input ${i}${t.name ? ` (${t.name})` : ''} does not require grad`);
    }
    return g;
  });
}

/**
 * Reverse pass from a scalar loss: accumulates d loss / d leaf into every reached leaf's
 * `.grad` (adding to what is there; call `zeroGrad` between steps).
 */
export function backward(loss: Tensor, opts: GradOptions & { grad?: Tensor } = {}): void {
  if (!loss.requiresGrad) throw new Error('backward: the loss does not require grad (no input requires grad, or it was computed under noGrad)');
  const map = runReverse([loss], seedGrads([loss], [opts.grad]), (t) => !t.node, opts.createGraph ?? false);
  for (const [t, g] of map) {
    if (t.node || !t.requiresGrad) continue;
    t.grad = t.grad ? withGradMode(opts.createGraph ?? false, () => add(t.grad!, g)) : g;
  }
}

/** Clears `.grad` of every tensor given. */
export function zeroGrad(tensors: Iterable<Tensor>): void {
  for (const t of tensors) t.grad = null;
}
