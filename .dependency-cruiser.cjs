// Folders of lib/ import one another in one direction only: a folder-level cycle fails `npm test`.
// Bottom to top: common, errors, proto, plan (service plans' pure decisions), orm, call,
// serializers, querying, auth, interfaces, decorators, planning (the plans of service classes),
// services, mixins, checks (start-up checks), transport (grpc-js calls), nest (binding services
// and controllers into Nest's pipeline), web, module, testing, cli.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-folder-cycles',
      severity: 'error',
      comment: 'A folder of lib/ takes part in an import cycle with other folders: move the shared piece down a layer.',
      scope: 'folder',
      from: { path: '^lib/' },
      to: { circular: true },
    },
  ],
  options: {
    // Type-only imports count: they tie folders together as much as value imports do.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^lib/',
  },
};
