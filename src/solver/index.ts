/**
 * The float64 PnP reference (docs/pnp-maths.md): the cpu backend of ops/bpnp and the truth the WGSL
 * kernels in src/kernels/ are tested against (their functions carry the same names in snake_case).
 */
export { solvePnpBatch, pnpBackwardBatch } from './pnp';
export type { PnpBatchInput, PnpBatchOutput, PnpBackwardInput, PnpBackwardOutput, PnpOptions } from './pnp';
export { PnpStatus, pnpStatusName, checkProblem, kMinPoints, kDegenerateRatio } from './status';
export type { PnpStatusCode } from './status';
export { lmRefine, lmCost, lmNormalEquations, createLmResult, focalScale, kLmDefaultsF64, kLmDefaultsF32 } from './lm';
export type { LmOptions, LmResult } from './lm';
export { upstreamToChart, accumulateHessian, pointGradients, pnpBackwardOne, kPointGradLength } from './backward';
export type { PnpGradOne } from './backward';
export { projectPoint, projectionDpi, projectionHpi, projectPoints } from './projection';
export { normalizePoints, normalizedImagePoints } from './normalize';
export { so3Exp, so3Log, so3LeftJacobian, so3LeftJacobianInv, so3LeftUpdate } from './so3';
export {
  mat3Mul, mat3Transpose, mat3Apply, mat3ApplyT, mat3Inverse, skew, cross3, dot3, norm3, allFinite, cholSolve6,
} from './linalg';
export type { Vec } from './linalg';
export { epnpInit } from './epnp';
export type { EpnpResult } from './epnp';
export { jacobiEigenSym } from './eigen';
