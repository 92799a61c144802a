// Loads every module that registers gradient checks, so `impulse gradcheck` runs them all.
import '../sim/core/checks.ts';
import '../sim/linalg/checks.ts';
import '../models/implicit/checks-root.ts';
import '../models/implicit/checks-ode.ts';
import '../models/implicit/checks-qp.ts';
import '../sim/physics/checks.ts';
import '../sim/gpu/checks.ts';
import '../mpc/checks.ts';
import '../ego/checks.ts';
import '../experiments/mpc/checks.ts';
import '../ego/terrain/checks.ts';
