// PLACEHOLDER until the EPnP kernel lands (being written): always fails, so only initPose works.
struct EpnpResult { R: mat3x3<f32>, t: vec3<f32>, ok: bool, }
fn epnp_init() -> EpnpResult { var r: EpnpResult; r.ok = false; return r; }
