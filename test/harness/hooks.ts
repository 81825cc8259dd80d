/**
 * Mocha Root Hook Plugin for the integration harness: load it with `--require dist/test/harness/hooks.js`
 * (or `"require"` in .mocharc.json). It stops every control plane and simulator after the whole run and
 * prints the kube-apiserver log tail after a failed integration/e2e test. Without it, the harness
 * registers the same hooks itself when a test file first imports it (see index.ts).
 */
import { markRootHooksRegistered, rootHooks } from './index.js';

markRootHooksRegistered();

export const mochaHooks = rootHooks;
