// PLACEHOLDER until the Jacobi kernel lands.
