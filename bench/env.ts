/**
 * The two environments the Node.js rows are timed in. Node 20 reads the certificates of NODE_EXTRA_CA_CERTS
 * when it starts, before any script runs: with this machine's setting (the system bundle, 144 certificates)
 * `node -e 0` takes 50 ms instead of 19 (nodejs/node#40524). Every Node.js process pays it, and Go's and
 * Bun's do not, so a ratio to `node -e 0` or to calicoctl means something else in each environment; the
 * benches time the Node.js builds in both when the variable is set (docs/benchmarks.md, "Start-up").
 */
export const EXTRA_CA = 'NODE_EXTRA_CA_CERTS';

/** Whether this environment sets NODE_EXTRA_CA_CERTS (the benches then add rows without it). */
export const extraCaSet = (env: NodeJS.ProcessEnv = process.env): boolean => Boolean(env[EXTRA_CA]);

/** `env` without NODE_EXTRA_CA_CERTS. */
export function withoutExtraCa(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out = { ...env };
  delete out[EXTRA_CA];
  return out;
}

/** The suffix of a row or goal timed without it. */
export const WITHOUT_EXTRA_CA = `without ${EXTRA_CA}`;
