// Public API of sim/gpu: the GPU backend of the physics engine through WebGPU (the optional
// npm package `webgpu`, Dawn): device selection with a software fallback (SwiftShader),
// batched float32 rollouts of particles and tracked point-set bodies on heightmap terrain with
// hand-written adjoint kernels in WGSL, and the rollout as one op of the float64 tape.
export {
  CHROMIUM_DIR,
  DEVICE_REQUESTS,
  GpuDeviceLostError,
  GpuLimitError,
  GpuUnavailableError,
  gpuNavigatorObject,
  openGpu,
  parseDeviceRequest,
  probeGpu,
  rerunWithSoftwareGpu,
  resolveDevice,
  softwareGpuEnv,
  softwareGpuNeedsRerun,
  type DeviceChoice,
  type DeviceRequest,
  type Gpu,
  type GpuInfo,
} from './device.ts';
export { GpuModelError, packModel, type GpuModelData } from './adapter.ts';
export { BATCH_FIELDS, GpuNonFiniteError, GpuRollout, type BatchState, type GpuGradients, type GpuRolloutOptions, type TrackController } from './engine.ts';
export { closedLoopRollout, modelTrackGeometry, trackControlForces, trackController, type ClosedLoopOptions, type TrackControlFn } from './controller.ts';
export { batchTensors, closeGpuThread, gpuInfoSync, gpuRollout, type BatchTensors, type GpuTapeOptions } from './tape.ts';
export { batchInitial, gpuFixture, trackForces, type FixtureOptions } from './demo-scene.ts';
export { runSceneFileGpu, type GpuSimRunOptions, type GpuSimRunResult } from './run.ts';
