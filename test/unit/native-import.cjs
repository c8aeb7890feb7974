// Loads an ES module with Node's own loader, bypassing vitest's module runner, so the
// program under test runs exactly as `pulumi up` runs it (Node type stripping), and
// Pulumi can serialize its dynamic providers (it cannot serialize vite's import shim).
// Used by program.test.ts.
module.exports = (url) => import(url);
