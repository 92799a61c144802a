// A first program with the float64 core: a gradient by reverse mode, checked against central
// differences. Run: npx tsx examples/api/first-gradient.ts
import { backward, gradcheck, mul, sin, sum, tensor } from 'impulse/sim';

const x = tensor([0.1, 0.2, 0.3]).requireGrad();
const y = sum(mul(sin(x), x));
backward(y);
console.log('d/dx sum(sin(x) x) =', x.grad!.toArray()); // cos(x) x + sin(x)
console.log('gradcheck max relative error', gradcheck((z) => sum(mul(sin(z), z)), [x]).maxRelErr.toExponential(2));
