/**
 * The dependency rules of src/ (docs/architecture.md): `npm run depcheck`, run by .ci/run before
 * the tests. A broken rule fails the check with the rule's name and the offending import.
 *
 * Layers, bottom up:
 *   leaves  src/{config,errors,log,time,version}.ts, src/sdk/ (the signature scheme)
 *   db      the database (connection, schema, migrations, dialect differences)
 *   delivery the engine: queue, claim, attempt, sender, dispatcher
 *   core    orders/, webhooks/, store-events/ (with db/ and delivery/ below them)
 *   fronts  api/, dashboard/, legacy/, toolkit/, ops/, admin/, commands/, cli.ts, server.ts
 */
const LEAVES = '^src/(config|errors|log|money|time|version)[.]ts$';
const CORE = '^src/(orders|catalogue|customers|webhooks|delivery|db|store-events)/';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No module imports itself back through others at run time (a cycle of type-only imports, like migrations naming their index type, is erased).',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'no-folder-cycles',
      comment: 'Folders depend one way: no two folders import each other, directly or around a ring.',
      severity: 'error',
      scope: 'folder',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'delivery-only-down',
      comment: 'The delivery engine imports only db/, the leaves (config, errors, log, time, version) and sdk/ (signatures), never what sits on it.',
      severity: 'error',
      from: { path: '^src/delivery/' },
      to: { path: '^src/', pathNot: ['^src/delivery/', '^src/db/', '^src/sdk/', LEAVES] },
    },
    {
      name: 'delivery-knows-no-topics',
      comment: 'A message carries what delivery needs (content_type, max_attempts); delivery/ never imports a topic catalogue to decide (test/delivery/no-topics.test.ts also greps for topic names).',
      severity: 'error',
      from: { path: '^src/delivery/' },
      to: { path: '^src/(webhooks|orders|legacy)/' },
    },
    {
      name: 'front-ends-read-the-queue-through-views',
      comment: 'One owner of webhook_messages: front ends read it through delivery/queue-views.ts and change it only through webhooks/ (operations, outbox), never with the write side delivery/queue.ts. dependency-cruiser cannot see SQL; test/delivery/queue-owner.test.ts fails when a module outside delivery/ names the table.',
      severity: 'error',
      from: { path: '^src/(api|dashboard|legacy|toolkit|ops|admin|commands)/|^src/(server|cli)[.]ts$' },
      to: { path: '^src/delivery/queue[.]ts$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'db-only-down',
      comment: 'db/ is the bottom layer: it imports only itself and the leaves.',
      severity: 'error',
      from: { path: '^src/db/' },
      to: { path: '^src/', pathNot: ['^src/db/', LEAVES] },
    },
    {
      name: 'only-db-imports-drivers',
      comment: 'SQLite or PostgreSQL is decided in db/: only db/ imports the drivers pg and better-sqlite3.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/db/' },
      to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'], path: '^(pg|better-sqlite3)$|node_modules/(pg|better-sqlite3)/' },
    },
    {
      name: 'orders-not-to-api',
      comment: 'orders/ owns the Order contract; the HTTP API imports it, never the other way round.',
      severity: 'error',
      from: { path: '^src/orders/' },
      to: { path: '^src/api/' },
    },
    {
      name: 'catalogue-below-orders',
      comment: 'Orders take stock (orders/ imports catalogue/); the catalogue and customers never import orders/, the API, or each other the other way round.',
      severity: 'error',
      from: { path: '^src/(catalogue|customers)/' },
      to: { path: '^src/(orders|api|webhooks)/' },
    },
    {
      name: 'catalogue-not-to-customers',
      comment: 'customers/ uses the catalogue event sink; the catalogue knows nothing of customers.',
      severity: 'error',
      from: { path: '^src/catalogue/' },
      to: { path: '^src/customers/' },
    },
    {
      name: 'core-not-to-front-ends',
      comment: 'The core (orders, webhooks, store-events, delivery, db) knows nothing of its front ends: the legacy bridge plugs in through the OrderEventSink decorator.',
      severity: 'error',
      from: { path: CORE },
      to: { path: '^src/(legacy|dashboard|api|toolkit|ops|admin|commands|client)/|^src/(server|cli)[.]ts$' },
    },
    {
      name: 'cli-registration-stays-light',
      comment: 'Registering the commands runs on every call, --help and usage errors too: cli.ts, commands/support.ts, legacy/commands.ts and toolkit/commands.ts import only commander and these light modules, and an action loads its implementation (database layer, server, HTTP client) with await import(). test/cli/lazy-loading.test.ts checks what a run actually loads.',
      severity: 'error',
      from: { path: '^src/(cli|commands/support|legacy/commands|toolkit/commands)[.]ts$' },
      to: {
        dependencyTypesNot: ['dynamic-import', 'type-only', 'core'],
        pathNot: ['^src/(config|version)[.]ts$', '^src/commands/support[.]ts$', '^src/legacy/commands[.]ts$', '^src/toolkit/(commands|common|trigger)[.]ts$', '^src/orders/(topics|expands)[.]ts$', '^src/sdk/verify[.]ts$', 'node_modules/commander/'],
      },
    },
    {
      name: 'no-orphans',
      comment: 'A module nothing imports is dead code (entry points and the published subpaths excepted).',
      severity: 'error',
      from: { orphan: true, pathNot: ['[.]d[.]ts$', '^src/cli[.]ts$', '^src/sdk/verify[.]ts$', '^src/client/index[.]ts$'] },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js', '.json'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
