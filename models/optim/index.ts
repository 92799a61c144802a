// Public API of models/optim: optimisers over float64 leaf tensors.
export { Adam } from './adam.ts';
