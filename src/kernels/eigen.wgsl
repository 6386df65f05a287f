// Symmetric eigendecomposition by cyclic Jacobi rotations (Golub & Van Loan, Matrix Computations, 8.5),
// f32, one problem per thread, in private arrays. Twin of src/solver/eigen.ts (jacobiEigenSym).
//
// A library: concatenated into a kernel by the host (common + eigen.wgsl + the EPnP library of epnpWgsl.ts + kernel); it declares
// no bindings and no overrides.
//
// Storage: a d x d matrix (d <= 12) lives row-major in a JacobiMat with stride d: entry (i, j) at i*d + j.
// Eigenvectors are the columns: component i of vector j at i*d + j (as in the TypeScript twin).

const kJacobiMaxDim: u32 = 12u;
alias JacobiMat = array<f32, 144>;
alias JacobiVec = array<f32, 12>;

// Rotation angle's tangent for the 2x2 pivot [[app, apq], [apq, aqq]] (G&VL sym.schur2), the smaller root,
// guarded for |theta| large (apq tiny against the diagonal gap) where theta^2 would overflow.
fn jacobi_tangent(app: f32, aqq: f32, apq: f32) -> f32 {
  let theta = (aqq - app) / (2.0 * apq);
  if (abs(theta) > 1e15) {
    return 0.5 / theta;
  }
  let sgn = select(-1.0, 1.0, theta >= 0.0);
  return sgn / (abs(theta) + sqrt(theta * theta + 1.0));
}

// a: the symmetric matrix, DESTROYED (left nearly diagonal). Writes the eigenvalues ascending to
// values[0 .. d) and the matching unit eigenvectors as the columns of vectors (stride d). max_sweeps caps the
// cyclic sweeps; it stops earlier once the off-diagonal mass is below f32 resolution of the matrix norm.
fn jacobi_eigen_sym(a: ptr<function, JacobiMat>, d: u32, values: ptr<function, JacobiVec>,
                    vectors: ptr<function, JacobiMat>, max_sweeps: u32) {
  for (var i = 0u; i < d * d; i++) {
    (*vectors)[i] = 0.0;
  }
  var frob = 0.0;
  for (var i = 0u; i < d; i++) {
    (*vectors)[i * d + i] = 1.0;
    for (var j = 0u; j < d; j++) {
      frob += (*a)[i * d + j] * (*a)[i * d + j];
    }
  }
  for (var sweep = 0u; sweep < max_sweeps; sweep++) {
    var off = 0.0;
    for (var p = 0u; p < d; p++) {
      for (var q = p + 1u; q < d; q++) {
        off += (*a)[p * d + q] * (*a)[p * d + q];
      }
    }
    // Off-diagonal below (f32 epsilon x |A|_F)^2: the rotations can no longer change anything.
    if (off <= 1e-15 * frob || off < 1e-36) {
      break;
    }
    for (var p = 0u; p < d; p++) {
      for (var q = p + 1u; q < d; q++) {
        let apq = (*a)[p * d + q];
        if (abs(apq) < 1e-30) {
          continue;
        }
        let t = jacobi_tangent((*a)[p * d + p], (*a)[q * d + q], apq);
        let c = inverseSqrt(t * t + 1.0);
        let s = t * c;
        // A <- A J (columns p, q), then A <- J^T A (rows p, q), V <- V J.
        for (var k = 0u; k < d; k++) {
          let akp = (*a)[k * d + p];
          let akq = (*a)[k * d + q];
          (*a)[k * d + p] = c * akp - s * akq;
          (*a)[k * d + q] = s * akp + c * akq;
        }
        for (var k = 0u; k < d; k++) {
          let apk = (*a)[p * d + k];
          let aqk = (*a)[q * d + k];
          (*a)[p * d + k] = c * apk - s * aqk;
          (*a)[q * d + k] = s * apk + c * aqk;
        }
        for (var k = 0u; k < d; k++) {
          let vkp = (*vectors)[k * d + p];
          let vkq = (*vectors)[k * d + q];
          (*vectors)[k * d + p] = c * vkp - s * vkq;
          (*vectors)[k * d + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  for (var i = 0u; i < d; i++) {
    (*values)[i] = (*a)[i * d + i];
  }
  // Selection sort, ascending, swapping the eigenvector columns along (d <= 12).
  for (var i = 0u; i < d; i++) {
    var best = i;
    for (var j = i + 1u; j < d; j++) {
      if ((*values)[j] < (*values)[best]) {
        best = j;
      }
    }
    if (best != i) {
      let tv = (*values)[i];
      (*values)[i] = (*values)[best];
      (*values)[best] = tv;
      for (var k = 0u; k < d; k++) {
        let tk = (*vectors)[k * d + i];
        (*vectors)[k * d + i] = (*vectors)[k * d + best];
        (*vectors)[k * d + best] = tk;
      }
    }
  }
}
