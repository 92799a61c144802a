// Gradient checks of the track-speed controller's float64 twin (sim/gpu/controller.ts), the CPU
// reference the GPU controller kernels are tested against, registered for `impulse gradcheck`
// (central differences, float64, bar 1e-6 relative): the drive forces with respect to the
// bodies' state, the target speeds and both gains; and a short closed-loop rollout of the GPU
// demo scene with respect to the targets, kp and the initial velocity. The float32 GPU kernels
// themselves are checked against these in sim/gpu/gpu.test.ts.
import { Rng, Tensor, add, mul, registerGradcheck, sum, tensor } from '../core/index.ts';
import { State } from '../physics/index.ts';
import { closedLoopRollout, trackControlForces } from './controller.ts';
import { gpuFixture } from './demo-scene.ts';

function named(t: Tensor, name: string): Tensor {
  t.name = name;
  return t;
}

registerGradcheck('gpu.track_controller', () => {
  const m = gpuFixture({ particles: 0 });
  const s = m.state();
  const rng = new Rng(11);
  // a tilted, turning robot: every term of the measured speed is non-zero
  const q = [0.08, -0.05, 0.3, 0.95];
  const nq = Math.hypot(...q);
  return {
    fn: (rot, vel, om, targets, kp, fMax) => trackControlForces(m, new State({ ...s, bodyRot: rot!, bodyVel: vel!, bodyAngVel: om! }), targets!, kp!, fMax!),
    inputs: [
      named(tensor([q.map((v) => v / nq)]), 'bodyRot'),
      named(tensor([[0.3, 0.1, -0.02]]), 'bodyVel'),
      named(tensor([[0.05, -0.1, 0.4]]), 'bodyAngVel'),
      named(tensor(rng.normals(m.trackCount).map((v) => 0.3 + 0.1 * v)), 'targets'),
      named(tensor(40), 'kp'),
      named(tensor(15), 'fMax'),
    ],
  };
});

registerGradcheck('gpu.closed_loop_rollout', () => {
  const m = gpuFixture({ particles: 0 });
  const s0 = m.state();
  const T = 6;
  const nt = m.trackCount;
  return {
    fn: (targets, kp, vel) => {
      const rows = Array.from({ length: T }, (_, t) => mul(targets!, 1 + 0.05 * t));
      const [f] = closedLoopRollout(m, new State({ ...s0, bodyVel: vel! }), { steps: T, dt: 0.005, substeps: 2, targets: rows, kp: kp!, fMax: 15 });
      return add(sum(mul(f!.bodyPos, tensor([[1, 2, 3]]))), sum(f!.bodyVel));
    },
    inputs: [named(tensor(Array.from({ length: nt }, (_, k) => 0.35 + 0.1 * k)), 'targets'), named(tensor(40), 'kp'), named(s0.bodyVel.clone(), 'bodyVel')],
  };
});
