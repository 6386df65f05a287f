/**
 * The one bridge between tfjs tensors and the raw GPUBuffers the PnP kernels run over: input tensors
 * hand over their own buffers (uploaded if they still live on the CPU) and outputs are tensors whose
 * buffers the backend allocated, so nothing is copied and nothing crosses to the CPU.
 */
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';

export function webgpuBackend(): WebGPUBackend | null {
  return tf.getBackend() === 'webgpu' ? (tf.backend() as WebGPUBackend) : null;
}

/** The tensor's own storage buffer on the backend's device. */
export function tensorBuffer(backend: WebGPUBackend, t: tf.Tensor): GPUBuffer {
  backend.uploadToGPU(t.dataId);
  const resource = backend.tensorMap.get(t.dataId).resource;
  if (!(resource instanceof GPUBuffer)) {
    throw new Error(`bpnp: tensor of shape [${t.shape}] is held in a ${resource?.constructor.name ?? 'missing'} resource, not a GPUBuffer`);
  }
  return resource;
}

/** A new tensor whose GPU buffer the backend allocates and owns; its contents are for a kernel to write. */
export function emptyTensor(backend: WebGPUBackend, shape: number[], dtype: 'float32' | 'int32'): { tensor: tf.Tensor; buffer: GPUBuffer } {
  const info = backend.makeTensorInfo(shape, dtype);
  backend.uploadToGPU(info.dataId);
  const tensor = tf.engine().makeTensorFromTensorInfo(info, backend);
  return { tensor, buffer: tensorBuffer(backend, tensor) };
}

/** Submits the backend's pending commands, so that work we submit afterwards sees their results. */
export function flushBackend(backend: WebGPUBackend): void {
  backend.ensureCommandEncoderReady();
  backend.endComputePassEncoder();
  backend.submitQueue();
}
