/**
 * The WGSL EPnP library as one source: epnp.wgsl (the types, the outline and epnp_init) and its steps in
 * epnpControlPoints.wgsl, epnpBetas.wgsl and epnpPose.wgsl, split as their float64 twins in src/solver
 * are. WGSL declarations may come in any order, so the files are simply joined.
 */
import epnpWgsl from './epnp.wgsl?raw';
import epnpBetasWgsl from './epnpBetas.wgsl?raw';
import epnpControlPointsWgsl from './epnpControlPoints.wgsl?raw';
import epnpPoseWgsl from './epnpPose.wgsl?raw';

export const kEpnpWgsl = [epnpWgsl, epnpControlPointsWgsl, epnpBetasWgsl, epnpPoseWgsl].join('\n');
